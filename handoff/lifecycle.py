"""The end of a hand-off and audited reading, shared by the console's pages and JSON API.

A hand-off has two sources of truth that must agree: ``Handoff.status`` here and Rasa's paused tracker. The
invariant: the bot answers a conversation only while it has no open hand-off. Creating a hand-off pauses the
tracker (``action_handoff_create``); closing it (``close_and_resume``) commits ``closed`` first, then resumes the
tracker through Rasa's HTTP API and dispatches the bot's "I'm back". If Rasa is down at that moment the hand-off
stays closed, the bot stays paused, and ``resume_bot`` can be repeated (recorded as audit ``resume``) until it
worked. A newer open hand-off of the same conversation keeps the bot paused.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import utcnow
from core.errors import RasaUnavailable
from handoff import feedback, outbox, rasa_client, service
from handoff.models import Adviser, AuditEntry, Handoff

log = logging.getLogger(__name__)

READ_AUDIT_WINDOW = dt.timedelta(minutes=10)  # a page reloaded within this time is not logged again


@dataclass(frozen=True)
class RasaApi:
    """Where and how the console reaches Rasa's HTTP API."""

    url: str
    token: str | None
    timeout: float = 5.0


@dataclass
class ResumeResult:
    resumed: bool
    messages: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


def audit_read(session: Session, adviser: Adviser, handoff_id: int) -> None:
    recent = session.scalar(
        select(AuditEntry.id)
        .where(
            AuditEntry.adviser_id == adviser.id,
            AuditEntry.handoff_id == handoff_id,
            AuditEntry.action == "read",
            AuditEntry.at >= utcnow() - READ_AUDIT_WINDOW,
        )
        .limit(1)
    )
    if recent is None:
        service.audit(session, adviser, "read", handoff_id)


def is_resumed(session: Session, handoff_id: int) -> bool:
    """Whether the bot was resumed after this hand-off (recorded as audit action ``resume``)."""
    return (
        session.scalar(
            select(AuditEntry.id).where(AuditEntry.handoff_id == handoff_id, AuditEntry.action == "resume").limit(1)
        )
        is not None
    )


def close_and_resume(
    session: Session, rasa: RasaApi, handoff_id: int, adviser: Adviser, outcome: str
) -> tuple[Handoff, ResumeResult]:
    """Close (committed even if Rasa is down), then resume the bot. Raises ``HandoffError`` if not open."""
    handoff = service.close(session, handoff_id, adviser, outcome)
    session.commit()
    return handoff, resume_bot(session, rasa, handoff, adviser)


def resume_bot(session: Session, rasa: RasaApi, handoff: Handoff, adviser: Adviser) -> ResumeResult:
    """Give the conversation back to the bot and dispatch its "I'm back" message; safe to call again."""
    if handoff.status != "closed":
        raise service.HandoffError("Die Übergabe ist noch offen; der Bot wird erst beim Abschließen fortgesetzt.")
    if is_resumed(session, handoff.id):
        return ResumeResult(True)
    newer = service.open_handoff_for(session, handoff.conversation_id)
    if newer is not None:
        return ResumeResult(
            False, error=f"Für dieses Gespräch ist eine neue Übergabe (#{newer.id}) offen; der Bot bleibt pausiert."
        )
    conversation_id, channel, handoff_id = handoff.conversation_id, handoff.channel, handoff.id
    persona = (handoff.summary or {}).get("persona")
    question = feedback.rating_question(persona if isinstance(persona, str) else None)
    session.commit()  # no transaction is held while Rasa is called
    try:
        messages = rasa_client.resume(conversation_id, rasa_url=rasa.url, token=rasa.token, timeout=rasa.timeout)
    except RasaUnavailable as exc:
        log.warning("could not resume the conversation of hand-off #%s: %s", handoff_id, exc)
        service.audit(session, adviser, "resume_failed", handoff_id, str(exc))
        session.commit()
        return ResumeResult(False, error=str(exc))
    for message in messages:
        outbox.dispatch(session, conversation_id, channel, message)
    # asked once: a conversation is resumed once per hand-off (is_resumed above); the answer goes to the bot
    outbox.dispatch(session, conversation_id, channel, dict(question))
    service.audit(session, adviser, "resume", handoff_id, f"{len(messages)} Bot-Nachricht(en) zugestellt")
    session.commit()  # then the outbox pushes the messages (push channels)
    return ResumeResult(True, messages)
