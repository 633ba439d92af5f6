"""rasa_plugins.usage.build_report on Rasa's own tracker (in Rasa's Python 3.10 environment): what the console
learns of a turn — pseudonym, intent, confidence, and the text only when the bot missed the message."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.rasa_cli import RASA_PYTHON, rasa_env

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = r'''
import json
from rasa.shared.core.events import ActionExecuted, ConversationPaused, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_plugins.usage import build_report

def report(text, intent, confidence, ranking=(), after=(), paused=False):
    events = [UserUttered(text, {"name": intent, "confidence": confidence},
                          parse_data={"intent": {"name": intent, "confidence": confidence},
                                      "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking]})]
    events += [ActionExecuted(a) for a in after]
    if paused:
        events.append(ConversationPaused())
    tracker = DialogueStateTracker.from_events("conv-secret-id", events)
    return build_report(tracker, "G-AAAA-BBBB-CC", "rest")

print(json.dumps({
    "fallback": report("Quabbel wux", "nlu_fallback", 0.55, [("nlu_fallback", 0.55), ("ask_funding", 0.31)]),
    "low": report("Was mit Geld", "ask_funding", 0.5),
    "sure": report("Was ist BAB?", "ask_funding", 0.98),
    "core_fallback": report("hm", "greet", 0.9, after=["action_default_fallback"]),
    "button": report('/rate_handoff{"handoff_rating":"4"}', "rate_handoff", 1.0),
    "long": report("x" * 2000, "nlu_fallback", 0.2),
    "paused": report("Hallo Beratung", "greet", 0.3, paused=True),
}))
'''


def test_build_report_on_rasas_tracker() -> None:
    rasa_python = RASA_PYTHON
    if not rasa_python.exists():
        pytest.fail("no Rasa environment: run the suite through `make test`")
    done = subprocess.run([str(rasa_python), "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env=rasa_env(TF_CPP_MIN_LOG_LEVEL="3"))
    assert done.returncode == 0, done.stderr[-3000:]
    reports = json.loads(done.stdout.strip().splitlines()[-1])
    assert reports["fallback"] == {"pseudonym": "G-AAAA-BBBB-CC", "channel": "rest", "intent": "ask_funding",
                                   "confidence": 0.31, "missed": True, "text": "Quabbel wux"}
    assert reports["low"]["missed"] and reports["low"]["text"] == "Was mit Geld"
    assert reports["sure"] == {"pseudonym": "G-AAAA-BBBB-CC", "channel": "rest", "intent": "ask_funding",
                               "confidence": 0.98, "missed": False, "text": None}
    assert reports["core_fallback"]["missed"]
    assert not reports["button"]["missed"] and reports["button"]["text"] is None
    assert len(reports["long"]["text"]) == 500
    assert reports["paused"] is None
    assert "conv-secret-id" not in done.stdout
