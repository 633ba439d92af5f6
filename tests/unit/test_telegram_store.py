"""The bridge's tables: chat ↔ conversation mapping, queue, long button payloads (real SQLite)."""

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from channels.telegram import store
from channels.telegram.models import TelegramOutboxDelivered
from core.db import make_engine, make_session_factory, session_scope, utcnow
from core.migrate import upgrade


@pytest.fixture()
def factory(tmp_path: Path) -> sessionmaker[Session]:
    url = f"sqlite:///{tmp_path / 'tg.sqlite3'}"
    upgrade(url)
    return make_session_factory(make_engine(url))


def test_a_chat_gets_a_random_stable_conversation_id(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as s:
        first = store.conversation_for(s, 4711)
        assert store.conversation_for(s, 4711) == first
        assert store.conversation_for(s, 4712) != first
    assert first.startswith("tg-") and "4711" not in first
    with session_scope(factory) as s:
        assert store.chat_for(s, first) == 4711


def test_forget_deletes_mapping_and_queue_and_a_new_id_follows(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as s:
        old = store.conversation_for(s, 1)
        store.enqueue(s, 1, "Hallo", update_id=10)
    with session_scope(factory) as s:
        store.forget_chat(s, 1)
    with session_scope(factory) as s:
        assert store.existing_conversation(s, 1) is None
        assert store.next_pending(s, 1) is None
        assert store.conversation_for(s, 1) != old


def test_queue_keeps_order_and_ignores_a_repeated_update(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as s:
        assert store.enqueue(s, 5, "eins", update_id=1)
        assert store.enqueue(s, 5, "zwei", update_id=2)
        assert not store.enqueue(s, 5, "eins", update_id=1)
        assert store.chats_with_pending(s) == [5]
        assert store.next_pending(s, 5).text == "eins"  # type: ignore[union-attr]
    with session_scope(factory) as s:  # answered and removed from the queue: still not taken twice
        store.forget_chat(s, 5)
        assert not store.enqueue(s, 5, "eins", update_id=1)
        assert store.enqueue(s, 5, "ohne id", update_id=None)


def test_long_payloads_get_a_short_key(factory: sessionmaker[Session]) -> None:
    long_payload = '/search_offers{"occupation": "Kaufmann/-frau für Büromanagement", "location": "Frankfurt"}'
    with session_scope(factory) as s:
        assert store.callback_data(s, "/affirm") == "/affirm"
        data = store.callback_data(s, long_payload)
        assert len(data.encode()) <= 64 and data.startswith("b:")
        assert store.callback_data(s, long_payload) == data
    with session_scope(factory) as s:
        assert store.payload_for(s, data) == long_payload
        assert store.payload_for(s, "/affirm") == "/affirm"
        assert store.payload_for(s, "b:unknown") is None


def test_delivered_outbox_ids_are_remembered_and_pruned_after_a_week(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as s:
        assert not store.outbox_delivered(s, 7)
        store.record_outbox_delivered(s, 7)
        store.record_outbox_delivered(s, 7)  # twice is harmless
    with session_scope(factory) as s:
        assert store.outbox_delivered(s, 7) and not store.outbox_delivered(s, 8)
        assert store.prune_updates(s) == 0  # younger than seven days: kept
    with session_scope(factory) as s:
        s.get(TelegramOutboxDelivered, 7).delivered_at = utcnow() - dt.timedelta(days=8)  # type: ignore[union-attr]
    with session_scope(factory) as s:
        assert store.prune_updates(s) == 1
    with session_scope(factory) as s:
        assert not store.outbox_delivered(s, 7)


def test_an_interrupted_outbox_delivery_remembers_its_parts_until_complete(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as s:
        assert store.outbox_parts_sent(s, 9) == 0
        store.record_outbox_part(s, 9, 1)
        store.record_outbox_part(s, 9, 2)
    with session_scope(factory) as s:
        assert store.outbox_parts_sent(s, 9) == 2
        assert not store.outbox_delivered(s, 9)  # begun is not delivered: the collector brings it again
        store.record_outbox_delivered(s, 9)
    with session_scope(factory) as s:
        assert store.outbox_delivered(s, 9) and store.outbox_parts_sent(s, 9) == 2
