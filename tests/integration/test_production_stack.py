"""Rasa with the production endpoints: PostgreSQL tracker store, Redis lock store, knowledge base on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
import redis

from tests.integration.conftest import PG_HOST, PG_PORT, PG_USER, REDIS_HOST, REDIS_PORT
from tests.servers import Stack, start_stack

pytestmark = [pytest.mark.postgres, pytest.mark.e2e]


@pytest.fixture(scope="module")
def production_stack(
    pg_database: str, tmp_path_factory: pytest.TempPathFactory, redis_available: None
) -> Iterator[Stack]:
    from tests.conftest import build_kb

    kb_url = f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{pg_database}"
    build_kb(kb_url)
    stack = start_stack(
        tmp_path_factory.mktemp("prod"), kb_url, endpoints="bot/endpoints.production.yml",
        TRACKER_DB_HOST=PG_HOST, TRACKER_DB_PORT=str(PG_PORT), TRACKER_DB_NAME=pg_database,
        TRACKER_DB_USER=PG_USER, TRACKER_DB_PASSWORD="",
        REDIS_HOST=REDIS_HOST, REDIS_PORT=str(REDIS_PORT), REDIS_DB="0",
    )
    yield stack
    stack.stop()


def test_conversation_is_stored_in_postgres(production_stack: Stack, pg_database: str) -> None:
    who = f"prod-{uuid.uuid4().hex[:8]}"
    reply = "\n".join(m.get("text", "") for m in production_stack.say(who, "Was ist BAB?"))
    assert "Berufsausbildungsbeihilfe" in reply and "Stand:" in reply
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=pg_database) as conn:
        count = conn.execute("SELECT count(*) FROM events WHERE sender_id = %s AND type_name = 'user'",
                             (who,)).fetchone()
    assert count is not None and count[0] == 1


def test_deletion_works_on_postgres(production_stack: Stack, pg_database: str) -> None:
    who = f"prod-{uuid.uuid4().hex[:8]}"
    production_stack.say(who, "Hallo")
    production_stack.say(who, "Lösch bitte alle meine Daten")
    production_stack.say(who, "/affirm")
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=pg_database) as conn:
        count = conn.execute("SELECT count(*) FROM events WHERE sender_id = %s", (who,)).fetchone()
    assert count is not None and count[0] == 0


def _lock_writes(client: redis.Redis) -> int:
    stats = client.info("commandstats")
    return sum(int(stats.get(f"cmdstat_{c}", {}).get("calls", 0)) for c in ("set", "del", "delete"))


def test_redis_lock_store_is_used(production_stack: Stack) -> None:
    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT)
    before = _lock_writes(client)
    production_stack.say(f"prod-{uuid.uuid4().hex[:8]}", "Hallo")
    assert _lock_writes(client) > before  # the conversation lock was written to and released in Redis
