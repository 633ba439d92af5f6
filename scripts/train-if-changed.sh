#!/usr/bin/env bash
# Train the Rasa model only when config, domain or training data changed (sha256 fingerprint of the inputs).
set -euo pipefail
model=models/bot.tar.gz
fingerprint_file=models/fingerprint.sha256
fingerprint=$(sha256sum "$@" bot/requirements-rasa.lock | sha256sum | cut -d" " -f1)
if [[ -f $model && -f $fingerprint_file && $(cat "$fingerprint_file") == "$fingerprint" ]]; then
  echo "Model up to date ($model)."
  exit 0
fi
echo "Training the Rasa model (data or config changed) ..."
mkdir -p models
start=$(date +%s)
.venv-rasa/bin/rasa train --config bot/config.yml --domain bot/domain --data bot/data nlu_data \
  --out models --fixed-model-name bot --quiet
echo "$fingerprint" > "$fingerprint_file"
echo "$(( $(date +%s) - start ))" > models/training-seconds
echo "Trained in $(cat models/training-seconds) s."
