"""Tables of the Telegram bridge (same database and Alembic history as the knowledge base and the hand-offs).

* ``telegram_chat``: which Rasa conversation (a random id, not the Telegram chat id) belongs to a chat.
* ``telegram_pending``: a user message that has not been answered yet (Rasa was down). Written before Rasa is
  called and removed once the answer was sent, so nothing is lost when Rasa or the bridge stops.
* ``telegram_update``: ids of updates already taken, so a repeated delivery is not answered twice.
* ``telegram_button``: button payloads longer than Telegram's 64-byte ``callback_data`` limit, by hash.
* ``telegram_outbox_delivered``: console outbox ids already delivered to a chat, so a reply that reaches the bridge
  twice (the console's push and the collector racing, or a push retried after a timeout) is shown once; for a reply
  sent in several parts (longer than Telegram's 4,096 characters) also how many parts went out, so a retry after a
  failed part sends only the rest.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, DateTime, Index, Integer, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow


class TelegramChat(Base):
    __tablename__ = "telegram_chat"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    conversation_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class TelegramPending(Base):
    __tablename__ = "telegram_pending"
    __table_args__ = (Index("ix_telegram_pending_chat", "chat_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)  # what is sent to Rasa (a user text or a button payload)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    notified: Mapped[bool] = mapped_column(default=False)  # the user got "gleich wieder da"


class TelegramUpdate(Base):
    """Update ids already taken (Telegram may deliver an update twice, e.g. after a webhook timeout); rows older
    than two days are pruned."""

    __tablename__ = "telegram_update"

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)  # ids count per bot
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class TelegramButton(Base):
    __tablename__ = "telegram_button"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class TelegramOutboxDelivered(Base):
    """Outbox ids (``custom.outbox_id`` of a pushed message) the bridge delivered (``complete``) or began to deliver
    (``parts_sent`` of its parts went out); rows older than seven days are pruned. Holds no content and no chat id."""

    __tablename__ = "telegram_outbox_delivered"

    outbox_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    delivered_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    parts_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    complete: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
