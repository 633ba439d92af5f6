#!/bin/sh
# Entrypoint of the Rasa image: Rasa's own command line, started through rasa_plugins.serve, which takes the HTTP
# API token from the environment (RASA_TOKEN, a Kubernetes Secret) inside the process — so it is not on the
# command line (ps, /proc/<pid>/cmdline) — and bounds the calls of the action server (ACTION_TIMEOUT, 5 s).
# Extra arguments are appended.
set -eu
: "${RASA_TOKEN:?RASA_TOKEN must be set (Rasa's HTTP API token)}"
exec python -m rasa_plugins.serve run --model models/bot.tar.gz --endpoints bot/endpoints.production.yml \
  --credentials bot/credentials.yml --port 5005 --enable-api "$@"
