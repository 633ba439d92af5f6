"""Runs INSIDE Rasa's environment (``.venv-rasa``): one long conversation through our REST channel's turn logic
(``SafeRestInput.turn``) or through Rasa alone (``agent.handle_message``), timed per turn, optionally under cProfile.
Started by tests/bench/profile_turn.py against a running action server and console; prints one JSON line.

    python -m tests.bench.profile_inner --turns 100 --store sql|plain|memory --path channel|rasa [--profile FILE]

Stores: ``sql`` is bot/endpoints.yml's (``rasa_plugins.tracker_store.FastSQLTrackerStore``, which installs
``rasa_plugins.speedups``); ``plain`` is Rasa's own ``SQLTrackerStore`` without the speed-ups (the state before
issue 13 §4); ``memory`` is Rasa's in-memory store (no speed-ups either). The messages are tests/bench/side_by_side.py's
``OUR_MESSAGES`` (repeated here: this file runs in Rasa's environment).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import time
import uuid
from typing import Any

MESSAGES = [
    "Wie lange dauert die Ausbildung zum Kfz-Mechatroniker?",
    "Was ist BAB?",
    "Kann ich die Ausbildung in Teilzeit machen?",
    "Was macht eine Bürokauffrau?",
    "Wie viel verdient man in der Ausbildung?",
    "Welchen Abschluss brauche ich für Bankkaufmann?",
    "Ich mag Tiere, welche Berufe passen?",
    "Wo bekomme ich Beratung?",
]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from rasa.core.agent import load_agent
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.utils import AvailableEndpoints

    import rasa_plugins  # noqa: F401  (as in the server: SQLite pragmas)
    from rasa_plugins import timeouts
    from rasa_plugins.rest_channel import SafeRestInput

    timeouts.install()
    endpoints = AvailableEndpoints.read_endpoints(args.endpoints)
    if args.store == "memory":
        endpoints.tracker_store = None
    elif args.store == "plain":
        endpoints.tracker_store.type = "SQL"
    agent = await load_agent(model_path=args.model, endpoints=endpoints)
    channel = SafeRestInput()
    sender = f"profile-{uuid.uuid4().hex[:8]}"
    warm = f"warm-{uuid.uuid4().hex[:8]}"
    for text in MESSAGES:  # warm-up in another conversation
        await agent.handle_message(UserMessage(text, CollectingOutputChannel(), warm, input_channel="rest"))
    profiler = cProfile.Profile() if args.profile else None
    times: list[float] = []
    for i in range(args.turns):
        text = MESSAGES[i % len(MESSAGES)]
        if profiler and i == args.turns - args.profile_last:
            profiler.enable()
        start = time.perf_counter()
        if args.path == "channel":
            messages = await channel.turn(agent.handle_message, agent, sender, text, "rest", None)
        else:
            collector = CollectingOutputChannel()
            await agent.handle_message(UserMessage(text, collector, sender, input_channel="rest"))
            messages = collector.messages
        times.append((time.perf_counter() - start) * 1000)
        assert messages, text
        await asyncio.sleep(0.05)  # let fire-and-forget tasks (usage report) run outside the timed turn
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)
    tracker = await agent.tracker_store.retrieve(sender)
    return {"times": times, "events": len(tracker.events) if tracker else 0}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=100)
    parser.add_argument("--store", choices=("sql", "plain", "memory"), default="sql")
    parser.add_argument("--path", choices=("channel", "rasa"), default="channel")
    parser.add_argument("--profile", default="")
    parser.add_argument("--profile-last", type=int, default=10)
    parser.add_argument("--model", default=os.environ.get("BENCH_MODEL", "models/bot.tar.gz"))
    parser.add_argument("--endpoints", default="bot/endpoints.yml")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
