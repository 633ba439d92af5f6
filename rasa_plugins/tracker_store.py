"""The SQL tracker store of the bot (runs INSIDE the Rasa server; ``bot/endpoints.yml`` ``type:`` names it).

Rasa's own ``SQLTrackerStore`` — same tables, same queries, same settings (``dialect``, ``db``, ``url`` …) — with
three additions that take work out of every turn (issue 13 §4, measured in docs/perf.md):

* importing this module installs ``rasa_plugins.speedups`` (Rasa's event deserialisation without a class-tree walk
  per event, action responses validated by a compiled schema), before the first message;
* its reads and writes (``retrieve``, ``retrieve_full_tracker``, ``save``) run in one worker thread of the store,
  one after another: Rasa's SQL store is synchronous, and the commit of every turn (an ``fsync`` on SQLite) used to
  block the server's event loop, i.e. every other conversation, while it waited for the disk. The caller still
  awaits each call, so the order of one conversation's reads and writes is unchanged (Rasa's lock store serialises
  the turns of a conversation), and a failure is raised to the caller as before;
* :meth:`FastSQLTrackerStore.take_saved` hands out the tracker of a conversation exactly as it was just saved, once,
  so the usage report after a turn (``rasa_plugins.usage``) needs no second read of the whole conversation. At most
  :data:`SAVED_LIMIT` conversations are kept (the oldest are dropped; a report without one reads the store);
* on PostgreSQL its engine checks a pooled connection before use (``pool_pre_ping``), so a turn after the database
  cut its connections works instead of failing;
* a read or write that fails all the same (the database is down) is remembered per conversation
  (:meth:`FastSQLTrackerStore.take_failure`): Rasa's fail-safe wrapper swallows the error, answers from an empty
  tracker and keeps the turn in memory only, so the REST channel replaces that answer with the truth — the message
  was not stored, please send it again in a few minutes (``utter_technical_problem_not_stored``).

Rasa falls back to an in-memory store *silently* if a custom ``type:`` cannot be imported; tests/rasa/
test_tracker_store.py therefore loads ``bot/endpoints.yml`` and checks that this class is what Rasa creates.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sqlalchemy.exc
from rasa.core.tracker_store import SQLTrackerStore

from rasa_plugins import speedups
from rasa_plugins.tracker_ops import stored_event_exists

speedups.install()

SAVED_LIMIT = 256  # also the most conversations with a failure remembered
log = logging.getLogger(__name__)


class FastSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` with its SQL in a worker thread, remembering the last saved tracker per conversation (for
    one :meth:`take_saved`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ping_before_use()
        self._saved: OrderedDict[str, Any] = OrderedDict()
        self._failed: OrderedDict[str, None] = OrderedDict()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tracker-store")

    def _ping_before_use(self) -> None:
        """A server database (PostgreSQL) may close the pool's connections at any time (a restart, a fail-over,
        ``pg_terminate_backend``); Rasa's engine then fails the next turn with "server closed the connection
        unexpectedly". The same engine with ``pool_pre_ping`` tests a pooled connection before use and replaces a
        dead one, so that turn works (tests/ops/test_tracker_store_reconnect.py). SQLite has no server: unchanged."""
        if self.engine.dialect.name == "sqlite":
            return
        import sqlalchemy as sa
        from rasa.core.tracker_store import create_engine_kwargs

        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def _in_worker(self, call: Any, *args: Any) -> Any:
        """Rasa's coroutine ``call(self, *args)`` (synchronous SQL inside) run to completion in the worker thread.

        A call that loses its database connection midway (PostgreSQL cut it while the connection was in use, which
        ``pool_pre_ping`` cannot see) is run once more on a fresh connection: the failed transaction was rolled
        back, and Rasa's ``save`` writes only the events the table does not have yet, so the repeat stores nothing
        twice. Without it Rasa's fail-safe wrapper kept that turn in memory only, and it was lost."""

        def run() -> Any:
            try:
                return asyncio.run(call(self, *args))
            except sqlalchemy.exc.DBAPIError as error:
                if not error.connection_invalidated:
                    raise
                log.warning("tracker store: database connection lost, %s once more", call.__name__)
                return asyncio.run(call(self, *args))

        return await asyncio.get_running_loop().run_in_executor(self._worker, run)

    async def _for(self, sender_id: str, call: Any, *args: Any) -> Any:
        """``_in_worker``, remembering a failure for ``sender_id`` before it goes on to Rasa's fail-safe wrapper."""
        try:
            return await self._in_worker(call, *args)
        except Exception as error:
            log.error("tracker store: %s failed (%s); the turn is not stored", call.__name__, type(error).__name__)
            self._failed[sender_id] = None
            self._failed.move_to_end(sender_id)
            while len(self._failed) > SAVED_LIMIT:
                self._failed.popitem(last=False)
            raise

    async def retrieve(self, sender_id: str) -> Any:
        return await self._for(sender_id, SQLTrackerStore.retrieve, sender_id)

    async def retrieve_full_tracker(self, conversation_id: str) -> Any:
        return await self._for(conversation_id, SQLTrackerStore.retrieve_full_tracker, conversation_id)

    async def save(self, tracker: Any) -> None:
        await self._for(tracker.sender_id, SQLTrackerStore.save, tracker)
        self._saved[tracker.sender_id] = tracker
        self._saved.move_to_end(tracker.sender_id)
        while len(self._saved) > SAVED_LIMIT:
            self._saved.popitem(last=False)

    async def has_event(self, sender_id: str, type_name: str | None = None) -> bool:
        """Whether ``sender_id``'s conversation has an event (of ``type_name``, if given): one indexed query, in the
        worker thread with the same repeat on a connection PostgreSQL cut while in use as every other call."""

        async def query(store: FastSQLTrackerStore, sender_id: str, type_name: str | None) -> bool:
            return stored_event_exists(store, sender_id, type_name)

        return bool(await self._in_worker(query, sender_id, type_name))

    def take_saved(self, sender_id: str) -> Any:
        """The tracker last saved for ``sender_id`` by this process (then forgotten), or None."""
        return self._saved.pop(sender_id, None)

    def take_failure(self, sender_id: str) -> bool:
        """Whether a read or write of ``sender_id``'s conversation failed since the last call (then forgotten)."""
        return self._failed.pop(sender_id, 0) is None
