#!/usr/bin/env bash
# The single-machine production profile (`make run-prod`): knowledge base and Rasa's tracker store on PostgreSQL,
# Rasa's lock store on Redis, PROD_RASA_REPLICAS Rasa servers and PROD_ACTION_WORKERS action servers behind nginx,
# console, web chat and (with TELEGRAM_BOT_TOKEN) the bridge behind the same nginx; only the public entries of
# deploy/nginx/berufsorientierung.conf are exposed (HTTPS on PROD_LISTEN_HOST:PROD_HTTPS_PORT). Everything runs
# under supervisor exactly as in `make run`: this script prepares the profile and hands over to scripts/run.sh,
# which takes the programs from core/production.py (STACK_PROFILE=production). Settings: README "Betrieb".
set -euo pipefail

# STACK_PROFILE, RUN_DIR (default var/prod), KB_DATABASE_URL=PROD_DATABASE_URL, the tracker URL for retention,
# the web chat on its own origin and the console behind the proxy
prod_exports=$(.venv/bin/python -m core.production exports) || exit 2
eval "$prod_exports"
( umask 077; mkdir -p "$RUN_DIR/log" )

# Databases (created when missing), a self-signed certificate unless PROD_TLS_CERT/PROD_TLS_KEY are set, the nginx
# configuration (checked with nginx -t); then the schema and the content of the knowledge base.
.venv/bin/python -m core.production prepare >/dev/null || exit 2
.venv/bin/python -m knowledge_base.cli migrate
.venv/bin/python -m knowledge_base.cli load >/dev/null
echo "Production profile: public entries through nginx, logs and supervisor in $RUN_DIR."

exec scripts/run.sh
