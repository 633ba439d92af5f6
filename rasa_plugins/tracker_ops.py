"""Questions and deletions on Rasa's tracker store, whichever store is configured (SQL, Redis, in-memory)."""

from __future__ import annotations

import logging
from typing import Any

from core.protocol import PAUSE_EVENT

log = logging.getLogger(__name__)


def innermost(store: Any) -> Any:
    """The configured store behind Rasa's wrappers (``AwaitableTrackerStore`` …)."""
    while hasattr(store, "_tracker_store"):
        store = store._tracker_store
    return store


def store_failed(agent: Any, sender_id: str) -> bool:
    """Whether the tracker store failed to read or write ``sender_id``'s conversation since the last call
    (``rasa_plugins.tracker_store.FastSQLTrackerStore.take_failure``; other stores never report one)."""
    take = getattr(innermost(agent.tracker_store), "take_failure", None)
    return bool(take and take(sender_id))


async def is_paused(agent: Any, sender_id: str) -> bool:
    tracker = await agent.tracker_store.retrieve(sender_id)
    return bool(tracker and tracker.is_paused())


def stored_event_exists(store: Any, sender_id: str, type_name: str | None = None) -> bool:
    """Whether a SQL tracker store holds an event of ``sender_id``'s conversation (of ``type_name``, if given):
    one indexed query, the only place it is written. Synchronous; the bot's own store runs it in its worker thread
    (``FastSQLTrackerStore.has_event``)."""
    with store.session_scope() as session:
        query = session.query(store.SQLEvent.id).filter(store.SQLEvent.sender_id == sender_id)
        if type_name is not None:
            query = query.filter(store.SQLEvent.type_name == type_name)
        return query.first() is not None


async def _has_event(agent: Any, sender_id: str, type_name: str | None) -> bool | None:
    """The indexed query on a SQL store (the bot's own store: in its worker, repeated once on a connection PostgreSQL
    cut while in use), or None for a store without SQL (Redis, in-memory)."""
    store = innermost(agent.tracker_store)
    if hasattr(store, "has_event"):
        return bool(await store.has_event(sender_id, type_name))
    if hasattr(store, "SQLEvent") and hasattr(store, "session_scope"):
        return stored_event_exists(store, sender_id, type_name)
    return None


async def conversation_exists(agent: Any, sender_id: str) -> bool:
    """Whether any event of the conversation is stored (SQL tracker store: one indexed query)."""
    found = await _has_event(agent, sender_id, None)
    if found is not None:
        return found
    return bool(await agent.tracker_store.exists(sender_id))


async def had_handoff(agent: Any, sender_id: str) -> bool:
    """Whether the conversation was ever paused (handed to an adviser), in any session (SQL tracker store: one
    indexed query; other stores: the full tracker is read)."""
    found = await _has_event(agent, sender_id, PAUSE_EVENT)
    if found is not None:
        return found
    tracker = await agent.tracker_store.retrieve_full_tracker(sender_id)
    return bool(tracker and any(getattr(e, "type_name", None) == PAUSE_EVENT for e in tracker.events))


async def delete_conversation(agent: Any, sender_id: str) -> None:
    """Delete every stored event of one conversation (SQL, Redis or in-memory tracker store)."""
    store = innermost(agent.tracker_store)
    if hasattr(store, "SQLEvent") and hasattr(store, "session_scope"):
        with store.session_scope() as session:
            session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == sender_id).delete()
            session.commit()
    elif hasattr(store, "red"):
        store.red.delete(store.key_prefix + sender_id)
    elif isinstance(getattr(store, "store", None), dict):
        store.store.pop(sender_id, None)
    else:  # pragma: no cover - other stores are not configured by this project
        raise RuntimeError(f"cannot delete conversations from {type(store).__name__}")
    log.info("conversation deleted on request (%s)", type(store).__name__)
