"""What advisers see instead of a conversation id: its keyed pseudonym (``core.protocol.pseudonym``, key
``PSEUDONYM_KEY``). Pages, the JSON API and exports show only the pseudonym; the raw id stays in the database,
where the console needs it to deliver replies. ``create_app`` sets the key once per process."""

from __future__ import annotations

from core import protocol

_key = ""


def configure(key: str) -> None:
    global _key
    _key = key


def of(conversation_id: str) -> str:
    return protocol.pseudonym(_key, conversation_id)
