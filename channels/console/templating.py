"""The Jinja2 environment of the pages (autoescape always on) and German display filters."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from fastapi.templating import Jinja2Templates

from channels.console import pseudonyms

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
LOCAL = ZoneInfo("Europe/Berlin")

STATUS = {"waiting": "wartet", "assigned": "zugewiesen", "closed": "abgeschlossen"}
REASON = {"request": "Wunsch nach Beratung", "fallback": "Bot kam nicht weiter", "sensitive_topic": "Sensibles Thema"}
ROLE = {"adviser": "Beratung", "admin": "Administration"}
SPEAKER = {"user": "Person", "bot": "Bot", "adviser": "Beratung", "system": "System"}
ACTION = {
    "login": "Anmeldung",
    "route": "Team zugeordnet",
    "transfer": "Weitergeleitet",
    "team_saved": "Team gespeichert",
    "login_failed": "Anmeldung fehlgeschlagen",
    "logout": "Abmeldung",
    "read": "gelesen",
    "reply": "geantwortet",
    "note": "Notiz",
    "assign": "zugewiesen",
    "close": "abgeschlossen",
    "export": "exportiert",
    "resume": "Bot fortgesetzt",
    "resume_failed": "Bot-Fortsetzung fehlgeschlagen",
    "account_deactivated": "Konto gesperrt",
    "account_activated": "Konto freigegeben",
    "token_revoked": "API-Token widerrufen",
    "canned_reply": "Textbaustein",
}
SUMMARY_LABELS = {
    "persona": "Anrede",
    "occupation": "Beruf",
    "place": "Ort",
    "topic": "Thema",
    "intents": "Erkannte Anliegen",
    "slots": "Weitere Angaben",
}


def to_datetime(value: Any) -> dt.datetime | None:
    """Naive UTC datetime from a datetime, an ISO string or a Unix timestamp (transcript entries)."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is None else value.astimezone(dt.UTC).replace(tzinfo=None)
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.UTC).replace(tzinfo=None)
    if isinstance(value, str) and value:
        try:
            return to_datetime(dt.datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def local_time(value: Any, with_date: bool = True) -> str:
    when = to_datetime(value)
    if when is None:
        return "–"
    local = when.replace(tzinfo=dt.UTC).astimezone(LOCAL)
    return local.strftime("%d.%m.%Y, %H:%M") if with_date else local.strftime("%H:%M")


def iso(value: Any) -> str:
    when = to_datetime(value)
    return when.replace(tzinfo=dt.UTC).isoformat() if when else ""


def duration(start: Any, end: dt.datetime | None = None) -> str:
    when = to_datetime(start)
    if when is None:
        return "–"
    end = end or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    minutes = max(0, int((end - when).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} Min."
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} Std. {minutes} Min."
    days, hours = divmod(hours, 24)
    return f"{days} Tg. {hours} Std."


def waiting_minutes(start: dt.datetime, end: dt.datetime | None = None) -> int:
    end = end or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return max(0, int((end - start).total_seconds() // 60))


def plain(value: Any) -> str:
    """A summary value as readable text (lists joined, dicts as "key: value"); escaping is left to Jinja."""
    if value is None or value == "" or value == [] or value == {}:
        return "–"
    if isinstance(value, list | tuple):
        return ", ".join(plain(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {plain(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return "ja" if value else "nein"
    return str(value)


def make_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # every user-provided text is escaped
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(local_time=local_time, iso=iso, duration=duration, plain=plain, pseudonym=pseudonyms.of)
    env.globals.update(
        STATUS=STATUS, REASON=REASON, ROLE=ROLE, SPEAKER=SPEAKER, ACTION=ACTION, SUMMARY_LABELS=SUMMARY_LABELS
    )
    return Jinja2Templates(env=env)
