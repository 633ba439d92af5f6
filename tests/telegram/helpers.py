"""Small helpers for reading what the bridge sent to the fake Bot API."""

from __future__ import annotations

import html
import re
from typing import Any

from sqlalchemy import create_engine, text

from tests.telegram.fake_bot_api import FakeTelegram


def shown(message: dict[str, Any]) -> str:
    """The text a user sees (HTML tags removed, entities resolved)."""
    return html.unescape(re.sub(r"<[^>]+>", "", message.get("text", "")))


def wait_text(fake: FakeTelegram, chat: int, part: str, after: int = 0, timeout: float = 40) -> list[dict]:
    """All messages sent to ``chat`` (from index ``after``) once one of them contains ``part``."""
    fake.wait_for(lambda: any(part in shown(m) for m in fake.sent_messages(chat)[after:]), timeout=timeout,
                  what=f"a message to {chat} containing {part!r}")
    return fake.sent_messages(chat)[after:]


def last_with_buttons(fake: FakeTelegram, chat: int) -> dict[str, Any]:
    """The newest stored bot message of the chat that has an inline keyboard (with its message_id)."""
    for message in reversed(fake.bot_messages(chat)):
        if (message.get("reply_markup") or {}).get("inline_keyboard"):
            return message
    raise AssertionError(f"no message with buttons in chat {chat}")


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    return [(b["text"], b["callback_data"]) for row in message["reply_markup"]["inline_keyboard"] for b in row]


def conversation_of(kb_url: str, chat: int) -> str | None:
    engine = create_engine(kb_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT conversation_id FROM telegram_chat WHERE chat_id = :c"),
                                {"c": chat}).scalar()
    finally:
        engine.dispose()


def pending_count(kb_url: str, chat: int) -> int:
    engine = create_engine(kb_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM telegram_pending WHERE chat_id = :c"),
                                    {"c": chat}).scalar() or 0)
    finally:
        engine.dispose()


def settle(fake: FakeTelegram, chat: int, quiet: float = 1.0, timeout: float = 30) -> list[dict]:
    """Wait until the bot stopped sending to ``chat`` (no new message for ``quiet`` seconds)."""
    import time

    deadline = time.monotonic() + timeout
    count, since = len(fake.sent_messages(chat)), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = len(fake.sent_messages(chat))
        if now != count:
            count, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return fake.sent_messages(chat)
