#!/usr/bin/env bash
# Debian's nginx (package nginx-light) for tests/ops/test_nginx.py, which checks deploy/nginx/ with `nginx -t`.
# Installed with apt-get when missing: as root, else with sudo if there is one. The service is not started (the
# test runs `nginx -t` in a temporary prefix). If it cannot be installed, say why and carry on: the test then
# skips with that reason (and fails under CI=true).
set -uo pipefail
if command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "nginx missing and no apt-get here: the nginx config test will be skipped (install Debian's nginx-light)." >&2
  exit 0
fi
if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "nginx missing and not root (no sudo without a password): the nginx config test will be skipped." >&2
  echo "  install it with: sudo apt-get install nginx-light" >&2
  exit 0
fi
echo "Installing Debian's nginx-light for the nginx config test ..."
# policy-rc.d: do not start the nginx service on installation (101 = action forbidden); only if none exists
created_policy=""
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${as_root[@]}" tee /usr/sbin/policy-rc.d >/dev/null \
    && "${as_root[@]}" chmod +x /usr/sbin/policy-rc.d && created_policy=yes
fi
if "${as_root[@]}" apt-get update -qq \
   && "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; then
  echo "nginx installed: $(/usr/sbin/nginx -v 2>&1)"
else
  echo "installing nginx failed: the nginx config test will be skipped (fails under CI=true)." >&2
fi
[[ -n "$created_policy" ]] && "${as_root[@]}" rm -f /usr/sbin/policy-rc.d
exit 0
