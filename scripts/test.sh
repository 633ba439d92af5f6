#!/usr/bin/env bash
# The whole suite: static checks first (ruff, the import contracts of the layout, mypy on core and domain packages),
# then pytest: unit tests, architecture rules, Rasa data validation, core stories, NLU evaluation, the end-to-end
# conversations, browser and channel tests. Exit code 5 (no tests ran) is a failure.
#
# Training the model (`make train`, only when its inputs changed) uses about one core for several minutes, so it
# runs in the background while the static checks and every test that does not need the model run (phase 1,
# TEST_PHASE=without-model); the tests that need the model (tests/conftest.py NEEDS_MODEL) run after it (phase 2).
# With arguments (e.g. one test file) the model is trained first and pytest runs once with those arguments.
set -uo pipefail
mkdir -p var/log
train_log=var/log/train.log

run_pytest() {
  .venv/bin/python -m pytest "$@"
  local rc=$?
  if [[ $rc -eq 5 ]]; then
    echo "pytest collected no tests: failing on purpose" >&2
    return 1
  fi
  return $rc
}

wait_for_training() {
  if ! wait "$1"; then
    echo "training failed; the end of $train_log:" >&2
    tail -n 40 "$train_log" >&2
    exit 1
  fi
  tail -n 1 "$train_log"
}

# the FAQ retrieval index first (a minute or two; tests of phase 1 use it), then the model.
# own process group (setsid), so an interrupt or a failed static check stops `rasa train` too
setsid make --no-print-directory faq-index train >"$train_log" 2>&1 &
train_pid=$!
stop_training() { kill -- "-$train_pid" 2>/dev/null; }
trap 'stop_training; exit 130' INT TERM

static_checks() {
  .venv/bin/ruff check actions knowledge_base channels core handoff rasa_plugins migrations tests || return 1
  .venv/bin/lint-imports --no-cache || { echo "import contracts broken (see [tool.importlinter] in pyproject.toml)" >&2; return 1; }
  .venv/bin/mypy || { echo "mypy found type errors in core/, handoff/ or knowledge_base/" >&2; return 1; }
}

if ! static_checks; then
  stop_training
  exit 1
fi

if [[ $# -gt 0 ]]; then
  wait_for_training "$train_pid"
  run_pytest "$@"
  exit $?
fi

echo "=== phase 1: tests without the model (training in the background, log: $train_log)"
TEST_PHASE=without-model run_pytest -m "not model"
rc1=$?
echo "=== waiting for the model"
wait_for_training "$train_pid"
echo "=== phase 2: tests with the trained model"
TEST_PHASE=with-model run_pytest -m model
rc2=$?
echo "=== phase 1 exit code $rc1, phase 2 exit code $rc2"
[[ $rc1 -eq 0 && $rc2 -eq 0 ]]
