"""Teams (admins: ``/teams``) and transfers of a hand-off to another adviser or team (page and ``/api/v1``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.console.deps import (
    DB,
    AdminAdviser,
    ApiAdviser,
    CurrentAdviser,
    HandoffId,
    PageError,
    csrf_protect,
    render,
)
from handoff import service, teams
from handoff.models import Adviser, Handoff
from handoff.regions import regions

router = APIRouter(dependencies=[Depends(csrf_protect)])
api_router = APIRouter(prefix="/api/v1", tags=["Übergaben"])

MAX_ID = 2**31 - 1
TeamId = HandoffId  # same bounds (1 … 2**31-1)
FLASH = {"created": "Das Team wurde angelegt.", "saved": "Das Team wurde gespeichert."}
MAX_NOTE = 1000


def colleagues(db: Session) -> list[Adviser]:
    """Active accounts, for the transfer and member lists."""
    return list(db.scalars(select(Adviser).where(Adviser.active.is_(True)).order_by(Adviser.display_name)))


def transfer_choices(db: Session, adviser: Adviser) -> dict[str, Any]:
    """What the case page needs for its transfer form."""
    return {"transfer_teams": teams.list_teams(db),
            "transfer_advisers": [a for a in colleagues(db) if a.id != adviser.id]}


# --- admin: teams ------------------------------------------------------------------------------------------------


def _form_context(db: Session, team: teams.Team | None, errors: list[str], values: dict[str, Any]) -> dict[str, Any]:
    return {"nav": "teams", "team": team, "errors": errors, "values": values, "regions": regions(),
            "topics": teams.TOPICS, "advisers": colleagues(db)}


def _values(team: teams.Team | None) -> dict[str, Any]:
    if team is None:
        return {"name": "", "email": "", "region": [], "topics": [], "is_fallback": False, "members": []}
    return {"name": team.name, "email": team.email or "", "region": list(team.region), "topics": list(team.topics),
            "is_fallback": team.is_fallback, "members": [m.id for m in team.members]}


def _rows(db: Session) -> list[tuple[teams.Team, list[str]]]:
    """Each team with the names of its districts."""
    known = regions()
    names = {d.key: d.name for d in known.districts}
    return [(t, [names[k] for k in t.region if k in names]) for t in teams.list_teams(db)]


@router.get("/teams", name="teams")
def team_list(request: Request, adviser: AdminAdviser, db: DB) -> Response:
    return render(request, "teams.html", {**_form_context(db, None, [], _values(None)), "rows": _rows(db)})


@router.get("/teams/{team_id}", name="team")
def team_page(request: Request, team_id: TeamId, adviser: AdminAdviser, db: DB, ok: str = "") -> Response:
    team = _team_or_404(db, team_id)
    return render(request, "team.html", {**_form_context(db, team, [], _values(team)), "flash": FLASH.get(ok)})


def _team_or_404(db: Session, team_id: int) -> teams.Team:
    team = db.get(teams.Team, team_id)
    if team is None:
        raise PageError(404, "Dieses Team gibt es nicht.", back="/teams")
    return team


async def _save(request: Request, db: Session, adviser: Adviser, team: teams.Team | None) -> Response:
    form = await request.form()
    values = {
        "name": str(form.get("name") or "")[:200],
        "email": str(form.get("email") or "")[:300],
        "region": [str(v) for v in form.getlist("region")][:100],
        "topics": [str(v) for v in form.getlist("topics")][:20],
        "is_fallback": form.get("is_fallback") == "1",
        "members": [int(v) for v in form.getlist("members") if str(v).isdigit() and int(v) <= MAX_ID][:500],
    }
    try:
        saved = teams.save_team(db, team, name=values["name"], region=values["region"], topics=values["topics"],
                                email=values["email"], is_fallback=values["is_fallback"])
        if team is not None or values["members"]:
            members = list(db.scalars(select(Adviser).where(Adviser.id.in_(values["members"]))))
            teams.set_members(db, saved, members)
    except teams.TeamError as exc:
        db.rollback()
        template = "team.html" if team is not None else "teams.html"
        context = _form_context(db, team, [str(exc)], values)
        if team is None:
            context["rows"] = _rows(db)
        return render(request, template, context, status=422)
    service.audit(db, adviser, "team_saved", None, f"Team #{saved.id}")
    db.commit()
    return RedirectResponse(f"/teams/{saved.id}?ok={'saved' if team else 'created'}#meldung", status_code=303)


@router.post("/teams")
async def team_create(request: Request, adviser: AdminAdviser, db: DB) -> Response:
    return await _save(request, db, adviser, None)


@router.post("/teams/{team_id}")
async def team_update(request: Request, team_id: TeamId, adviser: AdminAdviser, db: DB) -> Response:
    return await _save(request, db, adviser, _team_or_404(db, team_id))


# --- transfer ------------------------------------------------------------------------------------------------------


def _targets(db: Session, adviser_id: int | None, team_id: int | None) -> tuple[Adviser | None, teams.Team | None]:
    """The chosen adviser or team; LookupError if it does not exist (or the account is inactive)."""
    to_adviser = db.get(Adviser, adviser_id) if adviser_id is not None else None
    to_team = db.get(teams.Team, team_id) if team_id is not None else None
    if (adviser_id is not None and (to_adviser is None or not to_adviser.active)) or (
            team_id is not None and to_team is None):
        raise LookupError
    return to_adviser, to_team


def _transfer(db: Session, adviser: Adviser, handoff_id: int, adviser_id: int | None, team_id: int | None,
              note: str) -> Handoff:
    """Check visibility and target, transfer, commit. Raises LookupError (404) or service.HandoffError (409)."""
    handoff = db.get(Handoff, handoff_id)
    if handoff is None or not service.can_see(adviser, handoff):
        raise LookupError
    to_adviser, to_team = _targets(db, adviser_id, team_id)
    result = service.transfer(db, handoff_id, adviser, to_adviser=to_adviser, to_team=to_team, note=note)
    db.commit()
    return result


@router.post("/handoffs/{handoff_id}/transfer")
def transfer_page(
    handoff_id: HandoffId,
    adviser: CurrentAdviser,
    db: DB,
    target: str = Form(..., max_length=30),
    note: str = Form("", max_length=MAX_NOTE),
) -> Response:
    kind, _, raw = target.partition(":")
    number = int(raw) if raw.isdigit() and int(raw) <= MAX_ID else None
    if kind not in ("adviser", "team") or number is None:
        raise PageError(422, "Bitte wählen Sie, an wen die Übergabe gehen soll.", back=f"/handoffs/{handoff_id}")
    try:
        handoff = _transfer(db, adviser, handoff_id, number if kind == "adviser" else None,
                            number if kind == "team" else None, note)
    except LookupError as exc:
        raise PageError(404, "Diese Übergabe oder dieses Ziel gibt es nicht.", back="/") from exc
    except service.HandoffError as exc:
        raise PageError(409, str(exc), back=f"/handoffs/{handoff_id}") from exc
    if service.can_see(adviser, handoff):
        return RedirectResponse(f"/handoffs/{handoff_id}?ok=transferred#meldung", status_code=303)
    return RedirectResponse("/?ok=transferred", status_code=303)  # no longer theirs: back to the inbox


class TransferIn(BaseModel):
    adviser_id: int | None = Field(None, ge=1, le=MAX_ID, description="an diese Person (zugewiesen)")
    team_id: int | None = Field(None, ge=1, le=MAX_ID, description="oder an dieses Team (wartet dort)")
    note: str = Field("", max_length=MAX_NOTE, description="interne Notiz zur Weiterleitung")

    @model_validator(mode="after")
    def one_target(self) -> TransferIn:
        if (self.adviser_id is None) == (self.team_id is None):
            raise ValueError("genau eines von adviser_id und team_id")
        return self


class TransferOut(BaseModel):
    id: int
    status: str
    assigned_to: str | None
    team: str | None
    visible_to_you: bool


@api_router.post("/handoffs/{handoff_id}/transfer", response_model=TransferOut,
                 summary="An eine andere Person oder ein anderes Team weiterleiten (mit interner Notiz)")
def transfer_api(handoff_id: HandoffId, body: TransferIn, adviser: ApiAdviser, db: DB) -> TransferOut:
    try:
        handoff = _transfer(db, adviser, handoff_id, body.adviser_id, body.team_id, body.note)
    except LookupError as exc:
        raise HTTPException(404, "Diese Übergabe oder dieses Ziel gibt es nicht.") from exc
    except service.HandoffError as exc:
        if db.get(Handoff, handoff_id) is None:
            raise HTTPException(404, "Diese Übergabe gibt es nicht.") from exc
        raise HTTPException(409, str(exc)) from exc
    db.refresh(handoff)
    return TransferOut(id=handoff.id, status=handoff.status,
                       assigned_to=handoff.adviser.username if handoff.adviser else None,
                       team=handoff.team.name if handoff.team else None,
                       visible_to_you=service.can_see(adviser, handoff))
