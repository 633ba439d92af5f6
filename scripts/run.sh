#!/usr/bin/env bash
# Start the action server, the adviser console, the web chat page, the Rasa server and (with TELEGRAM_BOT_TOKEN)
# the Telegram bridge; one Ctrl-C stops them all.
# Secrets (console session key, inbound token shared by Rasa's REST channel and the console, Rasa's API token)
# are generated once into var/secrets.env (mode 600, gitignored); values already set in the environment win.
set -euo pipefail
mkdir -p var/log

# Ports, URLs and paths: resolved by the one settings module (defaults live there, values set in the environment
# win); with TELEGRAM_BOT_TOKEN set this also gives the console the bridge's push URL.
settings_exports=$(.venv/bin/python -m core.settings shell) || exit 2
eval "$settings_exports"

secrets_file=var/secrets.env
( umask 077; touch "$secrets_file" )
# FACEBOOK_*: placeholders until a Meta app is configured (bot/credentials.yml reads them; random values make the
# Messenger webhook reject every request).
# TELEGRAM_WEBHOOK_SECRET: the secret token Telegram sends with every webhook request (webhook mode only).
for name in CONSOLE_SECRET_KEY CONSOLE_INBOUND_TOKEN RASA_TOKEN PSEUDONYM_KEY FACEBOOK_VERIFY_TOKEN FACEBOOK_SECRET \
            FACEBOOK_PAGE_ACCESS_TOKEN TELEGRAM_WEBHOOK_SECRET; do
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

pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "Stopping ..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "Stopped."
}
trap stop INT TERM EXIT

# Request size limits (bytes, from core/settings.py): Sanic reads SANIC_REQUEST_MAX_SIZE, separately per process.
# Internal services listen on loopback unless RASA_HOST / ACTION_HOST say otherwise (rasa_sdk reads SANIC_HOST).
SANIC_REQUEST_MAX_SIZE="$ACTION_REQUEST_MAX_SIZE" SANIC_HOST="$ACTION_HOST" \
  .venv/bin/python -m rasa_sdk --actions actions --port "$ACTION_PORT" --endpoints bot/endpoints.yml > >(tee var/log/actions.log) 2>&1 &
pids+=($!)
.venv/bin/python -m channels.console > >(tee var/log/console.log) 2>&1 &
pids+=($!)
.venv/bin/python -m channels.webchat > >(tee var/log/webchat.log) 2>&1 &
pids+=($!)
if [[ -n "${TELEGRAM_BOT_TOKEN:-}" ]]; then
  .venv/bin/python -m channels.telegram > >(tee var/log/telegram.log) 2>&1 &
  pids+=($!)
  telegram_line="Telegram bridge:  $TELEGRAM_MODE mode, http://$TELEGRAM_HOST:$TELEGRAM_PORT/healthz (log: var/log/telegram.log)"
else
  telegram_line="Telegram bridge:  off (set TELEGRAM_BOT_TOKEN, see README)"
fi
SANIC_REQUEST_MAX_SIZE="$RASA_REQUEST_MAX_SIZE" PYTHONWARNINGS=ignore::DeprecationWarning \
  .venv-rasa/bin/rasa run --model models/bot.tar.gz --enable-api \
  --auth-token="$RASA_TOKEN" --interface "$RASA_HOST" --port "$RASA_PORT" \
  --endpoints bot/endpoints.yml --credentials bot/credentials.yml --cors "*" > >(tee var/log/rasa.log) 2>&1 &
pids+=($!)

ready=""
for _ in $(seq 1 180); do
  if curl -fs "http://127.0.0.1:$RASA_PORT/status?token=$RASA_TOKEN" >/dev/null 2>&1 \
     && curl -fs "http://127.0.0.1:$ACTION_PORT/health" >/dev/null 2>&1 \
     && curl -fs "http://127.0.0.1:$CONSOLE_PORT/healthz" >/dev/null 2>&1 \
     && curl -fs "http://127.0.0.1:$WEBCHAT_PORT/healthz" >/dev/null 2>&1; then
    ready=yes; break
  fi
  sleep 1
done
if [[ -z "$ready" ]]; then
  echo "Not every server answered after 180 s; see var/log/{rasa,actions,console,webchat,telegram}.log." >&2
fi
cat <<MSG

  Berufsorientierungs-Assistent Hessen is running.
    Rasa server:      http://127.0.0.1:$RASA_PORT   (REST: /webhooks/rest/webhook, poll adviser replies:
                      /webhooks/rest/outbox?sender=ID; HTTP API needs ?token=\$RASA_TOKEN from $secrets_file)
    Action server:    http://127.0.0.1:$ACTION_PORT/health
    Web chat:         http://$WEBCHAT_HOST:$WEBCHAT_PORT/   (the browser talks to Rasa at $WEBCHAT_RASA_URL)
    $telegram_line
    Messenger:        Rasa's connector at /webhooks/facebook/webhook (placeholders until FACEBOOK_* are set)
    Adviser console:  http://$CONSOLE_HOST:$CONSOLE_PORT/
                      log in as "${CONSOLE_ADMIN_USER:-admin}" with the password printed above when the account
                      was created (CONSOLE_ADMIN_USER / CONSOLE_ADMIN_PASSWORD set it); more accounts:
                      .venv/bin/python -m channels.console.cli create-user NAME --role adviser
  Talk to it:
    make shell           (in a second terminal)
    curl -s -XPOST http://127.0.0.1:$RASA_PORT/webhooks/rest/webhook \\
         -H 'Content-Type: application/json' -d '{"sender":"me","message":"Was ist BAB?"}'
  Ctrl-C stops everything.

MSG
wait -n "${pids[@]}" || true
