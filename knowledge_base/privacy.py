"""The privacy information (Art. 13 DSGVO): one text for every channel.

The wording lives in ``knowledge_base/content/privacy.yml`` (sections with placeholders, source and Stand); this
module fills in who runs the bot (``PrivacySettings``: ``PRIVACY_OPERATOR_NAME`` …) and the retention periods
(``RetentionSettings``: ``RETENTION_CONVERSATION_DAYS``, ``RETENTION_HANDOFF_DAYS``), so the text always states what
the running system does. Used by ``action_privacy_info`` (chat, Telegram ``/datenschutz``, Messenger) and by the
web chat's ``/datenschutz`` page. Plain text only; the page escapes it (Jinja autoescape).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from core.settings import PrivacySettings, RetentionSettings

PRIVACY_FILE = Path(__file__).resolve().parent / "content" / "privacy.yml"
CHAT_MESSAGE_LIMIT = 1900  # Messenger takes 2,000 characters per message; Telegram 4,096


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    text: str


@dataclass(frozen=True)
class PrivacyText:
    title: str
    sections: tuple[Section, ...]
    source_name: str
    source_url: str
    stand: dt.date
    to_verify: bool

    def chat_messages(self, limit: int = CHAT_MESSAGE_LIMIT) -> list[str]:
        """The text as chat messages: sections ("Titel: Text") joined by blank lines, a new message before a
        section would pass ``limit`` characters; the first message starts with the title, the last ends with the
        source line."""
        parts = [f"{self.title}"] + [f"{s.title}\n{s.text}" for s in self.sections] + [self.source_line]
        messages: list[str] = []
        for part in parts:
            if messages and len(messages[-1]) + 2 + len(part) <= limit:
                messages[-1] += "\n\n" + part
            else:
                messages.append(part[:limit])
        return messages

    @property
    def source_line(self) -> str:
        return f"Quelle: {self.source_name} ({self.source_url}), Stand {self.stand.strftime('%d.%m.%Y')}"


@lru_cache(maxsize=4)
def _template(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict) or not isinstance(data.get("sections"), list):
        raise ValueError(f"{path.name}: 'sections' fehlt")
    return data


def values(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The placeholders' values from the settings (``environ``: tests; ``None``: the process environment)."""
    privacy = PrivacySettings.from_env(environ)
    retention = RetentionSettings.from_env(environ)
    return {
        "operator_name": privacy.operator_name.strip(),
        "operator_contact": privacy.operator_contact.strip(),
        "dpo_contact": privacy.dpo_contact.strip(),
        "conversation_days": str(retention.conversation_days),
        "handoff_days": str(retention.handoff_days),
    }


def privacy_text(environ: Mapping[str, str] | None = None, path: Path = PRIVACY_FILE) -> PrivacyText:
    """The privacy information with the current settings filled in."""
    data = _template(path)
    filled = values(environ)
    sections = tuple(
        Section(key=str(s["key"]), title=str(s["title"]), text=_fill(str(s["text"]), filled))
        for s in data["sections"]
    )
    stand = data["stand"]
    return PrivacyText(
        title=str(data["title"]),
        sections=sections,
        source_name=str(data["source_name"]),
        source_url=str(data["source_url"]),
        stand=stand if isinstance(stand, dt.date) else dt.date.fromisoformat(str(stand)),
        to_verify=bool(data.get("to_verify", False)),
    )


def _fill(text: str, filled: Mapping[str, str]) -> str:
    """Replace ``{name}`` placeholders; values are inserted as they are (never formatted again)."""
    for name, value in filled.items():
        text = text.replace("{" + name + "}", value)
    return text
