#!/usr/bin/env bash
# Start the action server and the Rasa server; one Ctrl-C stops both.
set -euo pipefail
mkdir -p var/log
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
PYTHONWARNINGS=ignore::DeprecationWarning .venv-rasa/bin/rasa run --model models/bot.tar.gz --enable-api --port "$RASA_PORT" \
  --endpoints bot/endpoints.yml --credentials bot/credentials.yml --cors "*" > >(tee var/log/rasa.log) 2>&1 &
pids+=($!)

for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$RASA_PORT/status" >/dev/null 2>&1 && curl -fs "http://127.0.0.1:$ACTION_PORT/health" >/dev/null 2>&1 && break
  sleep 1
done
cat <<MSG

  Berufsorientierungs-Assistent Hessen is running.
    Rasa server:    http://127.0.0.1:$RASA_PORT   (REST: /webhooks/rest/webhook, API enabled)
    Action server:  http://127.0.0.1:$ACTION_PORT/health
  Talk to it:
    make shell           (in a second terminal)
    curl -s -XPOST http://127.0.0.1:$RASA_PORT/webhooks/rest/webhook \\
         -H 'Content-Type: application/json' -d '{"sender":"me","message":"Was ist BAB?"}'
  Ctrl-C stops everything.

MSG
wait -n "${pids[@]}" || true
