"""Hand-off records: a conversation handed to a human adviser, its thread, notes, advisers and the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, utcnow
from handoff.teams import Team

STATUSES = ("waiting", "assigned", "closed")
OPEN_STATUSES = ("waiting", "assigned")
ROLES = ("adviser", "admin")


class Adviser(Base):
    __tablename__ = "adviser"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="adviser")  # adviser | admin
    active: Mapped[bool] = mapped_column(default=True)
    api_token_hash: Mapped[str | None] = mapped_column(String(200))  # sha256 of the API token, if one was issued
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Handoff(Base):
    """One hand-off of a conversation (status waiting → assigned → closed)."""

    __tablename__ = "handoff"
    __table_args__ = (Index("ix_handoff_conversation_status", "conversation_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(200))  # Rasa sender id
    channel: Mapped[str] = mapped_column(String(30))  # rest | web | telegram …: where replies are dispatched
    status: Mapped[str] = mapped_column(String(20), default="waiting", index=True)
    reason: Mapped[str] = mapped_column(String(40))  # request | fallback | sensitive_topic
    topic: Mapped[str | None] = mapped_column(String(200))
    contact: Mapped[str | None] = mapped_column(String(300))  # how to reach the user outside office hours
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{role, text, at}]
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("adviser.id", ondelete="SET NULL"))
    assigned_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    outcome: Mapped[str | None] = mapped_column(String(300))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id", ondelete="SET NULL"), index=True)  # routing

    adviser: Mapped[Adviser | None] = relationship()
    team: Mapped[Team | None] = relationship()
    messages: Mapped[list[HandoffMessage]] = relationship(
        back_populates="handoff", order_by="HandoffMessage.id", cascade="all, delete-orphan"
    )
    notes: Mapped[list[HandoffNote]] = relationship(order_by="HandoffNote.id", cascade="all, delete-orphan")


class HandoffMessage(Base):
    """A message of the hand-off thread: from the user while waiting/talking, or from an adviser."""

    __tablename__ = "handoff_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoff.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))  # user | adviser | system
    text: Mapped[str] = mapped_column(Text)
    adviser_id: Mapped[int | None] = mapped_column(ForeignKey("adviser.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    handoff: Mapped[Handoff] = relationship(back_populates="messages")
    adviser: Mapped[Adviser | None] = relationship()


class HandoffNote(Base):
    """An internal note of advisers; never shown to the user."""

    __tablename__ = "handoff_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoff.id", ondelete="CASCADE"), index=True)
    adviser_id: Mapped[int | None] = mapped_column(ForeignKey("adviser.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    adviser: Mapped[Adviser | None] = relationship()


class OutboxMessage(Base):
    """A message for the user, waiting to be delivered by its channel (REST/web chat poll it; Telegram pushes)."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_pending", "conversation_id", "delivered_at"),
        Index("ix_outbox_channel_pending", "channel", "delivered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(30))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # Rasa-style bot message: {"text": …, "buttons": …}
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class AuditEntry(Base):
    """Who read, replied to, assigned, closed or exported which hand-off, and logins."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    adviser_id: Mapped[int | None] = mapped_column(ForeignKey("adviser.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(40))  # login | login_failed | read | reply | note | assign | close | export
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoff.id", ondelete="SET NULL"), index=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
