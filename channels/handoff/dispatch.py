"""One way for adviser replies (and the bot's "I'm back") to reach the user, whatever channel they came from.

``dispatch(session, conversation_id, channel, message)`` stores the message in the outbox (committed with the
caller's transaction, so nothing is lost) and hands it to the channel's pusher, if that channel pushes (the
console registers ``channels/handoff/push.py`` pushers for Telegram and Messenger). REST and the web chat have no
push: the REST channel returns pending outbox messages with the next reply, and the web chat polls them
(``take_pending``). A push channel collects what a push missed (``pending_for_channel`` / ``mark_delivered``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from channels.handoff.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)

Pusher = Callable[[str, dict[str, Any]], bool]  # (conversation_id, message) → delivered?
_pushers: dict[str, Pusher] = {}


def register_pusher(channel: str, pusher: Pusher) -> None:
    """A channel that can push messages (e.g. Telegram) registers here; others are polled."""
    _pushers[channel] = pusher


def unregister_pusher(channel: str) -> None:
    _pushers.pop(channel, None)


def dispatch(session: Session, conversation_id: str, channel: str, message: dict[str, Any]) -> OutboxMessage:
    row = OutboxMessage(conversation_id=conversation_id, channel=channel, payload=message)
    session.add(row)
    session.flush()
    pusher = _pushers.get(channel)
    if pusher is not None:
        try:
            if pusher(conversation_id, message):
                row.delivered_at = utcnow()
        except Exception:  # noqa: BLE001 - stays in the outbox, delivered later
            log.exception("push to %s failed; message stays in the outbox", channel)
    return row


def pending(session: Session, conversation_id: str) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.conversation_id == conversation_id, OutboxMessage.delivered_at.is_(None))
            .order_by(OutboxMessage.id)
        )
    )


def pending_for_channel(session: Session, channel: str, limit: int = 100) -> list[OutboxMessage]:
    """Undelivered messages of a push channel, oldest first (the channel collects what a push missed)."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.channel == channel, OutboxMessage.delivered_at.is_(None))
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
    )


def mark_delivered(session: Session, ids: list[int]) -> int:
    if not ids:
        return 0
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.delivered_at.is_(None))
        .values(delivered_at=utcnow())
    )
    return int(result.rowcount or 0)


def take_pending(session: Session, conversation_id: str) -> list[dict[str, Any]]:
    """Pending messages as Rasa-style dicts (with ``recipient_id``), marked delivered."""
    rows = pending(session, conversation_id)
    now = utcnow()
    for row in rows:
        row.delivered_at = now
    return [{"recipient_id": conversation_id, **row.payload} for row in rows]
