"""Honest deletion and secure delete on the Rasa side, in Rasa's own environment with its real SQL tracker store:
a deletion the adviser console cannot do now is queued durably (surviving a restart) and done once a real console
is reachable again; the SQLite tracker store overwrites deleted events and its file is private."""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.db import make_engine, make_session_factory, session_scope
from core.migrate import upgrade
from handoff.models import Handoff, HandoffMessage, utcnow
from tests.rasa_cli import ROOT, rasa_env
from tests.servers import APP_PYTHON, Process, free_port

RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
SCRIPT = Path(__file__).with_name("rasa_side.py")
pytestmark = pytest.mark.rasa


def rasa_side(env: dict[str, str], *args: str, timeout: float = 300) -> dict:
    if not RASA_PYTHON.exists():
        pytest.fail("no Rasa environment: run the suite through `make test`")
    done = subprocess.run([str(RASA_PYTHON), str(SCRIPT), *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_sqlite_tracker_store_has_secure_delete_and_a_private_file(tmp_path: Path) -> None:
    secret = "vertraulich-" + secrets.token_hex(6)
    result = rasa_side(rasa_env(), "secure", str(tmp_path / "tracker.sqlite3"), secret)
    assert result == {"secure_delete": 1, "mode": 0o600, "text_left": False}


def test_deletion_waits_for_the_console_and_happens_when_it_is_back(tmp_path: Path) -> None:
    kb_url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    upgrade(kb_url)
    factory = make_session_factory(make_engine(kb_url))
    with session_scope(factory) as s:
        h = Handoff(conversation_id="conv-del", channel="rest", status="waiting", reason="request",
                    transcript=[], summary={}, created_at=utcnow())
        s.add(h)
        s.flush()
        s.add(HandoffMessage(handoff_id=h.id, role="user", text="bitte löschen", created_at=utcnow()))
    port = free_port()
    env = rasa_env(
        KB_DATABASE_URL=kb_url, CONSOLE_URL=f"http://127.0.0.1:{port}", CONSOLE_HOST="127.0.0.1",
        CONSOLE_PORT=str(port), CONSOLE_INBOUND_TOKEN=secrets.token_urlsafe(24),
        CONSOLE_SECRET_KEY=secrets.token_urlsafe(32), CONSOLE_ADMIN_USER="dq-admin",
        CONSOLE_ADMIN_PASSWORD=secrets.token_urlsafe(16), PSEUDONYM_KEY=secrets.token_urlsafe(16),
        RETENTION_INTERVAL_HOURS="0", CONSOLE_TIMEOUT="2",
    )
    tracker = str(tmp_path / "tracker.sqlite3")

    # console down: the tracker side says "not done", the deletion is queued in the tracker database
    first = rasa_side(env, "delete", tracker, "conv-del")
    assert first == {"done": False, "handoffs": 0, "queued": ["conv-del"]}

    # a "restarted" Rasa retries at start; the console is still down for a moment, then comes up
    retry = subprocess.Popen([str(RASA_PYTHON), str(SCRIPT), "retry", tracker, "120"], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(8)
    with session_scope(factory) as s:
        assert s.scalar(select(func.count()).select_from(Handoff)) == 1  # nothing deleted while it is down
    console = Process("console", [str(APP_PYTHON), "-m", "channels.console"], env, tmp_path / "console.log",
                      f"http://127.0.0.1:{port}/healthz")
    try:
        console.start(timeout=60)
        out, err = retry.communicate(timeout=150)
    finally:
        console.stop()
        if retry.poll() is None:
            retry.kill()
    assert retry.returncode == 0, err[-3000:]
    result = json.loads(out.strip().splitlines()[-1])
    assert result["queued"] == []
    with session_scope(factory) as s:
        assert s.scalar(select(func.count()).select_from(Handoff)) == 0
        assert s.scalar(select(func.count()).select_from(HandoffMessage)) == 0
    assert "conv-del" not in (tmp_path / "console.log").read_text()
