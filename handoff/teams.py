"""Teams of advisers: a region (Hessian districts, ``handoff/regions.py``), topics, an optional e-mail address and
members. Hand-offs are routed to a team (``handoff/routing.py``) and its members share them (need-to-know in
``handoff/service.py``). Functions take the caller's session; the caller commits."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Column, DateTime, ForeignKey, String, Table, select
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session, relationship

from core.db import Base, utcnow
from handoff.regions import regions

if TYPE_CHECKING:
    from handoff.models import Adviser

TOPICS = {  # key → German label (the keys are stored with the team and used by the routing)
    "teilzeit": "Teilzeitausbildung",
    "foerderung": "Förderung und Geld",
    "ausland": "Ausland",
    "sprache": "Sprache und Deutschförderung",
    "krise": "Krise",
    "allgemein": "Allgemein",
}
MAX_NAME = 120
MAX_EMAIL = 254
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]{1,63}(?:\.[^@\s.]{1,63}){1,10}")

team_member = Table(
    "team_member",
    Base.metadata,
    Column("team_id", ForeignKey("team.id", ondelete="CASCADE"), primary_key=True),
    Column("adviser_id", ForeignKey("adviser.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Team(Base):
    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME), unique=True)
    region: Mapped[list[str]] = mapped_column(JSON, default=list)  # district keys; empty: all of Hessen
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)  # subset of TOPICS; empty: allgemein
    email: Mapped[str | None] = mapped_column(String(MAX_EMAIL))
    is_fallback: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    members: Mapped[list[Adviser]] = relationship("Adviser", secondary=team_member, order_by="Adviser.username")


class TeamError(Exception):
    """A team that cannot be saved (empty or duplicate name, unknown district …); the message is German."""


def list_teams(session: Session) -> list[Team]:
    return list(session.scalars(select(Team).order_by(Team.name)))


def team_by_name(session: Session, name: str) -> Team | None:
    return session.scalar(select(Team).where(Team.name == name.strip()))


def team_ids_of(adviser: Adviser) -> set[int]:
    """The ids of the teams the adviser belongs to (queried in the adviser's own session; none if detached)."""
    session = object_session(adviser)
    if session is None:
        return set()
    return set(session.scalars(select(team_member.c.team_id).where(team_member.c.adviser_id == adviser.id)))


def _clean(session: Session, team: Team | None, name: str, region: list[str], topics: list[str],
           email: str | None) -> tuple[str, list[str], list[str], str | None]:
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise TeamError(f"Der Teamname muss 1 bis {MAX_NAME} Zeichen lang sein.")
    other = team_by_name(session, name)
    if other is not None and other is not team:
        raise TeamError("Ein Team mit diesem Namen gibt es schon.")
    known = regions().keys()
    unknown = [r for r in region if r not in known]
    if unknown:
        raise TeamError("Unbekannte Kreise: " + ", ".join(unknown[:5])[:200])
    wrong = [t for t in topics if t not in TOPICS]
    if wrong:
        raise TeamError("Unbekannte Themen: " + ", ".join(wrong[:5])[:200])
    email = (email or "").strip() or None
    if email is not None and (len(email) > MAX_EMAIL or not _EMAIL.fullmatch(email)):
        raise TeamError("Die E-Mail-Adresse ist ungültig.")
    ordered_region = [k for k in known if k in region]
    ordered_topics = [t for t in TOPICS if t in topics]
    return name, ordered_region, ordered_topics, email


def save_team(session: Session, team: Team | None, *, name: str, region: list[str], topics: list[str],
              email: str | None = None, is_fallback: bool = False) -> Team:
    """Create (``team=None``) or change a team. Only one team is the fallback: setting it unsets the others."""
    name, region, topics, email = _clean(session, team, name, region, topics, email)
    if team is None:
        team = Team(created_at=utcnow())
        session.add(team)
    team.name, team.region, team.topics, team.email, team.is_fallback = name, region, topics, email, is_fallback
    session.flush()
    if is_fallback:
        for other in session.scalars(select(Team).where(Team.is_fallback.is_(True), Team.id != team.id)):
            other.is_fallback = False
        session.flush()
    return team


def set_members(session: Session, team: Team, advisers: list[Adviser]) -> None:
    team.members = sorted({a.id: a for a in advisers}.values(), key=lambda a: a.username)
    session.flush()


def add_member(session: Session, team: Team, adviser: Adviser) -> bool:
    """Add the adviser to the team; False if they were a member already."""
    if any(m.id == adviser.id for m in team.members):
        return False
    team.members.append(adviser)
    session.flush()
    return True
