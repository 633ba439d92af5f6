"""The user's copy of everything stored about their conversation (right of access, Art. 15 DSGVO).

Runs INSIDE the Rasa server. ``action_data_export`` sends the marker ``{"custom": {"export_conversation": true}}``;
after the turn the channel replaces it with ``{"custom": {"data_export": {...}}}`` (``with_exports``), built here
from the conversation's *full* tracker (every session, not only the one the action server sees) and its hand-offs
from the adviser console (``GET /api/export/{id}``, ``X-Inbound-Token``). So the export goes exactly where the
turn's reply goes — to whoever owns the conversation — and is never stored in the tracker itself.

Contents: every stored event in order (user messages with the recognised intent and entities, bot messages, slot
values, actions, pauses …) and every hand-off with summary, transcript, thread, the advisers' internal notes
(personal data about the user too, so they belong in the copy) and outbox messages. Advisers' names are left out
(their data, Art. 15 (4)): adviser messages say only ``"role": "adviser"``.

Clients: the web chat offers the JSON as a download, the Telegram bridge sends it as a file, Messenger (which
cannot take a file from a bot here) gets ``summary_text`` instead.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from core.protocol import (
    EXPORT_FORMAT,
    PAUSE_EVENT,
    export_message,
    is_export_marker,
)
from rasa_plugins import console_client, settings
from rasa_plugins.console_client import ConsoleUnavailable

log = logging.getLogger(__name__)

HANDOFFS_UNAVAILABLE = ("Die Gespräche mit der Beratung konnten gerade nicht geladen werden. "
                        "Bitte später noch einmal „Meine Daten“ schreiben.")


def _time(timestamp: Any) -> str | None:
    if not isinstance(timestamp, (int, float)):
        return None
    return dt.datetime.fromtimestamp(timestamp, tz=dt.timezone.utc).isoformat(timespec="seconds")  # noqa: UP017


def event_record(event: dict[str, Any]) -> dict[str, Any]:
    """One tracker event (Rasa's ``as_dict()``) as the export shows it."""
    kind = str(event.get("event"))
    record: dict[str, Any] = {"type": kind, "time": _time(event.get("timestamp"))}
    if kind == "user":
        parse = event.get("parse_data") if isinstance(event.get("parse_data"), dict) else {}
        intent = parse.get("intent") if isinstance(parse.get("intent"), dict) else {}
        record.update(text=event.get("text"), intent=intent.get("name"), channel=event.get("input_channel"),
                      entities=[{"entity": e.get("entity"), "value": e.get("value")}
                                for e in parse.get("entities") or [] if isinstance(e, dict)])
    elif kind == "bot":
        data = event.get("data") if isinstance(event.get("data"), dict) else {}
        record["text"] = event.get("text")
        buttons = [b.get("title") for b in data.get("buttons") or [] if isinstance(b, dict)]
        if buttons:
            record["buttons"] = buttons
        if data.get("custom"):
            record["custom"] = data["custom"]
    elif kind == "slot":
        record.update(name=event.get("name"), value=event.get("value"))
    elif kind == "action":
        record["name"] = event.get("name")
    elif kind == "active_loop":
        record["name"] = event.get("name")
    return record


async def build_export(agent: Any, sender_id: str) -> dict[str, Any]:
    """Everything stored about the conversation ``sender_id`` (and nothing about any other)."""
    tracker = await agent.tracker_store.retrieve_full_tracker(sender_id)
    events = [e.as_dict() for e in tracker.events] if tracker is not None else []
    export: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),  # noqa: UP017
        "conversation": {"id": sender_id, "code": settings.current().pseudonym(sender_id)},
        "explanation": ("Alles, was zu diesem Chat gespeichert ist: events = der Verlauf (Nachrichten, was der Bot "
                        "erkannt hat, Einstellungen), handoffs = Übergaben an die Beratung mit Verlauf und Notizen."),
        "events": [event_record(e) for e in events],
        "handoffs": [],
        "handoffs_complete": True,
    }
    if any(e.get("event") == PAUSE_EVENT for e in events):  # a hand-off always pauses the conversation
        try:
            export["handoffs"] = await console_client.export_handoffs(sender_id)
        except ConsoleUnavailable as exc:
            log.warning("export without hand-offs, console unreachable (conversation %s): %s",
                        settings.current().pseudonym(sender_id), exc)
            export["handoffs"] = None
            export["handoffs_complete"] = False
            export["note"] = HANDOFFS_UNAVAILABLE
    return export


async def with_exports(agent: Any, sender_id: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The turn's reply with each export marker replaced by the export message (unchanged if there is none)."""
    if not any(is_export_marker(m) for m in messages):
        return messages
    export = await build_export(agent, sender_id)
    log.info("export built: %d events, %s hand-offs (conversation %s)", len(export["events"]),
             "?" if export["handoffs"] is None else len(export["handoffs"]), export["conversation"]["code"])
    return [export_message(sender_id, export) if is_export_marker(m) else m for m in messages]


def _day(iso: str | None) -> str:
    return f"{iso[8:10]}.{iso[5:7]}.{iso[:4]}" if iso else "?"


def summary_text(export: dict[str, Any]) -> str:
    """A short German overview of an export, for channels that cannot receive the file (Messenger)."""
    events = export.get("events") or []
    user = [e for e in events if e.get("type") == "user"]
    bot = [e for e in events if e.get("type") == "bot" and e.get("text")]
    slots = {e["name"]: e.get("value") for e in events if e.get("type") == "slot" and e.get("name") != "requested_slot"}
    times = [e["time"] for e in events if e.get("time")]
    lines = [
        f"Gespeichert zu diesem Chat (Kennung {export.get('conversation', {}).get('code')}):",
        f"- {len(user)} eigene Nachricht(en) und {len(bot)} Antwort(en), vom {_day(min(times) if times else None)} "
        f"bis {_day(max(times) if times else None)}",
        "- erkannte Angaben: " + (", ".join(f"{k}: {v}" for k, v in sorted(slots.items()) if v not in (None, ""))
                                 or "keine"),
    ]
    handoffs = export.get("handoffs")
    if handoffs is None:
        lines.append("- " + HANDOFFS_UNAVAILABLE)
    else:
        thread = sum(len(h.get("thread") or []) for h in handoffs)
        lines.append(f"- {len(handoffs)} Übergabe(n) an die Beratung mit {thread} Nachricht(en)")
    return "\n".join(lines)[:1900]
