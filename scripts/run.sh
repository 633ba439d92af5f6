#!/usr/bin/env bash
# Start the action server, the adviser console and the Rasa server; one Ctrl-C stops all three.
# Secrets (console session key, inbound token shared by Rasa's REST channel and the console, Rasa's API token)
# are generated once into var/secrets.env (mode 600, gitignored); values already set in the environment win.
set -euo pipefail
mkdir -p var/log

: "${RASA_PORT:=5005}" "${ACTION_PORT:=5055}" "${CONSOLE_PORT:=8000}"
: "${CONSOLE_HOST:=127.0.0.1}"
: "${RASA_URL:=http://127.0.0.1:$RASA_PORT}" "${CONSOLE_URL:=http://127.0.0.1:$CONSOLE_PORT}"
export RASA_PORT ACTION_PORT CONSOLE_PORT CONSOLE_HOST RASA_URL CONSOLE_URL

secrets_file=var/secrets.env
( umask 077; touch "$secrets_file" )
for name in CONSOLE_SECRET_KEY CONSOLE_INBOUND_TOKEN RASA_TOKEN; do
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

.venv/bin/python -m rasa_sdk --actions actions --port "$ACTION_PORT" --endpoints bot/endpoints.yml > >(tee var/log/actions.log) 2>&1 &
pids+=($!)
.venv/bin/python -m channels.console > >(tee var/log/console.log) 2>&1 &
pids+=($!)
PYTHONWARNINGS=ignore::DeprecationWarning .venv-rasa/bin/rasa run --model models/bot.tar.gz --enable-api \
  --auth-token="$RASA_TOKEN" --port "$RASA_PORT" \
  --endpoints bot/endpoints.yml --credentials bot/credentials.yml --cors "*" > >(tee var/log/rasa.log) 2>&1 &
pids+=($!)

ready=""
for _ in $(seq 1 180); do
  if curl -fs "http://127.0.0.1:$RASA_PORT/status?token=$RASA_TOKEN" >/dev/null 2>&1 \
     && curl -fs "http://127.0.0.1:$ACTION_PORT/health" >/dev/null 2>&1 \
     && curl -fs "http://127.0.0.1:$CONSOLE_PORT/healthz" >/dev/null 2>&1; then
    ready=yes; break
  fi
  sleep 1
done
if [[ -z "$ready" ]]; then
  echo "Not every server answered after 180 s; see var/log/{rasa,actions,console}.log." >&2
fi
cat <<MSG

  Berufsorientierungs-Assistent Hessen is running.
    Rasa server:      http://127.0.0.1:$RASA_PORT   (REST: /webhooks/rest/webhook, poll adviser replies:
                      /webhooks/rest/outbox?sender=ID; HTTP API needs ?token=\$RASA_TOKEN from $secrets_file)
    Action server:    http://127.0.0.1:$ACTION_PORT/health
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
