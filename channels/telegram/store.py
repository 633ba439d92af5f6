"""Database access of the bridge: mapping, queue and button payloads. Functions take the caller's session."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Collection

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from channels.telegram.models import (
    TelegramButton,
    TelegramChat,
    TelegramOutboxDelivered,
    TelegramPending,
    TelegramUpdate,
)
from core.db import utcnow
from core.protocol import TELEGRAM_CONVERSATION_PREFIX

CONVERSATION_PREFIX = TELEGRAM_CONVERSATION_PREFIX
BUTTON_PREFIX = "b:"


# --- chat ↔ conversation ------------------------------------------------------------------------------------


def conversation_for(session: Session, chat_id: int) -> str:
    """The Rasa conversation id of a chat; a new random one on first contact (or after /loeschen)."""
    chat = session.get(TelegramChat, chat_id)
    if chat is None:
        chat = TelegramChat(chat_id=chat_id, conversation_id=CONVERSATION_PREFIX + secrets.token_urlsafe(16))
        session.add(chat)
        session.flush()
    else:
        chat.last_seen_at = utcnow()
    return chat.conversation_id


def existing_conversation(session: Session, chat_id: int) -> str | None:
    chat = session.get(TelegramChat, chat_id)
    return chat.conversation_id if chat else None


def chat_for(session: Session, conversation_id: str) -> int | None:
    return session.scalar(select(TelegramChat.chat_id).where(TelegramChat.conversation_id == conversation_id))


def forget_chat(session: Session, chat_id: int) -> None:
    """Delete the mapping and anything still queued for this chat (the user asked for deletion)."""
    session.execute(delete(TelegramPending).where(TelegramPending.chat_id == chat_id))
    session.execute(delete(TelegramChat).where(TelegramChat.chat_id == chat_id))


def purge_idle(session: Session, cutoff: dt.datetime, conversation_ids: Collection[str] = ()) -> tuple[int, int]:
    """Retention: forget chats last seen before ``cutoff`` or whose conversation was purged, with their queued
    messages, and queued messages older than ``cutoff``. Returns (mappings, queued messages) deleted."""
    stale = select(TelegramChat.chat_id).where(TelegramChat.last_seen_at < cutoff)
    chat_ids = set(session.scalars(stale))
    ids = list(conversation_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        chat_ids.update(session.scalars(select(TelegramChat.chat_id).where(TelegramChat.conversation_id.in_(chunk))))
    chats = sorted(chat_ids)
    pending = session.execute(delete(TelegramPending).where(TelegramPending.received_at < cutoff)).rowcount or 0
    mappings = 0
    for start in range(0, len(chats), 500):
        chunk = chats[start:start + 500]
        pending += session.execute(delete(TelegramPending).where(TelegramPending.chat_id.in_(chunk))).rowcount or 0
        mappings += session.execute(delete(TelegramChat).where(TelegramChat.chat_id.in_(chunk))).rowcount or 0
    return int(mappings), int(pending)


# --- queue of unanswered messages ---------------------------------------------------------------------------


def enqueue(session: Session, chat_id: int, text: str, update_id: int | None, bot_id: int = 0) -> bool:
    """Store a message before Rasa is asked; False if this update was taken before (Telegram retried)."""
    if update_id is not None:
        if session.get(TelegramUpdate, (bot_id, update_id)) is not None:
            return False
        try:
            with session.begin_nested():
                session.add(TelegramUpdate(bot_id=bot_id, update_id=update_id))
        except IntegrityError:
            return False
    session.add(TelegramPending(chat_id=chat_id, text=text))
    session.flush()
    return True


def prune_updates(session: Session, keep: dt.timedelta = dt.timedelta(days=2),
                  keep_delivered: dt.timedelta = dt.timedelta(days=7)) -> int:
    """Forget update ids older than ``keep`` and delivered outbox ids older than ``keep_delivered``."""
    result = session.execute(delete(TelegramUpdate).where(TelegramUpdate.received_at < utcnow() - keep))
    delivered = session.execute(
        delete(TelegramOutboxDelivered).where(TelegramOutboxDelivered.delivered_at < utcnow() - keep_delivered)
    )
    return int(result.rowcount or 0) + int(delivered.rowcount or 0)  # type: ignore[attr-defined]


# --- adviser replies delivered once ---------------------------------------------------------------------------


def outbox_delivered(session: Session, outbox_id: int) -> bool:
    """True if the console's outbox message ``outbox_id`` already reached its chat, every part of it."""
    row = session.get(TelegramOutboxDelivered, outbox_id)
    return row is not None and row.complete


def outbox_parts_sent(session: Session, outbox_id: int) -> int:
    """How many parts of the outbox message ``outbox_id`` went out in an earlier, interrupted delivery."""
    row = session.get(TelegramOutboxDelivered, outbox_id)
    return 0 if row is None else row.parts_sent


def record_outbox_part(session: Session, outbox_id: int, parts_sent: int) -> None:
    """The first ``parts_sent`` parts of the outbox message reached the chat; the rest has not (yet)."""
    row = session.get(TelegramOutboxDelivered, outbox_id)
    if row is None:
        session.add(TelegramOutboxDelivered(outbox_id=outbox_id, parts_sent=parts_sent, complete=False))
    else:
        row.parts_sent, row.delivered_at = parts_sent, utcnow()


def record_outbox_delivered(session: Session, outbox_id: int) -> None:
    row = session.get(TelegramOutboxDelivered, outbox_id)
    if row is None:
        session.add(TelegramOutboxDelivered(outbox_id=outbox_id, complete=True))
    else:
        row.complete, row.delivered_at = True, utcnow()


def next_pending(session: Session, chat_id: int) -> TelegramPending | None:
    return session.scalar(
        select(TelegramPending).where(TelegramPending.chat_id == chat_id).order_by(TelegramPending.id).limit(1)
    )


def chats_with_pending(session: Session) -> list[int]:
    return list(session.scalars(select(TelegramPending.chat_id).distinct()))


# --- long button payloads -------------------------------------------------------------------------------------


def callback_data(session: Session, payload: str, limit: int = 64) -> str:
    """``payload`` itself if it fits Telegram's limit, else a short key stored with the payload."""
    if len(payload.encode("utf-8")) <= limit and not payload.startswith(BUTTON_PREFIX):
        return payload
    key = hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]
    if session.get(TelegramButton, key) is None:
        session.add(TelegramButton(key=key, payload=payload))
        session.flush()
    return BUTTON_PREFIX + key


def payload_for(session: Session, data: str) -> str | None:
    """The payload behind a button's callback data; None for a key that is not known (any more)."""
    if not data.startswith(BUTTON_PREFIX):
        return data
    button = session.get(TelegramButton, data[len(BUTTON_PREFIX):])
    return button.payload if button else None
