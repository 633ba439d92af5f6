#!/usr/bin/env bash
# Debian's chromium for the browser tests (tests/browser, Playwright drives /usr/bin/chromium; nothing is
# downloaded by Playwright). Installed with apt-get when missing: as root, else with sudo if there is one.
# If it cannot be installed, say why and carry on: the browser tests then skip with that reason (fail under CI).
set -uo pipefail
if command -v chromium >/dev/null 2>&1 && [[ -x /usr/bin/chromium ]]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium missing and no apt-get here: browser tests will be skipped (install Debian's chromium)." >&2
  exit 0
fi
if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
elif command -v sudo >/dev/null 2>&1 && [[ -t 0 ]]; then
  as_root=(sudo)  # asks for the password on this terminal
else
  echo "chromium missing and not root (no sudo usable without a terminal): browser tests will be skipped." >&2
  echo "  install it with: sudo apt-get install chromium" >&2
  exit 0
fi
echo "Installing Debian's chromium for the browser tests ..."
if "${as_root[@]}" apt-get update -qq \
   && "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
  echo "chromium installed: $(/usr/bin/chromium --version 2>/dev/null)"
else
  echo "installing chromium failed: browser tests will be skipped (fail under CI=true)." >&2
fi
exit 0
