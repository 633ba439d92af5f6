"""The console process runs the retention job by itself: shortly after its start and then every
RETENTION_INTERVAL_HOURS, logging counts only."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from pathlib import Path

from sqlalchemy import func, select

from core.db import make_engine, make_session_factory, session_scope, utcnow
from core.migrate import upgrade
from handoff.models import Handoff
from tests.rasa_cli import rasa_env
from tests.servers import APP_PYTHON, Process, free_port


def test_console_runs_the_retention_job(tmp_path: Path) -> None:
    kb_url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    upgrade(kb_url)
    factory = make_session_factory(make_engine(kb_url))
    old = f"conv-alt-{secrets.token_hex(3)}"
    with session_scope(factory) as s:
        s.add(Handoff(conversation_id=old, channel="rest", status="closed", reason="request", transcript=[],
                      summary={}, created_at=utcnow() - dt.timedelta(days=400),
                      closed_at=utcnow() - dt.timedelta(days=200)))
        s.add(Handoff(conversation_id="conv-neu", channel="rest", status="waiting", reason="request",
                      transcript=[], summary={}, created_at=utcnow()))
    port = free_port()
    env = rasa_env(KB_DATABASE_URL=kb_url, CONSOLE_HOST="127.0.0.1", CONSOLE_PORT=str(port),
                   CONSOLE_SECRET_KEY=secrets.token_urlsafe(32), CONSOLE_INBOUND_TOKEN=secrets.token_urlsafe(16),
                   CONSOLE_ADMIN_USER="sched-admin", CONSOLE_ADMIN_PASSWORD=secrets.token_urlsafe(16),
                   TRACKER_DB_PATH=str(tmp_path / "tracker.sqlite3"),
                   RETENTION_INTERVAL_HOURS="0.001")  # 3.6 s: first run after 3.6 s, then every 3.6 s
    console = Process("console", [str(APP_PYTHON), "-m", "channels.console"], env, tmp_path / "console.log",
                      f"http://127.0.0.1:{port}/healthz")
    try:
        console.start(timeout=60)
        deadline = time.monotonic() + 90
        remaining = None
        while time.monotonic() < deadline:
            with session_scope(factory) as s:
                remaining = list(s.scalars(select(Handoff.conversation_id)))
            if remaining == ["conv-neu"]:
                break
            time.sleep(1)
    finally:
        console.stop()
    assert remaining == ["conv-neu"]
    log = (tmp_path / "console.log").read_text()
    assert "retention: " in log and "handoffs=1" in log, log[-2000:]
    assert old not in log
    with session_scope(factory) as s:
        assert s.scalar(select(func.count()).select_from(Handoff)) == 1
