"""What the bot missed (page ``/verpasst``, its YAML export) and the usage reports of Rasa's REST channel.

``POST {protocol.CONSOLE_USAGE_PATH}`` (``X-Inbound-Token``) takes one :class:`core.protocol.UsageReport` per bot
turn from ``rasa_plugins.usage`` and records it (``handoff.feedback.record_turn``). The page lists the missed
messages grouped by normalized text, newest first; any adviser labels a group with the intended intent (from the
bot's domain), a knowledge-base article or "out of scope". The export is a suggestion for the content team in
Rasa's NLU format — nothing is trained automatically.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Annotated

import yaml
from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import PlainTextResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError

from channels.console.deps import DB, CurrentAdviser, PageError, csrf_protect, render
from channels.console.inbound import inbound_token
from core import protocol
from core.settings import PROJECT_ROOT
from handoff import feedback, service
from knowledge_base import queries

router = APIRouter(tags=["Kanäle"])
pages = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)
GUARDED_PATHS = (protocol.CONSOLE_USAGE_PATH,)
DOMAIN_DIR = PROJECT_ROOT / "bot" / "domain"
NOT_LABELS = frozenset({"nlu_fallback", feedback.RATING_INTENT})
PAGE_LIMIT = 200


class UsageIn(BaseModel):
    pseudonym: str = Field(min_length=1, max_length=40)
    channel: str = Field("rest", max_length=30)
    intent: str | None = Field(None, max_length=100)
    confidence: float | None = Field(None, ge=0.0, le=1.0)
    missed: bool = False
    text: str | None = Field(None, max_length=protocol.MAX_MISSED_TEXT * 4)  # cut to MAX_MISSED_TEXT when stored


@router.post(protocol.CONSOLE_USAGE_PATH, status_code=204, dependencies=[Depends(inbound_token)],
             summary="Einen Bot-Zug zählen (Pseudonym, Intent); nicht verstandene Nachrichten für /verpasst")
def usage(body: UsageIn, db: DB) -> Response:
    for attempt in (1, 2):  # two first reports of one conversation and day at once: the second insert retries
        try:
            feedback.record_turn(db, pseudonym=body.pseudonym, channel=body.channel, intent=body.intent,
                                 confidence=body.confidence, missed=body.missed, text=body.text)
            db.commit()
        except feedback.FeedbackError:
            db.rollback()
            return Response(status_code=422)
        except IntegrityError:
            db.rollback()
            if attempt == 2:
                raise
            continue
        break
    return Response(status_code=204)


@functools.cache
def domain_intents(directory: Path = DOMAIN_DIR) -> tuple[str, ...]:
    """The intents of the bot's domain files (read once), without the technical ones."""
    names: set[str] = set()
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("intents") or []:
            name = item if isinstance(item, str) else next(iter(item), None) if isinstance(item, dict) else None
            if isinstance(name, str):
                names.add(name)
    return tuple(sorted(names - NOT_LABELS))


def _label_text(label: str | None, articles: dict[str, str]) -> str:
    if not label:
        return "–"
    if label == feedback.OUT_OF_SCOPE:
        return "nicht unser Thema"
    if label.startswith(feedback.LABEL_ARTICLE):
        key = label[len(feedback.LABEL_ARTICLE):]
        return f"Artikel: {articles.get(key, key)}"
    return f"Intent: {label[len(feedback.LABEL_INTENT):]}"


@pages.get("/verpasst", name="missed")
def missed_page(
    request: Request,
    adviser: CurrentAdviser,
    db: DB,
    offen: Annotated[bool, Query()] = False,
    ok: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    groups = feedback.missed_groups(db, limit=PAGE_LIMIT)
    if offen:
        groups = [g for g in groups if not g.reviewed]
    reviewed, total = feedback.review_counts(db)
    articles = dict(queries.article_titles(db))
    return render(request, "missed.html", {
        "nav": "missed", "groups": groups, "reviewed": reviewed, "total": total, "only_open": offen,
        "intents": domain_intents(), "articles": articles, "label_text": lambda g: _label_text(g.label, articles),
        "flash": "Gespeichert." if ok == "saved" else None,
    })


@pages.post("/verpasst/label")
def label_group(
    adviser: CurrentAdviser,
    db: DB,
    normalized: Annotated[str, Form(min_length=1, max_length=protocol.MAX_MISSED_TEXT)],
    label: Annotated[str, Form(min_length=1, max_length=200)],
    offen: Annotated[str, Form(max_length=1)] = "",
) -> Response:
    articles = {key for key, _ in queries.article_titles(db)}
    if not feedback.valid_label(label, set(domain_intents()), articles):
        raise PageError(400, "Bitte wählen Sie einen Intent, einen Artikel oder „nicht unser Thema“.", "/verpasst")
    count = feedback.review_group(db, normalized, label, adviser)
    if count == 0:
        raise PageError(404, "Diese Gruppe gibt es nicht mehr (vielleicht schon gelöscht).", "/verpasst")
    service.audit(db, adviser, "missed_review", None, f"{count} Nachricht(en): {label}")
    db.commit()
    return RedirectResponse(f"/verpasst?ok=saved{'&offen=1' if offen else ''}", status_code=303)


@pages.get("/verpasst/export.yml")
def export_yaml(adviser: CurrentAdviser, db: DB) -> Response:
    text = feedback.export_training_yaml(db)
    service.audit(db, adviser, "missed_export", None)
    db.commit()
    stamp = dt.date.today().isoformat()
    return PlainTextResponse(text, media_type="application/x-yaml; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="nlu-vorschlaege-{stamp}.yml"'})
