"""The tracker store of bot/endpoints.yml (rasa_plugins/tracker_store.py) and Rasa's speed-ups
(rasa_plugins/speedups.py), checked in Rasa's own environment against Rasa's own code: the configured class is
really what Rasa creates (Rasa falls back to an in-memory store silently otherwise), event types resolve exactly as
Rasa's class walk does, an invalid action response fails as before, the store's SQL runs in its worker thread,
the usage report of a turn takes the saved
tracker instead of reading the whole conversation again, and a failing database is reported per conversation."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.rasa_cli import RASA_PYTHON, rasa_env

ROOT = Path(__file__).resolve().parents[2]


def test_tracker_store_speedups_and_usage_report(tmp_path: Path) -> None:
    rasa_python = RASA_PYTHON
    if not rasa_python.exists():
        pytest.fail("no Rasa environment: run the suite through `make test`")
    done = subprocess.run([str(rasa_python), str(ROOT / "tests" / "rasa" / "tracker_store_side.py"), str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env=rasa_env(TF_CPP_MIN_LOG_LEVEL="3", ACTION_SERVER_TOKEN="unused-here"))
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["store"] == "rasa_plugins.tracker_store.FastSQLTrackerStore"
    assert result["resolve_patched"] and result["resolve_same"] and result["event_names"] > 20
    assert result["valid_ok"] is True and result["invalid"] == "same"
    assert result["round_trip"] and result["slot"] == "student"
    assert result["sql_threads"] == ["tracker-store"]  # not in the server's event loop
    assert result["reads_with_saved"] == 0 and result["reads_without_saved"] == 1
    assert result["reports"] == [{"intent": "ask_funding", "missed": False, "channel": "rest"}] * 2
    assert result["reports_after_pause"] == 2  # a paused conversation is not reported
    # conversation_exists / had_handoff: one indexed query each, in the store's worker (not the event loop)
    assert result["exists"] == [True, False]
    assert result["handoff_before_pause"] is False and result["handoff_after_pause"] == [True, False]
    assert result["query_threads"] == ["tracker-store"]
    assert result["kept"] == [2, 3, 4]
    # a failing database is reported per conversation, once (the REST channel then tells the user the truth)
    assert result["failed_before"] is False
    assert result["failed"] == [True, False, False]
    assert result["retrieve_failed"] == [True, True]
