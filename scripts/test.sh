#!/usr/bin/env bash
# The whole suite: pytest runs unit tests, Rasa data validation, core stories, NLU evaluation,
# the end-to-end REST conversation and the out-of-domain check. Exit code 5 (no tests ran) is a failure.
set -uo pipefail
.venv/bin/ruff check actions knowledge_base channels tests || exit 1
.venv/bin/python -m pytest "$@"
rc=$?
if [[ $rc -eq 5 ]]; then
  echo "pytest collected no tests: failing on purpose" >&2
  exit 1
fi
exit $rc
