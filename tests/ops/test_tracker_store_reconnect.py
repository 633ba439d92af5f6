"""The bot's SQL tracker store on PostgreSQL when the database cuts its connections (``pg_terminate_backend``, as a
PostgreSQL restart or fail-over does), in Rasa's environment against a database of this test: the next turn reads
and writes as usual. Rasa's own SQLTrackerStore fails that next read ("server closed the connection
unexpectedly"), so the test can fail."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest

from tests.conftest import require_ci_service
from tests.integration.conftest import PG_HOST, PG_PORT, PG_USER
from tests.rasa_cli import RASA_PYTHON, rasa_env

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r'''
import asyncio, json, sys
import psycopg2
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_plugins.tracker_store import FastSQLTrackerStore

host, port, user, database = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]


def cut_connections():
    admin = psycopg2.connect(host=host, port=port, user=user, dbname="test")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                       "WHERE datname = %s AND pid <> pg_backend_pid()", (database,))
        count = cursor.fetchone()[0]
    admin.close()
    return count


def next_turn_after_a_cut(kind):
    store = kind(Domain.empty(), dialect="postgresql", host=host, port=port, db=database, username=user, password="")
    sender = f"{kind.__name__}-conversation"
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, [UserUttered("Hallo")])))
    cut = cut_connections()
    try:
        tracker = asyncio.run(store.retrieve(sender))
        tracker.update(UserUttered("Was ist BAB?"))
        asyncio.run(store.save(tracker))
        texts = [e.text for e in asyncio.run(store.retrieve(sender)).events if isinstance(e, UserUttered)]
        outcome = {"cut": cut, "texts": texts}
    except Exception as error:
        outcome = {"cut": cut, "error": type(error).__name__}
    store.engine.dispose()
    return outcome


print(json.dumps({"rasa": next_turn_after_a_cut(SQLTrackerStore), "ours": next_turn_after_a_cut(FastSQLTrackerStore)}))
'''


def test_the_next_turn_after_postgresql_cut_the_connections_works(tmp_path: Path) -> None:
    rasa_python = RASA_PYTHON
    if not rasa_python.exists():
        pytest.fail("no Rasa environment: run the suite through `make test`")
    database = f"bo_cut_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="test", autocommit=True,
                                connect_timeout=3)
    except psycopg.OperationalError as exc:
        require_ci_service("PostgreSQL", f"{PG_HOST}:{PG_PORT}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{database}"')
        try:
            done = subprocess.run([str(rasa_python), "-c", SCRIPT, PG_HOST, str(PG_PORT), PG_USER, database],
                                  cwd=ROOT, capture_output=True, text=True, timeout=180,
                                  env=rasa_env(TF_CPP_MIN_LOG_LEVEL="3"))
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["rasa"]["cut"] >= 1 and result["ours"]["cut"] >= 1, result  # there were connections to cut
    assert result["rasa"].get("error") == "OperationalError", result  # Rasa's store: the next turn fails
    assert result["ours"] == {"cut": result["ours"]["cut"], "texts": ["Hallo", "Was ist BAB?"]}, result
