"""Honest deletion: hand-offs that the adviser console could not delete right away are queued and deleted later
(runs INSIDE the Rasa server, Python 3.10 / Rasa 3.6).

When a user deletes their conversation, the REST channel deletes the tracker itself and asks the console to
delete the conversation's hand-offs. If the console is down, that part cannot happen now, and a queue on the
console's side is no help while the console is down. So the queue is kept here, durably:

* in the tracker database (table ``pending_console_deletion`` next to Rasa's ``events``; SQLite file or
  PostgreSQL, so every Rasa replica sees it and it survives a restart), or — with a tracker store that is not
  SQL (Redis, in-memory) — in the SQLite file ``var/deletion-queue.sqlite3`` (mode 0600);
* retried in the background: first after ``FIRST_RETRY`` seconds, then doubling up to ``MAX_RETRY`` (60 s), so a
  queued deletion happens at most a minute after the console is reachable again; at the start of the server any
  left-over entries are retried at once. Nothing runs while the queue is empty.

The REST channel calls ``delete_handoffs(agent, sender_id)`` after deleting the tracker; it returns whether the
console deleted everything now (``ConsoleDeletion.done``), so the user can be told the truth
(``PENDING_TEXT``). ``install(blueprint)`` registers the start/stop listeners. Logs carry pseudonyms, not ids.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from rasa_plugins import console_client, settings
from rasa_plugins.console_client import ConsoleUnavailable
from rasa_plugins.tracker_ops import innermost

log = logging.getLogger(__name__)

FIRST_RETRY = 5.0  # seconds until the first retry of a queued deletion
MAX_RETRY = 60.0  # longest pause between two attempts (the promise "spätestens eine Minute danach")
FALLBACK_FILE = Path(__file__).resolve().parent.parent / "var" / "deletion-queue.sqlite3"
PENDING_TEXT = ("Bei der Beratung ist das Gespräch noch gespeichert, weil sie gerade nicht erreichbar ist. Es wird "
                "dort automatisch gelöscht, sobald sie wieder erreichbar ist – spätestens eine Minute danach.")
# neither "du" nor "Sie": after the deletion the conversation's persona is gone; sent after the bot's own
# "Erledigt: Der Verlauf dieses Chats wird jetzt gelöscht …" (utter_data_deleted)

_meta = sa.MetaData()
pending = sa.Table(
    "pending_console_deletion", _meta,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("requested_at", sa.Float, nullable=False),  # Unix seconds
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", sa.Float, nullable=False),
)


@dataclass(frozen=True)
class ConsoleDeletion:
    done: bool  # the console deleted the conversation's hand-offs now
    handoffs: int  # how many (0 when queued)


_engines: dict[str, sa.engine.Engine] = {}
_created: set[int] = set()
_worker: asyncio.Task | None = None


def engine_for(agent: Any) -> sa.engine.Engine:
    """The tracker store's engine (SQL store), else the fallback SQLite file; the table is created once."""
    store = innermost(agent.tracker_store) if agent is not None else None
    engine = getattr(store, "engine", None)
    if not isinstance(engine, sa.engine.Engine):
        key = str(FALLBACK_FILE)
        engine = _engines.get(key)
        if engine is None:
            FALLBACK_FILE.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not FALLBACK_FILE.exists():
                os.close(os.open(FALLBACK_FILE, os.O_WRONLY | os.O_CREAT, 0o600))
            engine = _engines[key] = sa.create_engine(f"sqlite:///{FALLBACK_FILE}")
    if id(engine) not in _created:
        pending.create(engine, checkfirst=True)
        _created.add(id(engine))
    return engine


def enqueue(engine: sa.engine.Engine, sender_id: str, now: float | None = None) -> None:
    now = time.time() if now is None else now
    try:
        with engine.begin() as conn:
            conn.execute(pending.insert().values(sender_id=sender_id, requested_at=now, attempts=0,
                                                 next_attempt_at=now + FIRST_RETRY))
    except IntegrityError:  # queued before (or by another replica at the same moment): retry soon
        with engine.begin() as conn:
            conn.execute(pending.update().where(pending.c.sender_id == sender_id)
                         .values(next_attempt_at=now + FIRST_RETRY))


def queued(engine: sa.engine.Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(pending.c.sender_id).order_by(pending.c.requested_at)).scalars())


def _remove(engine: sa.engine.Engine, sender_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(pending.delete().where(pending.c.sender_id == sender_id))


async def delete_handoffs(agent: Any, sender_id: str) -> ConsoleDeletion:
    """Ask the console to delete the conversation's hand-offs now; if it cannot, queue the deletion durably
    and retry in the background. ``done`` tells whether everything was deleted now."""
    engine = engine_for(agent)
    try:
        count = await console_client.delete_handoffs(sender_id)
    except ConsoleUnavailable as exc:
        enqueue(engine, sender_id)
        log.warning("adviser console unreachable; deletion of the hand-offs of %s queued: %s",
                    settings.current().pseudonym(sender_id), exc)
        start_worker(engine)
        return ConsoleDeletion(done=False, handoffs=0)
    _remove(engine, sender_id)  # an older queued attempt for the same conversation is done too
    return ConsoleDeletion(done=True, handoffs=count)


async def retry_due(engine: sa.engine.Engine, now: float | None = None, force: bool = False) -> tuple[int, int]:
    """One pass over the queue: every due entry (``force``: every entry) is tried once. Returns (deleted, left)."""
    now = time.time() if now is None else now
    with engine.connect() as conn:
        query = sa.select(pending.c.sender_id, pending.c.attempts)
        if not force:
            query = query.where(pending.c.next_attempt_at <= now)
        rows = conn.execute(query.order_by(pending.c.requested_at)).all()
    done = 0
    for sender_id, attempts in rows:
        try:
            await console_client.delete_handoffs(sender_id)
        except ConsoleUnavailable:
            pause = min(FIRST_RETRY * 2 ** (attempts + 1), MAX_RETRY)
            with engine.begin() as conn:
                conn.execute(pending.update().where(pending.c.sender_id == sender_id)
                             .values(attempts=attempts + 1, next_attempt_at=time.time() + pause))
            continue
        _remove(engine, sender_id)
        done += 1
    left = len(queued(engine))
    if done:
        log.info("queued deletions done in the adviser console: %d (still queued: %d)", done, left)
    return done, left


async def _work(engine: sa.engine.Engine, force_first: bool) -> None:
    force = force_first
    while True:
        try:
            _, left = await retry_due(engine, force=force)
        except Exception:  # the tracker database is unreachable: try again later, never end the server
            log.exception("queued deletions could not be processed")
            left = 1
        force = False
        if not left:
            return
        await asyncio.sleep(FIRST_RETRY)


def start_worker(engine: sa.engine.Engine, force_first: bool = False) -> asyncio.Task | None:
    """Retry queued deletions in the background until the queue is empty (one worker per process)."""
    global _worker
    if _worker is not None and not _worker.done():
        return _worker
    try:
        _worker = asyncio.get_running_loop().create_task(_work(engine, force_first))
    except RuntimeError:  # no running loop (called outside the server)
        return None
    return _worker


async def stop_worker() -> None:
    global _worker
    if _worker is not None and not _worker.done():
        _worker.cancel()
        try:
            await _worker
        except asyncio.CancelledError:
            pass
    _worker = None


def install(blueprint: Any) -> None:
    """Register on the REST channel's blueprint: retry left-over entries at start, stop the worker at the end."""

    @blueprint.listener("after_server_start")
    async def _retry_at_start(app: Any, _loop: Any) -> None:
        agent = getattr(app.ctx, "agent", None)
        if agent is None or agent.tracker_store is None:
            return
        engine = engine_for(agent)
        if queued(engine):
            start_worker(engine, force_first=True)

    @blueprint.listener("before_server_stop")
    async def _stop(_app: Any, _loop: Any) -> None:
        await stop_worker()
