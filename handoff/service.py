"""What can be done with hand-offs, one function per step (create, add a message, reply, note, assign, close,
delete). Functions take the caller's session; the caller commits (one transaction); adviser replies go out
through the outbox after that commit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy import delete as sa_delete
from sqlalchemy import update as sa_update
from sqlalchemy.orm import Session, selectinload

from core.db import utcnow
from core.protocol import adviser_message
from handoff import outbox, routing, teams
from handoff.models import (
    OPEN_STATUSES,
    Adviser,
    AuditEntry,
    Handoff,
    HandoffMessage,
    HandoffNote,
    OutboxMessage,
)

MAX_TEXT = 4000


class HandoffError(Exception):
    """An operation that is not possible (closed hand-off, empty text …); the message is German."""


def open_handoff_for(session: Session, conversation_id: str) -> Handoff | None:
    return session.scalar(
        select(Handoff)
        .where(Handoff.conversation_id == conversation_id, Handoff.status.in_(OPEN_STATUSES))
        .order_by(Handoff.id.desc())
    )


def create_handoff(
    session: Session,
    *,
    conversation_id: str,
    channel: str,
    reason: str,
    transcript: list[dict[str, Any]],
    summary: dict[str, Any],
    topic: str | None = None,
    contact: str | None = None,
) -> Handoff:
    """A waiting hand-off; if the conversation already has an open one, that one (nothing is created twice)."""
    existing = open_handoff_for(session, conversation_id)
    if existing is not None:
        return existing
    handoff = Handoff(
        conversation_id=conversation_id,
        channel=channel or "rest",
        status="waiting",
        reason=reason,
        topic=(topic or "")[:200] or None,
        contact=(contact or "")[:300] or None,
        transcript=transcript,
        summary=summary,
        created_at=utcnow(),
    )
    decision = routing.route(summary, routing.rules_of(teams.list_teams(session)))
    handoff.team_id = decision.team_id
    session.add(handoff)
    session.flush()
    if decision.team_id is not None:
        audit(session, None, "route", handoff.id, f"Team #{decision.team_id}: {decision.why}")
    return handoff


def add_user_message(session: Session, conversation_id: str, text: str) -> HandoffMessage | None:
    """Store a user message in the open hand-off of the conversation; None if there is none."""
    handoff = open_handoff_for(session, conversation_id)
    if handoff is None:
        return None
    message = HandoffMessage(handoff_id=handoff.id, role="user", text=text[:MAX_TEXT], created_at=utcnow())
    session.add(message)
    session.flush()
    return message


def _get_open(session: Session, handoff_id: int) -> Handoff:
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise HandoffError("Diese Übergabe gibt es nicht.")
    if handoff.status not in OPEN_STATUSES:
        raise HandoffError("Diese Übergabe ist schon abgeschlossen.")
    return handoff


def add_adviser_reply(session: Session, handoff_id: int, adviser: Adviser, text: str) -> HandoffMessage:
    """Store the reply in the thread and dispatch it to the user's channel (assigns the hand-off if waiting)."""
    text = text.strip()
    if not text:
        raise HandoffError("Die Antwort ist leer.")
    handoff = _get_open(session, handoff_id)
    if handoff.status == "waiting":
        assign(session, handoff_id, adviser)
    message = HandoffMessage(
        handoff_id=handoff.id, role="adviser", text=text[:MAX_TEXT], adviser_id=adviser.id, created_at=utcnow()
    )
    session.add(message)
    outbox.dispatch(session, handoff.conversation_id, handoff.channel, dict(adviser_message(text[:MAX_TEXT])))
    audit(session, adviser, "reply", handoff.id)
    session.flush()
    return message


def add_note(session: Session, handoff_id: int, adviser: Adviser, text: str) -> HandoffNote:
    text = text.strip()
    if not text:
        raise HandoffError("Die Notiz ist leer.")
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise HandoffError("Diese Übergabe gibt es nicht.")
    note = HandoffNote(handoff_id=handoff_id, adviser_id=adviser.id, text=text[:MAX_TEXT], created_at=utcnow())
    session.add(note)
    audit(session, adviser, "note", handoff_id)
    session.flush()
    return note


def assign(session: Session, handoff_id: int, adviser: Adviser) -> Handoff:
    handoff = _get_open(session, handoff_id)
    handoff.status = "assigned"
    handoff.assigned_to = adviser.id
    handoff.assigned_at = utcnow()
    audit(session, adviser, "assign", handoff_id)
    session.flush()
    return handoff


def close(session: Session, handoff_id: int, adviser: Adviser, outcome: str) -> Handoff:
    """Mark closed. The caller then resumes the bot (``rasa_client.resume``) and dispatches its "back" message."""
    handoff = _get_open(session, handoff_id)
    handoff.status = "closed"
    handoff.closed_at = utcnow()
    handoff.outcome = (outcome.strip() or "ohne Angabe")[:300]
    if handoff.assigned_to is None:
        handoff.assigned_to = adviser.id
    audit(session, adviser, "close", handoff_id, handoff.outcome)
    session.flush()
    return handoff


def transfer(session: Session, handoff_id: int, adviser: Adviser, *, to_adviser: Adviser | None = None,
             to_team: teams.Team | None = None, note: str = "") -> Handoff:
    """Hand an open case to another adviser (assigned to them; its team becomes one of theirs if they are not in
    it) or to another team (waiting, unassigned, in that team's queue). The note is stored as an internal note;
    the audit log records who transferred to whom, without the note."""
    if (to_adviser is None) == (to_team is None):
        raise HandoffError("Bitte genau ein Ziel wählen: eine Person oder ein Team.")
    handoff = _get_open(session, handoff_id)
    if to_adviser is not None:
        if not to_adviser.active:
            raise HandoffError("Dieses Konto ist gesperrt.")
        theirs = teams.team_ids_of(to_adviser)
        if handoff.team_id is not None and handoff.team_id not in theirs:
            handoff.team_id = min(theirs) if theirs else None
        handoff.status, handoff.assigned_to, handoff.assigned_at = "assigned", to_adviser.id, utcnow()
        target = f"an {to_adviser.display_name}"
        detail = f"an Konto #{to_adviser.id}"
    else:
        assert to_team is not None
        handoff.team_id, handoff.status, handoff.assigned_to, handoff.assigned_at = to_team.id, "waiting", None, None
        target = f"an Team {to_team.name}"
        detail = f"an Team #{to_team.id}"
    text = note.strip()[:MAX_TEXT - 200]
    session.add(HandoffNote(handoff_id=handoff.id, adviser_id=adviser.id, created_at=utcnow(),
                            text=f"Weitergeleitet {target}" + (f": {text}" if text else ".")))
    audit(session, adviser, "transfer", handoff.id, detail)
    session.flush()
    return handoff


@dataclass(frozen=True)
class InboxFilter:
    status: str | None = None  # waiting | assigned | closed | None = open ones
    topic: str | None = None  # substring, case-insensitive
    min_wait_minutes: int | None = None


# Need-to-know: an adviser sees the hand-offs assigned to them, every hand-off of their teams (waiting, assigned
# to a colleague or closed) and the unassigned waiting ones that belong to no team (to take one); admins see all.
# The console answers 404 (not 403) for a hand-off someone may not see, so its existence is not revealed either.

def can_see(adviser: Adviser, handoff: Handoff) -> bool:
    if adviser.role == "admin" or handoff.assigned_to == adviser.id:
        return True
    if handoff.team_id is None:
        return handoff.assigned_to is None and handoff.status == "waiting"
    return handoff.team_id in teams.team_ids_of(adviser)


def _visible_to(adviser: Adviser) -> ColumnElement[bool] | None:
    """The need-to-know rule as a WHERE clause (None: no restriction)."""
    if adviser.role == "admin":
        return None
    mine = teams.team_ids_of(adviser)
    return or_(
        Handoff.assigned_to == adviser.id,
        Handoff.team_id.in_(mine) if mine else Handoff.id.is_(None),
        and_(Handoff.team_id.is_(None), Handoff.assigned_to.is_(None), Handoff.status == "waiting"),
    )


MAX_WAIT_MINUTES = 100 * 366 * 24 * 60  # a waiting-time filter beyond 100 years finds nothing anyway


def list_handoffs(session: Session, f: InboxFilter = InboxFilter(), now: dt.datetime | None = None,
                  viewer: Adviser | None = None) -> list[Handoff]:
    """Oldest waiting first; with ``viewer`` only the hand-offs that adviser may see."""
    query = (select(Handoff).options(selectinload(Handoff.adviser), selectinload(Handoff.team))
             .order_by(Handoff.created_at, Handoff.id))
    rule = _visible_to(viewer) if viewer is not None else None
    if rule is not None:
        query = query.where(rule)
    query = query.where(Handoff.status == f.status) if f.status else query.where(Handoff.status.in_(OPEN_STATUSES))
    if f.topic:
        query = query.where(Handoff.topic.ilike(f"%{f.topic}%"))
    if f.min_wait_minutes:
        minutes = min(f.min_wait_minutes, MAX_WAIT_MINUTES)  # larger: the date arithmetic would overflow
        query = query.where(Handoff.created_at <= (now or utcnow()) - dt.timedelta(minutes=minutes))
    return list(session.scalars(query))


def get_handoff(session: Session, handoff_id: int, viewer: Adviser | None = None) -> Handoff | None:
    """The hand-off with thread, notes and adviser; None if it does not exist or ``viewer`` may not see it."""
    handoff = session.scalar(
        select(Handoff)
        .where(Handoff.id == handoff_id)
        .options(selectinload(Handoff.messages), selectinload(Handoff.notes), selectinload(Handoff.adviser),
                 selectinload(Handoff.team))
    )
    if handoff is None or (viewer is not None and not can_see(viewer, handoff)):
        return None
    return handoff


def export(handoff: Handoff) -> dict[str, Any]:
    """One conversation as JSON-ready dict: summary, transcript before the hand-off, thread, notes, status."""
    return {
        "id": handoff.id,
        "conversation_id": handoff.conversation_id,
        "channel": handoff.channel,
        "status": handoff.status,
        "reason": handoff.reason,
        "topic": handoff.topic,
        "contact": handoff.contact,
        "created_at": handoff.created_at.isoformat(),
        "assigned_to": handoff.adviser.username if handoff.adviser else None,
        "team": handoff.team.name if handoff.team else None,
        "closed_at": handoff.closed_at.isoformat() if handoff.closed_at else None,
        "outcome": handoff.outcome,
        "summary": handoff.summary,
        "transcript": handoff.transcript,
        "thread": [
            {"role": m.role, "text": m.text, "at": m.created_at.isoformat(),
             "adviser": m.adviser.username if m.adviser else None}
            for m in handoff.messages
        ],
        "notes": [
            {"text": n.text, "at": n.created_at.isoformat(), "adviser": n.adviser.username if n.adviser else None}
            for n in handoff.notes
        ],
    }


def delete_conversation(session: Session, conversation_id: str) -> int:
    """Delete every hand-off of a conversation (thread, notes, transcript, summary) and its outbox, on the
    user's request. The audit log keeps only that a deletion happened (no content). Returns the number of
    hand-offs deleted."""
    handoffs = list(session.scalars(select(Handoff).where(Handoff.conversation_id == conversation_id)))
    ids = [h.id for h in handoffs]
    if ids:  # audit entries stay (who did what, when) but lose the link and any free text such as the outcome
        session.execute(sa_update(AuditEntry).where(AuditEntry.handoff_id.in_(ids)).values(handoff_id=None, detail=""))
    for handoff in handoffs:
        session.delete(handoff)  # messages and notes cascade
    session.execute(sa_delete(OutboxMessage).where(OutboxMessage.conversation_id == conversation_id))
    if handoffs:
        audit(session, None, "delete_on_request", None, f"{len(handoffs)} Übergabe(n) auf Wunsch gelöscht")
    session.flush()
    return len(handoffs)


def audit(session: Session, adviser: Adviser | None, action: str, handoff_id: int | None = None,
          detail: str = "") -> None:
    session.add(AuditEntry(adviser_id=adviser.id if adviser else None, action=action, handoff_id=handoff_id,
                           detail=detail[:1000], at=utcnow()))
