"""One way for adviser replies (and the bot's "I'm back") to reach the user, whatever channel they came from.

``dispatch(session, conversation_id, channel, message)`` stores the message in the outbox as part of the caller's
transaction. Nothing leaves the process before that transaction commits: for a channel that pushes (the console
registers pushers for Telegram and Messenger, ``channels/push/``) the push runs *after* the commit, outside any
transaction, and marks the message delivered in a transaction of its own. A rolled-back reply is never pushed;
a failed push leaves the message pending, and the channel collects it later (``pending_for_channel`` /
``mark_delivered``). Delivery is at least once: a push and a collection can race, or a push can time out after the
channel showed the message, so every pushed or collected message carries ``custom.outbox_id`` and the channel
shows each id once (the Telegram bridge keeps the ids it delivered). REST and the web chat have no push: the REST channel returns pending messages with the
next reply, and the web chat polls them (``peek_pending``; reading does not consume, the client acknowledges).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from core import protocol
from core.db import utcnow
from handoff.models import OutboxMessage

log = logging.getLogger(__name__)

Pusher = Callable[[str, dict[str, Any]], bool]  # (conversation_id, message) → delivered?
_pushers: dict[str, Pusher] = {}
_AFTER_COMMIT = "outbox_push_after_commit"  # key in Session.info: outbox ids to push once committed


def register_pusher(channel: str, pusher: Pusher) -> None:
    """A channel that can push messages (e.g. Telegram) registers here; others are polled."""
    _pushers[channel] = pusher


def unregister_pusher(channel: str) -> None:
    _pushers.pop(channel, None)


def dispatch(session: Session, conversation_id: str, channel: str, message: dict[str, Any]) -> OutboxMessage:
    """Store the message for the user; pushed after the caller's commit if the channel pushes."""
    row = OutboxMessage(conversation_id=conversation_id, channel=channel, payload=message)
    session.add(row)
    session.flush()
    if channel in _pushers:
        session.info.setdefault(_AFTER_COMMIT, []).append(row.id)
        if not event.contains(session, "after_commit", _push_after_commit):
            event.listen(session, "after_commit", _push_after_commit)
            event.listen(session, "after_rollback", _forget_after_rollback)
    return row


def _push_after_commit(session: Session) -> None:
    ids = session.info.pop(_AFTER_COMMIT, [])
    if ids:
        push_pending(session, ids)


def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)  # rolled back: these rows do not exist


def push_pending(session: Session, ids: list[int]) -> int:
    """Push the given (committed, undelivered) outbox rows to their channels; each push that the channel
    confirms is marked delivered in its own transaction. Returns the number delivered."""
    bind = session.get_bind()
    with Session(bind) as reader:
        rows = [
            (r.id, r.conversation_id, r.channel, dict(r.payload))
            for r in reader.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.delivered_at.is_(None))
                .order_by(OutboxMessage.id)
            )
        ]
    delivered = 0
    for row_id, conversation_id, channel, payload in rows:
        pusher = _pushers.get(channel)
        if pusher is None:
            continue
        try:
            ok = pusher(conversation_id, protocol.with_outbox_id(payload, row_id))
        except Exception:  # noqa: BLE001 - stays in the outbox, delivered later
            log.exception("push to %s failed; message stays in the outbox", channel)
            ok = False
        if ok:
            with Session(bind) as writer, writer.begin():
                delivered += mark_delivered(writer, [row_id])
    return delivered


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
    return int(getattr(result, "rowcount", 0) or 0)


def peek_pending(session: Session, conversation_id: str, limit: int = 50) -> list[dict[str, Any]]:
    """Pending messages as Rasa-style dicts (with ``recipient_id`` and ``custom.outbox_id``), NOT marked delivered:
    reading does not consume them; the channel acknowledges what it displayed (:func:`mark_delivered_for`)."""
    rows = pending(session, conversation_id)[:limit]
    return [with_outbox_id(conversation_id, row) for row in rows]


def with_outbox_id(conversation_id: str, row: OutboxMessage) -> dict[str, Any]:
    return {"recipient_id": conversation_id, **protocol.with_outbox_id(dict(row.payload), row.id)}


def mark_delivered_for(session: Session, conversation_id: str, ids: list[int]) -> int:
    """Mark delivered those of ``ids`` that belong to this conversation (a client can only acknowledge its own)."""
    if not ids:
        return 0
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.conversation_id == conversation_id,
               OutboxMessage.delivered_at.is_(None))
        .values(delivered_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)
