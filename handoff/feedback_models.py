"""Satisfaction ratings of hand-offs, messages the bot missed, and daily usage counts without text (issue 14).

Nothing here stores a conversation id: missed messages and the daily counts carry the conversation's pseudonym
(``core.protocol.pseudonym``) only. Missed messages and daily counts are deleted after the retention period
(``feedback.purge_feedback``); a rating goes with its hand-off (``ON DELETE CASCADE``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow
from core.protocol import MAX_MISSED_TEXT

MAX_COMMENT = 1000
MAX_LABEL = 200


class HandoffRating(Base):
    """The user's rating (1–5) of a closed hand-off, with an optional comment. One per hand-off."""

    __tablename__ = "handoff_rating"

    id: Mapped[int] = mapped_column(primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoff.id", ondelete="CASCADE"), unique=True)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)  # ≤ MAX_COMMENT characters (cut by feedback.add_comment)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class MissedMessage(Base):
    """A user message the bot did not understand (``nlu_fallback``) or answered with low confidence."""

    __tablename__ = "missed_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(40), index=True)  # never the conversation id
    channel: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(String(MAX_MISSED_TEXT))
    normalized: Mapped[str] = mapped_column(String(MAX_MISSED_TEXT), index=True)  # grouping key
    intent: Mapped[str | None] = mapped_column(String(100))  # the classifier's best guess
    confidence: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    label: Mapped[str | None] = mapped_column(String(MAX_LABEL))  # intent:NAME | article:SLUG | out_of_scope
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("adviser.id", ondelete="SET NULL"))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class ConversationDay(Base):
    """One conversation (pseudonym) active on one day (Europe/Berlin): turns and missed messages, no text."""

    __tablename__ = "usage_conversation_day"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel: Mapped[str] = mapped_column(String(30))
    turns: Mapped[int] = mapped_column(Integer, default=0)
    missed: Mapped[int] = mapped_column(Integer, default=0)


class TopicDay(Base):
    """How often an intent (topic) was recognised on one day (Europe/Berlin)."""

    __tablename__ = "usage_topic_day"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    topic: Mapped[str] = mapped_column(String(100), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
