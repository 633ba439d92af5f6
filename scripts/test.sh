#!/usr/bin/env bash
# The whole suite: static checks first (ruff, the import contracts of the layout, mypy on core and domain packages),
# then pytest: unit tests, architecture rules, Rasa data validation, core stories, NLU evaluation, the end-to-end
# conversations, browser and channel tests. Exit code 5 (no tests ran) is a failure.
set -uo pipefail
.venv/bin/ruff check actions knowledge_base channels core handoff rasa_plugins migrations tests || exit 1
.venv/bin/lint-imports --no-cache || { echo "import contracts broken (see [tool.importlinter] in pyproject.toml)" >&2; exit 1; }
.venv/bin/mypy || { echo "mypy found type errors in core/, handoff/ or knowledge_base/" >&2; exit 1; }
.venv/bin/python -m pytest "$@"
rc=$?
if [[ $rc -eq 5 ]]; then
  echo "pytest collected no tests: failing on purpose" >&2
  exit 1
fi
exit $rc
