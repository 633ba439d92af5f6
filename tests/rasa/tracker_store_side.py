"""Run inside Rasa's environment (``.venv-rasa/bin/python tests/rasa/tracker_store_side.py TMPDIR``) by
``test_tracker_store.py``: the tracker store that bot/endpoints.yml configures, Rasa's speed-ups against Rasa's own
code, and the usage report taking the saved tracker. Prints one JSON line."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

import rasa.shared.utils.common
import sqlalchemy.event
from aiohttp import web
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction
from rasa.core.tracker_store import TrackerStore
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ConversationPaused,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

ROOT = Path(__file__).resolve().parents[2]


def original_resolve(type_name: str, default: Any = None) -> Any:
    """Rasa 3.6's Event.resolve_by_type, as it is in rasa/shared/core/events.py."""
    for cls in rasa.shared.utils.common.all_subclasses(Event):
        if cls.type_name == type_name:
            return cls
    if type_name == "topic":
        return None
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


def outcome(call: Any, *args: Any) -> Any:
    try:
        result = call(*args)
        return result.__name__ if isinstance(result, type) else result
    except ValueError as exc:
        return f"ValueError: {exc}"


async def main(tmp: str) -> dict[str, Any]:
    os.environ["TRACKER_DB_PATH"] = str(Path(tmp) / "tracker.sqlite3")
    endpoints = AvailableEndpoints.read_endpoints(str(ROOT / "bot" / "endpoints.yml"))
    domain = Domain.load(str(ROOT / "bot" / "domain"))
    store = TrackerStore.create(endpoints.tracker_store, domain=domain)
    from rasa_plugins import speedups, usage
    from rasa_plugins.tracker_ops import innermost

    inner = innermost(store)
    result: dict[str, Any] = {"store": f"{type(inner).__module__}.{type(inner).__name__}"}

    # speed-ups: the same class for every event name as Rasa's own walk, the same answers for the odd cases
    names = sorted({cls.type_name for cls in rasa.shared.utils.common.all_subclasses(Event)})
    cases = [(n,) for n in names] + [("topic",), ("no-such-event",), ("no-such-event", SlotSet)]
    result["resolve_same"] = all(outcome(Event.resolve_by_type, *c) == outcome(original_resolve, *c) for c in cases)
    result["resolve_patched"] = Event.resolve_by_type is speedups.resolve_by_type
    result["event_names"] = len(names)

    action = RemoteAction("action_x", None)
    good = {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "Hallo"}]}
    bad = {"events": [{"event": "slot", "name": 5}], "responses": "nein"}
    result["valid_ok"] = action._validate_action_result(good)
    try:
        validate(bad, RemoteAction.action_response_format_spec())
    except ValidationError as exc:
        expected = exc.message
    try:
        action._validate_action_result(bad)
        result["invalid"] = "accepted"
    except ValidationError as exc:
        result["invalid"] = "same" if exc.message.startswith(expected + ". Failed to validate") else exc.message

    # the store: events round-trip, the saved tracker is handed out once
    sender = "conv-fast"
    events = [SessionStarted(), ActionExecuted("action_listen"),
              UserUttered("Was ist BAB?", {"name": "ask_funding", "confidence": 0.97},
                          parse_data={"intent": {"name": "ask_funding", "confidence": 0.97}}),
              SlotSet("persona", "student"), ActionExecuted("utter_bab")]
    tracker = DialogueStateTracker.from_events(sender, events, domain.slots)
    threads: set[str] = set()
    sqlalchemy.event.listen(inner.engine, "before_cursor_execute",
                            lambda *_: threads.add(threading.current_thread().name))
    await store.save(tracker)
    again = await store.retrieve(sender)
    result["sql_threads"] = sorted({name.split("_")[0] for name in threads})
    result["round_trip"] = [e.as_dict() for e in again.events] == [e.as_dict() for e in tracker.events]
    result["slot"] = again.get_slot("persona")

    # the usage report of that turn goes to a console, without reading the tracker store again
    received: list[dict[str, Any]] = []

    async def usage_endpoint(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.json_response({"ok": True})

    app = web.Application()
    from core.protocol import CONSOLE_USAGE_PATH

    app.router.add_post(CONSOLE_USAGE_PATH, usage_endpoint)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    os.environ.update(CONSOLE_URL=f"http://127.0.0.1:{port}", CONSOLE_INBOUND_TOKEN="t" * 24,
                      PSEUDONYM_KEY="k" * 24)
    reads = 0
    original_retrieve = store.retrieve

    async def counting_retrieve(sender_id: str) -> Any:
        nonlocal reads
        reads += 1
        return await original_retrieve(sender_id)

    store.retrieve = counting_retrieve  # type: ignore[method-assign]
    agent = type("Agent", (), {"tracker_store": store})()
    usage.report_turn(agent, sender, "rest")
    await asyncio.gather(*usage._tasks)
    result["reads_with_saved"] = reads
    usage.report_turn(agent, sender, "rest")  # handed out once: the second report reads the store
    await asyncio.gather(*usage._tasks)
    result["reads_without_saved"] = reads
    result["reports"] = [{k: r[k] for k in ("intent", "missed", "channel")} for r in received]

    # the indexed "has an event" questions of the REST channel run in the store's worker thread too
    from rasa_plugins.tracker_ops import conversation_exists, had_handoff

    threads.clear()
    result["exists"] = [await conversation_exists(agent, sender), await conversation_exists(agent, "conv-none")]
    result["handoff_before_pause"] = await had_handoff(agent, sender)

    paused = DialogueStateTracker.from_events(sender, [*events, UserUttered("Hallo"), ConversationPaused()],
                                              domain.slots)
    await store.save(paused)
    usage.report_turn(agent, sender, "rest")
    await asyncio.gather(*usage._tasks)
    result["reports_after_pause"] = len(received)
    result["handoff_after_pause"] = [await had_handoff(agent, sender), await had_handoff(agent, "conv-none")]
    result["query_threads"] = sorted({name.split("_")[0] for name in threads})

    from rasa_plugins import tracker_store

    tracker_store.SAVED_LIMIT = 3  # keeps the newest three conversations
    for i in range(5):
        await store.save(DialogueStateTracker.from_events(f"conv-{i}", events[:3], domain.slots))
    result["kept"] = [i for i in range(5) if inner.take_saved(f"conv-{i}") is not None]

    # the database fails (here: its table is gone): Rasa's fail-safe wrapper swallows the error; the store reports
    # it for that conversation, once, and for no other
    from rasa.core.tracker_store import FailSafeTrackerStore

    from rasa_plugins.tracker_ops import store_failed

    safe = FailSafeTrackerStore(store)  # as rasa.core.agent wraps every store
    agent = type("Agent", (), {"tracker_store": safe})()
    result["failed_before"] = store_failed(agent, "conv-broken")
    with inner.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE events")
    await safe.save(DialogueStateTracker.from_events("conv-broken", events[:3], domain.slots))
    result["failed"] = [store_failed(agent, "conv-broken"), store_failed(agent, "conv-broken"),
                        store_failed(agent, "conv-0")]
    result["retrieve_failed"] = [await safe.retrieve("conv-0") is None, store_failed(agent, "conv-0")]
    await runner.cleanup()
    return result


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1]))))
