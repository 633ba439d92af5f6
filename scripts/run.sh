#!/usr/bin/env bash
# Start the action server, the adviser console, the web chat page, the Rasa server and (with TELEGRAM_BOT_TOKEN)
# the Telegram bridge under supervisor (supervisord in the foreground): a process that dies is restarted within
# seconds (back-off while it keeps failing at start), the others keep running; logs go to $RUN_DIR/log/ (default
# var/log/) with rotation; one Ctrl-C stops everything. Status and restarts by hand:
#   .venv/bin/supervisorctl -c var/supervisord.conf status|restart NAME
# Secrets are generated once into $RUN_DIR/secrets.env (mode 600, gitignored); values already set in the
# environment win. Each process gets only the variables it needs (core/stack.py; supervisord runs with `env -i`).
set -euo pipefail

# Ports, URLs and paths: resolved by the one settings module (defaults live there, values set in the environment
# win); with TELEGRAM_BOT_TOKEN set this also gives the console the bridge's push URL.
settings_exports=$(.venv/bin/python -m core.settings shell) || exit 2
eval "$settings_exports"
( umask 077; mkdir -p "$RUN_DIR/log" )

secrets_file=$RUN_DIR/secrets.env
( umask 077; touch "$secrets_file" )
# FACEBOOK_*: placeholders until a Meta app is configured (bot/credentials.yml reads them; random values make the
# Messenger webhook reject every request).
# TELEGRAM_WEBHOOK_SECRET: the secret token Telegram sends with every webhook request (webhook mode only).
# ACTION_SERVER_TOKEN: Rasa sends it as X-Action-Token (bot/endpoints.yml), the action server requires it.
for name in CONSOLE_SECRET_KEY CONSOLE_INBOUND_TOKEN RASA_TOKEN PSEUDONYM_KEY ACTION_SERVER_TOKEN REST_SESSION_KEY \
            FACEBOOK_VERIFY_TOKEN FACEBOOK_SECRET FACEBOOK_PAGE_ACCESS_TOKEN TELEGRAM_WEBHOOK_SECRET; do
  if [[ -n "${!name:-}" ]]; then
    continue
  fi
  value=$(sed -n "s/^$name=//p" "$secrets_file" | tail -n 1)
  if [[ -z "$value" ]]; then
    value=$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(32))')
    echo "$name=$value" >> "$secrets_file"
    echo "Generated $name (stored in $secrets_file)."
  fi
  printf -v "$name" '%s' "$value"
  export "${name?}"
done

# The first admin account of the console: CONSOLE_ADMIN_USER / CONSOLE_ADMIN_PASSWORD, or "admin" with a
# generated password that is printed here once.
.venv/bin/python -m channels.console.cli ensure-admin

# The supervisor configuration with each program's command line and environment (mode 0600: it holds secrets).
conf=$(.venv/bin/python -m core.stack write-config) || exit 2
mapfile -t health < <(.venv/bin/python -m core.stack health-urls)

# supervisord gets an empty environment: the programs get only what their [program:…] section lists.
env -i PATH="/usr/local/bin:/usr/bin:/bin" HOME="$HOME" LANG="${LANG:-C.UTF-8}" \
  .venv/bin/supervisord -c "$conf" &
supervisor=$!
stop() {
  trap - INT TERM
  echo; echo "Stopping ..."
  kill -TERM "$supervisor" 2>/dev/null || true
  wait "$supervisor" 2>/dev/null || true
  echo "Stopped."
  exit "${stop_code:-0}"
}
trap stop INT TERM

# Ready when every process answers its health check (/health, /healthz, Rasa's /). "is running." is printed only
# then: on a busy machine loading the model can take longer than 300 s - after that a note says so and the wait
# goes on; a program that supervisor gave up on (FATAL: it kept crashing at start) ends the wait with its name.
ready=""
warned=""
started=$SECONDS
while [[ -z "$ready" ]]; do
  kill -0 "$supervisor" 2>/dev/null || { echo "supervisord ended; see $RUN_DIR/log/supervisord.log" >&2; exit 1; }
  ready=yes
  for line in "${health[@]}"; do
    curl -fs -o /dev/null --max-time 2 "${line#* }" || { ready=""; break; }
  done
  [[ -n "$ready" ]] && break
  if fatal=$(.venv/bin/supervisorctl -c "$conf" status 2>/dev/null | awk '$2 == "FATAL" {print $1}') \
      && [[ -n "$fatal" ]]; then
    echo "Not running: supervisor gave up on $(echo $fatal) (crashed at every start); see $RUN_DIR/log/." >&2
    stop_code=1 stop
  fi
  if [[ -z "$warned" ]] && (( SECONDS - started > 300 )); then
    echo "Still starting after 300 s (waiting for: ${line%% *}); logs in $RUN_DIR/log/." >&2
    warned=yes
  fi
  sleep 1
done
if [[ -n "${TELEGRAM_BOT_TOKEN:-}" ]]; then
  telegram_line="Telegram bridge:  $TELEGRAM_MODE mode, http://$TELEGRAM_HOST:$TELEGRAM_PORT/healthz (log: $RUN_DIR/log/telegram.log)"
else
  telegram_line="Telegram bridge:  off (set TELEGRAM_BOT_TOKEN, see README)"
fi
cat <<MSG

  Berufsorientierungs-Assistent Hessen is running.
    Rasa server:      http://127.0.0.1:$RASA_PORT   (REST: /webhooks/rest/webhook, poll adviser replies:
                      /webhooks/rest/outbox?sender=ID; HTTP API needs ?token=\$RASA_TOKEN from $secrets_file)
    Action server:    http://127.0.0.1:$ACTION_PORT/health   (only Rasa may call it: X-Action-Token)
    Web chat:         http://$WEBCHAT_HOST:$WEBCHAT_PORT/   (the browser talks to Rasa at $WEBCHAT_RASA_URL)
    $telegram_line
    Messenger:        Rasa's connector at /webhooks/facebook/webhook (placeholders until FACEBOOK_* are set)
    Adviser console:  http://$CONSOLE_HOST:$CONSOLE_PORT/
                      log in as "${CONSOLE_ADMIN_USER:-admin}" with the password printed above when the account
                      was created (CONSOLE_ADMIN_USER / CONSOLE_ADMIN_PASSWORD set it); more accounts:
                      .venv/bin/python -m channels.console.cli create-user NAME --role adviser
  Processes run under supervisor (restarted when they die); logs in $RUN_DIR/log/; status:
    .venv/bin/supervisorctl -c $conf status
  Talk to it:
    make shell           (in a second terminal)
    curl -s -XPOST http://127.0.0.1:$RASA_PORT/webhooks/rest/webhook \\
         -H 'Content-Type: application/json' -d '{"sender":"me","message":"Was ist BAB?"}'
  Ctrl-C stops everything.

MSG
wait "$supervisor" || true
