"""Canned replies (Textbausteine): the admin pages ``/textbausteine`` (list, create, edit, delete; CSRF-protected
forms) and the search the reply box uses, over canned replies and knowledge-base articles (``/api/v1``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from channels.console.apiauth import ReaderAdviser
from channels.console.deps import DB, MAX_ID, AdminAdviser, PageError, csrf_protect, render
from handoff import canned, office_hours, service
from handoff.models import Adviser
from knowledge_base import queries

pages = APIRouter(dependencies=[Depends(csrf_protect)])
api = APIRouter(prefix="/api/v1", tags=["Textbausteine und Artikel"])

FLASH = {"created": "Der Textbaustein wurde angelegt.", "saved": "Der Textbaustein wurde gespeichert.",
         "deleted": "Der Textbaustein wurde gelöscht."}


def placeholder_values(adviser: Adviser, now: dt.datetime | None = None) -> dict[str, str]:
    """What ``{berater_name}``, ``{sprechzeiten}`` and ``{naechster_termin}`` stand for, for this adviser now."""
    hours = office_hours.configured()
    when = now or dt.datetime.now(dt.UTC)
    return {
        "berater_name": adviser.display_name,
        "sprechzeiten": hours.describe(),
        "naechster_termin": office_hours.opening_wording(when, hours),
    }


# --- admin pages -------------------------------------------------------------------------------------------


def _list_page(request: Request, db: DB, *, flash: str | None = None, error: str | None = None,
               form: dict[str, str] | None = None, status: int = 200) -> Response:
    return render(request, "replies.html", {
        "nav": "replies", "replies": canned.all_replies(db), "flash": flash, "error": error,
        "form": form or {"title": "", "text": ""}, "placeholders": canned.PLACEHOLDERS,
        "unknown": {r.id: canned.unknown_placeholders(r.text) for r in canned.all_replies(db)},
        "max_title": canned.MAX_TITLE, "max_text": canned.MAX_TEXT,
    }, status)


@pages.get("/textbausteine", name="replies")
def list_replies(request: Request, adviser: AdminAdviser, db: DB, ok: str = Query("", max_length=20)) -> Response:
    return _list_page(request, db, flash=FLASH.get(ok))


@pages.post("/textbausteine")
def create_reply(request: Request, adviser: AdminAdviser, db: DB,
                 title: str = Form(..., max_length=canned.MAX_TITLE * 2),
                 text: str = Form(..., max_length=canned.MAX_TEXT * 2)) -> Response:
    try:
        reply = canned.create(db, title, text, adviser.id)
    except canned.CannedReplyError as exc:
        db.rollback()
        return _list_page(request, db, error=str(exc), form={"title": title, "text": text}, status=400)
    service.audit(db, adviser, "canned_reply", None, f"angelegt: #{reply.id}")
    db.commit()
    return RedirectResponse("/textbausteine?ok=created", status_code=303)


def _reply_or_404(db: DB, reply_id: int) -> canned.CannedReply:
    reply = canned.get(db, reply_id) if 1 <= reply_id <= MAX_ID else None
    if reply is None:
        raise PageError(404, "Diesen Textbaustein gibt es nicht.", back="/textbausteine")
    return reply


@pages.get("/textbausteine/{reply_id}")
def edit_reply_page(request: Request, reply_id: int, adviser: AdminAdviser, db: DB) -> Response:
    reply = _reply_or_404(db, reply_id)
    return render(request, "reply_edit.html", {
        "nav": "replies", "reply": reply, "form": {"title": reply.title, "text": reply.text}, "error": None,
        "placeholders": canned.PLACEHOLDERS, "max_title": canned.MAX_TITLE, "max_text": canned.MAX_TEXT,
    })


@pages.post("/textbausteine/{reply_id}")
def save_reply(request: Request, reply_id: int, adviser: AdminAdviser, db: DB,
               title: str = Form(..., max_length=canned.MAX_TITLE * 2),
               text: str = Form(..., max_length=canned.MAX_TEXT * 2)) -> Response:
    reply = _reply_or_404(db, reply_id)
    try:
        canned.update(db, reply_id, title, text, adviser.id)
    except canned.CannedReplyError as exc:
        db.rollback()
        return render(request, "reply_edit.html", {
            "nav": "replies", "reply": reply, "form": {"title": title, "text": text}, "error": str(exc),
            "placeholders": canned.PLACEHOLDERS, "max_title": canned.MAX_TITLE, "max_text": canned.MAX_TEXT,
        }, 400)
    service.audit(db, adviser, "canned_reply", None, f"geändert: #{reply_id}")
    db.commit()
    return RedirectResponse("/textbausteine?ok=saved", status_code=303)


@pages.post("/textbausteine/{reply_id}/delete")
def delete_reply(reply_id: int, adviser: AdminAdviser, db: DB) -> Response:
    _reply_or_404(db, reply_id)
    canned.delete(db, reply_id)
    service.audit(db, adviser, "canned_reply", None, f"gelöscht: #{reply_id}")
    db.commit()
    return RedirectResponse("/textbausteine?ok=deleted", status_code=303)


# --- search for the reply box (JSON) -------------------------------------------------------------------------


class SnippetOut(BaseModel):
    kind: str = Field(description="textbaustein | artikel")
    id: int
    title: str
    text: str = Field(description="der Text, wie er in das Antwortfeld eingefügt wird")
    source_url: str | None = None
    stand: dt.date | None = None


def _article_text(article: Any) -> str:
    stand = article.stand.strftime("%d.%m.%Y")
    return f"{article.summary.strip()}\n\nQuelle: {article.source_name} – {article.source_url} (Stand: {stand})"


@api.get("/textbausteine", response_model=list[SnippetOut],
         summary="Textbausteine suchen (Platzhalter für das angemeldete Konto ausgefüllt)")
def search_replies(adviser: ReaderAdviser, db: DB, q: str = Query("", max_length=canned.MAX_QUERY),
                   limit: int = Query(8, ge=1, le=50)) -> list[SnippetOut]:
    found = canned.search(db, q, limit) if q.strip() else canned.all_replies(db)[:limit]
    values = placeholder_values(adviser)
    return [SnippetOut(kind="textbaustein", id=r.id, title=r.title, text=canned.fill(r.text, values))
            for r in found]


@api.get("/articles", response_model=list[SnippetOut],
         summary="Wissensartikel suchen (Kurztext mit Quelle und Stand zum Einfügen)")
def search_articles(adviser: ReaderAdviser, db: DB, q: str = Query(..., min_length=2, max_length=100),
                    limit: int = Query(8, ge=1, le=50)) -> list[SnippetOut]:
    return [SnippetOut(kind="artikel", id=a.id, title=a.title, text=_article_text(a), source_url=a.source_url,
                       stand=a.stand) for a in queries.search_articles(db, q, limit)]
