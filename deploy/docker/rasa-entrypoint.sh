#!/bin/sh
# Entrypoint of the Rasa image. Rasa takes --auth-token only on the command line, so the token comes from the
# environment (RASA_TOKEN, a Kubernetes Secret) and is put on the command line here. Extra arguments are appended.
set -eu
: "${RASA_TOKEN:?RASA_TOKEN must be set (Rasa's HTTP API token)}"
exec rasa run --model models/bot.tar.gz --endpoints bot/endpoints.production.yml --credentials bot/credentials.yml \
  --port 5005 --enable-api --auth-token "$RASA_TOKEN" "$@"
