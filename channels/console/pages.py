"""The adviser pages: inbox, conversation (reply, note, assign, close, resume, export), audit log, accounts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.console import api
from channels.console import teams as team_pages
from channels.console.deps import (
    DB,
    AdminAdviser,
    CurrentAdviser,
    HandoffId,
    PageError,
    RasaApiDep,
    csrf_protect,
    get_settings,
    render,
)
from handoff import feedback, lifecycle, office_hours, service, targets
from handoff.models import STATUSES, Adviser, AuditEntry, Handoff

router = APIRouter(dependencies=[Depends(csrf_protect)])

OUTCOMES = (
    "Frage beantwortet",
    "Termin vereinbart",
    "An andere Stelle verwiesen",
    "Person hat sich nicht mehr gemeldet",
    "Sonstiges",
)
FLASH = {
    "reply": "Ihre Antwort wurde gesendet.",
    "note": "Die Notiz wurde gespeichert.",
    "assign": "Die Übergabe ist Ihnen zugewiesen.",
    "closed": "Die Übergabe ist abgeschlossen und der Bot ist wieder aktiv.",
    "resumed": "Der Bot ist wieder aktiv.",
    "transferred": "Die Übergabe wurde weitergeleitet.",
}
AUDIT_LIMIT = 500


def _handoff_or_404(db: Session, handoff_id: int, adviser: Adviser) -> Handoff:
    """The hand-off if it exists and the adviser may see it (need-to-know); else 404, also for someone else's."""
    handoff = service.get_handoff(db, handoff_id, viewer=adviser)
    if handoff is None:
        raise PageError(404, "Diese Übergabe gibt es nicht.", back="/")
    return handoff


def _check_visible(db: Session, handoff_id: int, adviser: Adviser) -> None:
    handoff = db.get(Handoff, handoff_id)
    if handoff is None or not service.can_see(adviser, handoff):
        raise PageError(404, "Diese Übergabe gibt es nicht.", back="/")


def _back(handoff_id: int, flash: str | None = None) -> RedirectResponse:
    suffix = f"?ok={flash}" if flash else ""
    return RedirectResponse(f"/handoffs/{handoff_id}{suffix}#meldung", status_code=303)


def _refused(db: Session, handoff_id: int, exc: service.HandoffError) -> PageError:
    if db.get(Handoff, handoff_id) is None:
        return PageError(404, "Diese Übergabe gibt es nicht.", back="/")
    return PageError(409, str(exc), back=f"/handoffs/{handoff_id}")


def _apply(db: Session, adviser: Adviser, handoff_id: int, flash: str, change: Callable[[], object]) -> Response:
    """Run one service change, commit it and go back to the hand-off; a refused change becomes a 404/409 page."""
    _check_visible(db, handoff_id, adviser)
    try:
        change()
    except service.HandoffError as exc:
        raise _refused(db, handoff_id, exc) from exc
    db.commit()
    return _back(handoff_id, flash)


@router.get("/", name="inbox")
def inbox(
    request: Request,
    adviser: CurrentAdviser,
    db: DB,
    status: str = Query(""),
    topic: str = Query("", max_length=200),
    min_wait: str = Query("", max_length=10),
) -> Response:
    errors = []
    if status and status not in STATUSES:
        errors.append("Unbekannter Status; es werden die offenen Übergaben gezeigt.")
        status = ""
    minutes = None
    if min_wait.strip():
        try:
            minutes = int(min_wait)
            if minutes < 0:
                raise ValueError
        except ValueError:
            errors.append("Die Wartezeit muss eine ganze Zahl von Minuten (0 oder mehr) sein.")
            minutes = None
    handoffs = service.list_handoffs(
        db, service.InboxFilter(status=status or None, topic=topic.strip() or None, min_wait_minutes=minutes),
        viewer=adviser,
    )
    # most urgent first: waiting longest (office-hours minutes) against the first-reply target, answered ones last
    rated = targets.by_urgency(db, handoffs, dt.datetime.now(dt.UTC), office_hours.configured(),
                               get_settings(request).first_reply_target_minutes)
    return render(request, "inbox.html", {
        "nav": "inbox", "handoffs": [h for h, _ in rated], "urgency": {h.id: u for h, u in rated},
        "target_minutes": get_settings(request).first_reply_target_minutes,
        "errors": errors, "refresh": 30,
        "filters": {"status": status, "topic": topic, "min_wait": "" if minutes is None else minutes},
    })


@router.get("/handoffs/{handoff_id}", name="handoff")
def handoff_page(
    request: Request,
    handoff_id: HandoffId,
    adviser: CurrentAdviser,
    db: DB,
    ok: str = Query(""),
) -> Response:
    handoff = _handoff_or_404(db, handoff_id, adviser)
    lifecycle.audit_read(db, adviser, handoff_id)
    db.commit()
    resumed = lifecycle.is_resumed(db, handoff_id) if handoff.status == "closed" else None
    return render(request, "handoff.html", {
        "nav": "inbox", "h": handoff, "resumed": resumed, "flash": FLASH.get(ok), "outcomes": OUTCOMES,
        "rating": feedback.rating_for(db, handoff_id) if handoff.status == "closed" else None,
        "refresh": 20 if handoff.status != "closed" else 0,
        **team_pages.transfer_choices(db, adviser),
    })


@router.post("/handoffs/{handoff_id}/reply")
def reply(
    handoff_id: HandoffId,
    adviser: CurrentAdviser,
    db: DB,
    text: str = Form(..., max_length=service.MAX_TEXT),
) -> Response:
    return _apply(db, adviser, handoff_id, "reply", lambda: service.add_adviser_reply(db, handoff_id, adviser, text))


@router.post("/handoffs/{handoff_id}/notes")
def note(
    handoff_id: HandoffId,
    adviser: CurrentAdviser,
    db: DB,
    text: str = Form(..., max_length=service.MAX_TEXT),
) -> Response:
    return _apply(db, adviser, handoff_id, "note", lambda: service.add_note(db, handoff_id, adviser, text))


@router.post("/handoffs/{handoff_id}/assign")
def assign(handoff_id: HandoffId, adviser: CurrentAdviser, db: DB) -> Response:
    return _apply(db, adviser, handoff_id, "assign", lambda: service.assign(db, handoff_id, adviser))


@router.post("/handoffs/{handoff_id}/close")
def close(
    rasa: RasaApiDep,
    handoff_id: HandoffId,
    adviser: CurrentAdviser,
    db: DB,
    outcome: str = Form("", max_length=100),
    comment: str = Form("", max_length=200),
) -> Response:
    _check_visible(db, handoff_id, adviser)
    text = ": ".join(part for part in (outcome.strip(), comment.strip()) if part)
    try:
        _, result = lifecycle.close_and_resume(db, rasa, handoff_id, adviser, text)
    except service.HandoffError as exc:
        raise _refused(db, handoff_id, exc) from exc
    return _back(handoff_id, "closed" if result.resumed else None)


@router.post("/handoffs/{handoff_id}/resume")
def resume(
    rasa: RasaApiDep, handoff_id: HandoffId, adviser: CurrentAdviser, db: DB
) -> Response:
    handoff = _handoff_or_404(db, handoff_id, adviser)
    try:
        result = lifecycle.resume_bot(db, rasa, handoff, adviser)
    except service.HandoffError as exc:
        raise _refused(db, handoff_id, exc) from exc
    return _back(handoff_id, "resumed" if result.resumed else None)


@router.get("/handoffs/{handoff_id}/export.json")
def export(handoff_id: HandoffId, adviser: CurrentAdviser, db: DB) -> Response:
    handoff = _handoff_or_404(db, handoff_id, adviser)
    data = api.pseudonymised(service.export(handoff))
    service.audit(db, adviser, "export", handoff_id)
    db.commit()
    return JSONResponse(
        data, headers={"Content-Disposition": f'attachment; filename="uebergabe-{handoff_id}.json"'}
    )


@router.get("/audit", name="audit")
def audit_log(
    request: Request,
    adviser: AdminAdviser,
    db: DB,
    handoff: str = Query("", max_length=12),
) -> Response:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(AUDIT_LIMIT)
    handoff_id = int(handoff) if handoff.isdigit() else None
    if handoff_id is not None:
        query = query.where(AuditEntry.handoff_id == handoff_id)
    entries = list(db.scalars(query))
    names = {a.id: a for a in db.scalars(select(Adviser).where(Adviser.id.in_({e.adviser_id for e in entries})))}
    return render(request, "audit.html", {
        "nav": "audit", "entries": entries, "names": names, "handoff_id": handoff_id, "limit": AUDIT_LIMIT,
    })


@router.get("/users", name="users")
def users(request: Request, adviser: AdminAdviser, db: DB) -> Response:
    accounts = list(db.scalars(select(Adviser).order_by(Adviser.username)))
    return render(request, "users.html", {"nav": "users", "accounts": accounts})
