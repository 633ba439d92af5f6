"""JSON API for the same operations as the pages (``/api/v1``), authenticated with a personal bearer token."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from channels.console import pseudonyms
from channels.console.deps import DB, ApiAdviser, HandoffId, RasaApiDep
from channels.console.templating import waiting_minutes
from handoff import lifecycle, service
from handoff.models import Adviser, Handoff

router = APIRouter(prefix="/api/v1", tags=["Übergaben"])


class MessageOut(BaseModel):
    role: str = Field(description="user | adviser | system")
    text: str
    at: dt.datetime
    adviser: str | None = None


class NoteOut(BaseModel):
    text: str
    at: dt.datetime
    adviser: str | None = None


class HandoffOut(BaseModel):
    id: int
    conversation: str = Field(description="Pseudonym des Gesprächs (G-…); die Gesprächs-ID selbst sieht niemand")
    channel: str
    status: str = Field(description="waiting | assigned | closed")
    reason: str
    topic: str | None
    persona: str | None = Field(description="du | Sie, aus der Zusammenfassung")
    contact: str | None
    created_at: dt.datetime
    waiting_minutes: int = Field(description="Minuten seit der Übergabe (bis zum Abschluss)")
    assigned_to: str | None
    team: str | None = Field(None, description="Team, dem die Übergabe zugeordnet ist")
    closed_at: dt.datetime | None
    outcome: str | None


class HandoffDetailOut(HandoffOut):
    profile: dict[str, Any] = Field(default_factory=dict, description="Profilkarte: je Merkmal eine Liste von "
                                    "{value, label, line}; line ist die Zeile in transcript")
    summary: dict[str, Any]
    transcript: list[dict[str, Any]]
    thread: list[MessageOut]
    notes: list[NoteOut]
    bot_resumed: bool | None = Field(description="nur bei abgeschlossenen: ist der Bot wieder aktiv?")


class TextIn(BaseModel):
    text: str = Field(min_length=1, max_length=service.MAX_TEXT)


class CloseIn(BaseModel):
    outcome: str = Field("", max_length=300)


class ResumeOut(BaseModel):
    resumed: bool
    bot_messages: list[dict[str, Any]] = Field(description="an die Person zugestellte Bot-Nachrichten")
    error: str | None = None


class CloseOut(BaseModel):
    handoff: HandoffOut
    resume: ResumeOut


def _out(handoff: Handoff) -> HandoffOut:
    return HandoffOut(
        id=handoff.id,
        conversation=pseudonyms.of(handoff.conversation_id),
        channel=handoff.channel,
        status=handoff.status,
        reason=handoff.reason,
        topic=handoff.topic,
        persona=_text((handoff.summary or {}).get("persona")),
        contact=handoff.contact,
        created_at=handoff.created_at,
        waiting_minutes=waiting_minutes(handoff.created_at, handoff.closed_at),
        assigned_to=handoff.adviser.username if handoff.adviser else None,
        team=handoff.team.name if handoff.team else None,
        closed_at=handoff.closed_at,
        outcome=handoff.outcome,
    )


def pseudonymised(data: dict[str, Any]) -> dict[str, Any]:
    """An export for advisers: the conversation id replaced by its pseudonym."""
    raw = data.pop("conversation_id", None)
    return {"conversation": pseudonyms.of(raw), **data} if isinstance(raw, str) else data


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _detail(db: Session, handoff: Handoff) -> HandoffDetailOut:
    return HandoffDetailOut(
        **_out(handoff).model_dump(),
        profile=(handoff.summary or {}).get("profile") or {},
        summary=handoff.summary or {},
        transcript=handoff.transcript or [],
        thread=[
            MessageOut(role=m.role, text=m.text, at=m.created_at, adviser=m.adviser.username if m.adviser else None)
            for m in handoff.messages
        ],
        notes=[
            NoteOut(text=n.text, at=n.created_at, adviser=n.adviser.username if n.adviser else None)
            for n in handoff.notes
        ],
        bot_resumed=lifecycle.is_resumed(db, handoff.id) if handoff.status == "closed" else None,
    )


def _get(db: Session, handoff_id: int, adviser: Adviser) -> Handoff:
    """The hand-off if it exists and the adviser may see it (need-to-know); else 404, also for someone else's."""
    handoff = service.get_handoff(db, handoff_id, viewer=adviser)
    if handoff is None:
        raise HTTPException(404, "Diese Übergabe gibt es nicht.")
    return handoff


def _check_visible(db: Session, handoff_id: int, adviser: Adviser) -> None:
    handoff = db.get(Handoff, handoff_id)
    if handoff is None or not service.can_see(adviser, handoff):
        raise HTTPException(404, "Diese Übergabe gibt es nicht.")


def _conflict(db: Session, handoff_id: int, exc: service.HandoffError) -> HTTPException:
    if db.get(Handoff, handoff_id) is None:
        return HTTPException(404, "Diese Übergabe gibt es nicht.")
    return HTTPException(409, str(exc))


def _resume_out(result: lifecycle.ResumeResult) -> ResumeOut:
    return ResumeOut(resumed=result.resumed, bot_messages=result.messages, error=result.error)


@router.get("/handoffs", response_model=list[HandoffOut], summary="Übergaben (Eingang), älteste zuerst")
def list_handoffs(
    adviser: ApiAdviser,
    db: DB,
    status: str | None = Query(None, pattern="^(waiting|assigned|closed)$", description="ohne: alle offenen"),
    topic: str | None = Query(None, max_length=200, description="Teiltext des Themas"),
    min_wait_minutes: int | None = Query(None, ge=0),
) -> list[HandoffOut]:
    f = service.InboxFilter(status=status, topic=topic, min_wait_minutes=min_wait_minutes)
    return [_out(h) for h in service.list_handoffs(db, f, viewer=adviser)]


@router.get("/handoffs/{handoff_id}", response_model=HandoffDetailOut, summary="Eine Übergabe (wird protokolliert)")
def get_handoff(handoff_id: HandoffId, adviser: ApiAdviser,
                db: DB) -> HandoffDetailOut:
    handoff = _get(db, handoff_id, adviser)
    lifecycle.audit_read(db, adviser, handoff_id)
    db.commit()
    return _detail(db, handoff)


@router.post("/handoffs/{handoff_id}/reply", response_model=MessageOut, status_code=201,
             summary="Antwort an die Person (über ihren Kanal zugestellt)")
def reply(handoff_id: HandoffId, body: TextIn, adviser: ApiAdviser,
          db: DB) -> MessageOut:
    _check_visible(db, handoff_id, adviser)
    try:
        message = service.add_adviser_reply(db, handoff_id, adviser, body.text)
    except service.HandoffError as exc:
        raise _conflict(db, handoff_id, exc) from exc
    db.commit()
    return MessageOut(role=message.role, text=message.text, at=message.created_at, adviser=adviser.username)


@router.post("/handoffs/{handoff_id}/notes", response_model=NoteOut, status_code=201, summary="Interne Notiz")
def add_note(handoff_id: HandoffId, body: TextIn, adviser: ApiAdviser,
             db: DB) -> NoteOut:
    _check_visible(db, handoff_id, adviser)
    try:
        note = service.add_note(db, handoff_id, adviser, body.text)
    except service.HandoffError as exc:
        raise _conflict(db, handoff_id, exc) from exc
    db.commit()
    return NoteOut(text=note.text, at=note.created_at, adviser=adviser.username)


@router.post("/handoffs/{handoff_id}/assign", response_model=HandoffOut, summary="Mir zuweisen")
def assign(handoff_id: HandoffId, adviser: ApiAdviser, db: DB) -> HandoffOut:
    _check_visible(db, handoff_id, adviser)
    try:
        service.assign(db, handoff_id, adviser)
    except service.HandoffError as exc:
        raise _conflict(db, handoff_id, exc) from exc
    db.commit()
    return _out(_get(db, handoff_id, adviser))


@router.post("/handoffs/{handoff_id}/close", response_model=CloseOut,
             summary="Abschließen und den Bot fortsetzen (er meldet sich zurück)")
def close(rasa: RasaApiDep, handoff_id: HandoffId, body: CloseIn, adviser: ApiAdviser, db: DB) -> CloseOut:
    _check_visible(db, handoff_id, adviser)
    try:
        _, result = lifecycle.close_and_resume(db, rasa, handoff_id, adviser, body.outcome)
    except service.HandoffError as exc:
        raise _conflict(db, handoff_id, exc) from exc
    return CloseOut(handoff=_out(_get(db, handoff_id, adviser)), resume=_resume_out(result))


@router.post("/handoffs/{handoff_id}/resume", response_model=ResumeOut,
             summary="Bot erneut fortsetzen, falls Rasa beim Abschließen nicht erreichbar war")
def resume(rasa: RasaApiDep, handoff_id: HandoffId, adviser: ApiAdviser, db: DB) -> ResumeOut:
    handoff = _get(db, handoff_id, adviser)
    try:
        result = lifecycle.resume_bot(db, rasa, handoff, adviser)
    except service.HandoffError as exc:
        raise _conflict(db, handoff_id, exc) from exc
    return _resume_out(result)


@router.get("/handoffs/{handoff_id}/export", response_model=dict[str, Any], summary="Export als JSON")
def export(handoff_id: HandoffId, adviser: ApiAdviser, db: DB) -> dict[str, Any]:
    handoff = _get(db, handoff_id, adviser)
    data = pseudonymised(service.export(handoff))
    service.audit(db, adviser, "export", handoff_id)
    db.commit()
    return data
