"""Run inside Rasa's environment (``.venv-rasa/bin/python tests/retention/rasa_side.py COMMAND TRACKER_FILE …``)
by ``test_deletion_queue.py``: Rasa's real SQL tracker store on SQLite with the Rasa-side plugins loaded.
Prints one JSON line."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys
import time
from types import SimpleNamespace

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import text

import rasa_plugins  # noqa: F401  (installs sqlite_secure, as Rasa does when it loads bot/credentials.yml)
from rasa_plugins import deletion_queue
from rasa_plugins.tracker_ops import delete_conversation


async def main(command: str, path: str, *args: str) -> dict:
    store = SQLTrackerStore(dialect="sqlite", db=path)
    agent = SimpleNamespace(tracker_store=store)
    if command == "secure":
        tracker = DialogueStateTracker.from_events("conv-secure", [UserUttered(args[0])])
        await store.save(tracker)
        with store.engine.connect() as conn:
            secure = conn.execute(text("PRAGMA secure_delete")).scalar()
        await delete_conversation(agent, "conv-secure")
        store.engine.dispose()
        with open(path, "rb") as f:
            left = args[0].encode() in f.read()
        return {"secure_delete": secure, "mode": stat.S_IMODE(os.stat(path).st_mode), "text_left": left}
    engine = deletion_queue.engine_for(agent)
    if command == "delete":
        result = await deletion_queue.delete_handoffs(agent, args[0])
        await deletion_queue.stop_worker()  # the test restarts the "server": the queue must survive that
        return {"done": result.done, "handoffs": result.handoffs, "queued": deletion_queue.queued(engine)}
    if command == "retry":  # as at the start of the server: left-over entries are tried at once, then retried
        started = time.monotonic()
        worker = deletion_queue.start_worker(engine, force_first=True)
        assert worker is not None
        await asyncio.wait_for(worker, timeout=float(args[0]))
        return {"queued": deletion_queue.queued(engine), "seconds": round(time.monotonic() - started, 1)}
    raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(*sys.argv[1:]))))
