"""Run inside Rasa's environment (``.venv-rasa/bin/python tests/rasa/fast_load_side.py``) by
``test_fast_load.py``: the bot's trained model loaded by Rasa's own ``RasaModel.load`` and by
``rasa_plugins.fast_load``; prints one JSON line comparing the two."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from rasa.core.agent import Agent
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

from rasa_plugins import fast_load

ROOT = Path(__file__).resolve().parents[2]
MODEL = str(ROOT / "models" / "bot.tar.gz")


def messages() -> list[str]:
    """The held-out NLU test messages (plain text, entity marks removed)."""
    texts: list[str] = []
    for path in sorted((ROOT / "tests" / "nlu").glob("test_*.yml")):
        data = RasaYAMLReader().reads(path.read_text(encoding="utf-8"))
        texts += [m.get("text") for m in data.intent_examples]
    return texts


def tf_models(agent: Agent) -> dict[str, Any]:
    """The TensorFlow models of the loaded graph (DIET, TED) by node name."""
    found = {}
    for name, node in agent.processor.graph_runner._instantiated_nodes.items():  # type: ignore[union-attr]
        model = getattr(getattr(node, "_component", None), "model", None)
        if model is not None and hasattr(model, "weights"):
            found[name] = node._component
    return found


def timed_load() -> tuple[Agent, float]:
    start = time.monotonic()
    agent = Agent.load(MODEL)
    return agent, time.monotonic() - start


async def main() -> dict[str, Any]:
    fast_load.install()
    fast, fast_seconds = timed_load()
    fast_load.uninstall()
    rasa, rasa_seconds = timed_load()
    result: dict[str, Any] = {"seconds": {"rasa": round(rasa_seconds, 1), "fast": round(fast_seconds, 1)}}

    ours, theirs = tf_models(fast), tf_models(rasa)
    result["models"] = sorted(ours)
    result["same_models"] = sorted(ours) == sorted(theirs)
    result["variables"] = {}
    for name in ours:
        mine = {v.name: v.numpy() for v in ours[name].model.weights}
        other = {v.name: v.numpy() for v in theirs[name].model.weights}
        result["variables"][name] = {
            "count": len(mine),
            "same_names": sorted(mine) == sorted(other),
            "same_values": all(np.array_equal(mine[k], other[k]) for k in mine if k in other),
            "same_label_embeddings": bool(np.array_equal(ours[name].model.all_labels_embed.numpy(),
                                                         theirs[name].model.all_labels_embed.numpy())),
        }

    # the same messages get the same intents, rankings, confidences and entities …
    texts = messages()
    parses_differ, ted_differs = [], 0
    ted_fast = next(c for n, c in ours.items() if "TED" in n)
    ted_rasa = next(c for n, c in theirs.items() if "TED" in n)
    for text in texts:
        mine, other = await fast.parse_message(text), await rasa.parse_message(text)
        if mine != other:
            parses_differ.append(text)
        # … and TED the same next-action probabilities after that message (the first turn of a conversation)
        events = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
                  UserUttered(text, intent=other["intent"], entities=other["entities"], parse_data=other)]
        tracker = DialogueStateTracker.from_events("fast-load", events, rasa.domain.slots)
        p_fast = ted_fast.predict_action_probabilities(tracker, fast.domain).probabilities
        p_rasa = ted_rasa.predict_action_probabilities(tracker, rasa.domain).probabilities
        ted_differs += p_fast != p_rasa
    result["messages"] = len(texts)
    result["parses_differ"] = parses_differ[:5]
    result["ted_differs"] = ted_differs
    return result


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main())))
    sys.stdout.flush()
