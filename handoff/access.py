"""The right of access (Art. 15 DSGVO) on the console's side: every hand-off of one conversation, for the user.

Called through ``GET /api/export/{conversation_id}`` (``X-Inbound-Token``) by the Rasa-side export
(``rasa_plugins/export.py``), which adds the tracker and hands the whole to the conversation's owner. Contains the
summary, the transcript copied at the hand-off, the thread, the advisers' internal notes (they are about the user,
so personal data of the user as well) and the conversation's outbox messages. The advisers' user names are left
out (their personal data, Art. 15 (4) DSGVO); the role says who wrote.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from handoff.models import Handoff, OutboxMessage


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def conversation_export(session: Session, conversation_id: str) -> list[dict[str, Any]]:
    """The hand-offs of exactly this conversation, oldest first, each with its outbox messages."""
    handoffs = session.scalars(
        select(Handoff)
        .where(Handoff.conversation_id == conversation_id)
        .order_by(Handoff.id)
        .options(selectinload(Handoff.messages), selectinload(Handoff.notes))
    ).all()
    outbox = session.scalars(
        select(OutboxMessage).where(OutboxMessage.conversation_id == conversation_id).order_by(OutboxMessage.id)
    ).all()
    result: list[dict[str, Any]] = []
    for index, handoff in enumerate(handoffs):
        last = index == len(handoffs) - 1
        result.append({
            "channel": handoff.channel,
            "status": handoff.status,
            "reason": handoff.reason,
            "topic": handoff.topic,
            "contact": handoff.contact,
            "created_at": _iso(handoff.created_at),
            "closed_at": _iso(handoff.closed_at),
            "outcome": handoff.outcome,
            "summary": handoff.summary,
            "transcript": handoff.transcript,
            "thread": [{"role": m.role, "text": m.text, "at": _iso(m.created_at)} for m in handoff.messages],
            "notes": [{"text": n.text, "at": _iso(n.created_at)} for n in handoff.notes],
            # outbox rows belong to the conversation, not to one hand-off: listed once, with the latest
            "outbox": [{"message": o.payload, "created_at": _iso(o.created_at), "delivered_at": _iso(o.delivered_at)}
                       for o in outbox] if last else [],
        })
    return result
