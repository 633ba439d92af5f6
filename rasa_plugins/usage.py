"""After each bot turn: tell the adviser console what was asked, without blocking the reply (issue 14).

``report_turn(agent, sender_id, channel)`` schedules a task and returns at once. The task takes the turn's last
user message from the tracker the turn just saved (``rasa_plugins.tracker_store``: handed over once, no second
read of the whole conversation; with another store, or if none was kept, it reads the tracker store) and posts a
:class:`core.protocol.UsageReport` to the console
(``CONSOLE_USAGE_PATH``, ``X-Inbound-Token``): the conversation's *pseudonym* (never its id), the channel, the
intent and its confidence, and — only if the bot missed the message (``nlu_fallback``, the core fallback
``action_default_fallback``, or a confidence below ``MISSED_CONFIDENCE``) — the text, cut to ``MAX_MISSED_TEXT``
characters. Paused conversations (an adviser has them) and button payloads are not reported as missed. Any
failure is logged at debug level and forgotten: a usage count is not worth a slower or failed reply.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

from core.protocol import (
    CONSOLE_USAGE_PATH,
    INBOUND_TOKEN_HEADER,
    MAX_MISSED_TEXT,
    MISSED_CONFIDENCE,
    UsageReport,
)
from rasa_plugins import settings
from rasa_plugins.tracker_ops import innermost

log = logging.getLogger(__name__)

FALLBACK_INTENT = "nlu_fallback"
CORE_FALLBACK_ACTION = "action_default_fallback"
REPORT_TIMEOUT = 2.0  # seconds; the task gives up after this
_tasks: set[asyncio.Task[None]] = set()  # strong references until done (asyncio keeps only weak ones)


def report_turn(agent: Any, sender_id: str, channel: str) -> None:
    """Fire and forget: report the turn just handled (call after the reply is built, never awaits)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # no running loop (not inside the server)
        return
    task = loop.create_task(_report(agent, sender_id, channel, saved_tracker(agent, sender_id)))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


def saved_tracker(agent: Any, sender_id: str) -> Any:
    """The tracker the turn just saved, if the store keeps it (``FastSQLTrackerStore.take_saved``), else None."""
    take = getattr(innermost(agent.tracker_store), "take_saved", None)
    try:
        return take(sender_id) if callable(take) else None
    except Exception:  # noqa: BLE001 - the report then reads the store
        return None


def build_report(tracker: Any, pseudonym: str, channel: str) -> UsageReport | None:
    """The report of the tracker's last user message; None if there is nothing to report (paused, no message)."""
    if tracker is None or tracker.is_paused():
        return None
    events = list(tracker.events)
    index = next((i for i in range(len(events) - 1, -1, -1) if getattr(events[i], "type_name", None) == "user"), None)
    if index is None:
        return None
    user = events[index]
    parse = getattr(user, "parse_data", None) or {}
    intent = (parse.get("intent") or {}).get("name")
    confidence = (parse.get("intent") or {}).get("confidence")
    text = getattr(user, "text", None) or ""
    if intent == FALLBACK_INTENT:  # the classifier's best guess is the first real intent of the ranking
        ranking = [r for r in parse.get("intent_ranking") or [] if r.get("name") != FALLBACK_INTENT]
        if ranking:
            intent, confidence = ranking[0].get("name"), ranking[0].get("confidence")
        missed = True
    else:
        core_fallback = any(getattr(e, "action_name", None) == CORE_FALLBACK_ACTION for e in events[index + 1:])
        low = isinstance(confidence, int | float) and confidence < MISSED_CONFIDENCE
        missed = core_fallback or low
    if text.startswith("/"):  # a button payload: chosen, not misunderstood
        missed = False
    return {
        "pseudonym": pseudonym,
        "channel": channel,
        "intent": intent if isinstance(intent, str) else None,
        "confidence": float(confidence) if isinstance(confidence, int | float) else None,
        "missed": missed,
        "text": text[:MAX_MISSED_TEXT] if missed else None,
    }


async def _report(agent: Any, sender_id: str, channel: str, tracker: Any = None) -> None:
    current = settings.current()
    try:
        if tracker is None:
            tracker = await agent.tracker_store.retrieve(sender_id)
        report = build_report(tracker, current.pseudonym(sender_id), channel)
        if report is None:
            return
        headers = {INBOUND_TOKEN_HEADER: current.inbound_token} if current.inbound_token else {}
        timeout = aiohttp.ClientTimeout(total=min(REPORT_TIMEOUT, current.console_timeout))
        async with aiohttp.ClientSession(timeout=timeout, headers=headers) as session:
            async with session.post(current.console_url + CONSOLE_USAGE_PATH, json=report) as resp:
                if resp.status >= 400:
                    log.debug("usage report refused: HTTP %s", resp.status)
    except Exception as exc:  # noqa: BLE001 - never let a usage report disturb the server
        log.debug("usage report not sent: %s", type(exc).__name__)
