"""rasa_plugins.fast_load: the bot's trained model loaded without Rasa's one training step predicts exactly what
Rasa's own load predicts (every variable, the label embeddings, every held-out NLU message's parse and TED's
next-action probabilities). Runs in Rasa's environment on the trained model (second phase of `make test`)."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.rasa_cli import MODEL, RASA_PYTHON, ROOT, rasa_env, require_model


def test_fast_load_predicts_exactly_what_rasas_own_load_predicts() -> None:
    require_model("loading the model")
    rasa_python = RASA_PYTHON
    if not rasa_python.exists() or not MODEL.exists():
        pytest.fail("no Rasa environment or model: run the suite through `make test`")
    done = subprocess.run([str(rasa_python), str(ROOT / "tests" / "rasa" / "fast_load_side.py")],
                          cwd=ROOT, capture_output=True, text=True, timeout=900,
                          env=rasa_env(TF_CPP_MIN_LOG_LEVEL="3", LOG_LEVEL="WARNING"))
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"\nmodel load: Rasa's own {result['seconds']['rasa']} s, without the training step "
          f"{result['seconds']['fast']} s")
    assert result["same_models"] and len(result["models"]) == 2, result["models"]  # DIET and TED
    for name, variables in result["variables"].items():
        assert variables["count"] > 10, name
        assert variables["same_names"] and variables["same_values"], (name, variables)
        assert variables["same_label_embeddings"], name
    assert result["messages"] >= 300
    assert result["parses_differ"] == []
    assert result["ted_differs"] == 0
