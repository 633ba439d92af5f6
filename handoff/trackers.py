"""Rasa's SQL tracker store, read and purged directly with SQL (the application side does not import Rasa).

Rasa 3.6 has no HTTP endpoint that deletes a conversation, and the Rasa server deletes one only on the user's
request (``rasa_plugins/tracker_ops.py``, inside the server). For retention the tracker database is reached
directly: Rasa's ``SQLTrackerStore`` keeps every event as a row of the table ``events`` (``sender_id``,
``timestamp`` as Unix seconds, …), so a conversation is gone when its rows are. Deleting rows is safe while Rasa
runs: it reads the events of a conversation on every message and then finds none (a new conversation).

SQLite file (``TRACKER_DB_PATH``, the default) or PostgreSQL (``RETENTION_TRACKER_DB_URL``, production).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, delete, func, inspect, select
from sqlalchemy.engine import Connection

_meta = MetaData()
events = Table(  # the columns of Rasa 3.6's SQLEvent that are used here
    "events", _meta,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("timestamp", Float),
)
CHUNK = 500


def idle_conversations(conn: Connection, cutoff: dt.datetime, keep: Collection[str] = ()) -> list[str]:
    """Conversation ids whose newest event is older than ``cutoff`` (naive UTC), except those in ``keep``."""
    if not inspect(conn).has_table("events"):
        return []
    limit = cutoff.replace(tzinfo=dt.UTC).timestamp()
    newest = func.max(events.c.timestamp)
    ids = conn.scalars(select(events.c.sender_id).group_by(events.c.sender_id).having(newest < limit))
    return sorted(set(ids) - set(keep))


def delete_conversations(conn: Connection, conversation_ids: list[str], cutoff: dt.datetime) -> int:
    """Delete every event of these conversations, unless one got a new event since (at or after ``cutoff``)
    in the meantime; returns the number of events deleted."""
    limit = cutoff.replace(tzinfo=dt.UTC).timestamp()
    newer = events.alias("newer")
    active = select(newer.c.id).where(newer.c.sender_id == events.c.sender_id, newer.c.timestamp >= limit)
    deleted = 0
    for start in range(0, len(conversation_ids), CHUNK):
        chunk = conversation_ids[start:start + CHUNK]
        statement = delete(events).where(events.c.sender_id.in_(chunk), ~active.exists())
        deleted += int(conn.execute(statement).rowcount or 0)
    return deleted
