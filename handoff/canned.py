"""Canned replies (Textbausteine): short texts admins write once and advisers insert into a reply.

Placeholders such as ``{berater_name}`` are filled by :func:`fill` with a single regular-expression pass: no
``str.format`` on admin-written text (which would read attributes, ``{0.__class__}``), no second pass over
inserted values (a value containing ``{sprechzeiten}`` stays as it is), and unknown placeholders stay visible
so the adviser sees and edits them. The result is plain text; whatever shows it escapes it (Jinja, or the
reply box's ``textarea.value``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from sqlalchemy import DateTime, ForeignKey, String, Text, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, utcnow

MAX_TITLE = 120
MAX_TEXT = 4000
MAX_QUERY = 100
PLACEHOLDERS = {
    "berater_name": "Ihr Name (wie in der Konsole angezeigt)",
    "sprechzeiten": "die Sprechzeiten, z. B. „Mo–Fr 9–17 Uhr“",
    "naechster_termin": "wann die Beratung als Nächstes da ist, z. B. „morgen ab 9 Uhr“",
}
_PLACEHOLDER = re.compile(r"\{([a-z_]{1,40})\}")


class CannedReply(Base):
    """One Textbaustein."""

    __tablename__ = "canned_reply"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(MAX_TITLE), unique=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("adviser.id", ondelete="SET NULL"))


class CannedReplyError(Exception):
    """Not possible (empty, too long, title taken); the message is German."""


def fill(text: str, values: Mapping[str, str]) -> str:
    """Replace known ``{name}`` placeholders by their values, once; unknown ones stay as written."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def unknown_placeholders(text: str) -> list[str]:
    """Placeholders in ``text`` that :func:`fill` does not know (shown to the admin as a hint)."""
    return sorted({m.group(1) for m in _PLACEHOLDER.finditer(text)} - PLACEHOLDERS.keys())


def _clean(title: str, text: str) -> tuple[str, str]:
    title, text = " ".join(title.split()), text.strip().replace("\r\n", "\n")
    if not title or not text:
        raise CannedReplyError("Titel und Text dürfen nicht leer sein.")
    if len(title) > MAX_TITLE or len(text) > MAX_TEXT:
        raise CannedReplyError(f"Der Titel darf höchstens {MAX_TITLE}, der Text höchstens {MAX_TEXT} Zeichen haben.")
    return title, text


def _title_taken(session: Session, title: str, except_id: int | None = None) -> bool:
    query = select(CannedReply.id).where(func.lower(CannedReply.title) == title.lower())
    if except_id is not None:
        query = query.where(CannedReply.id != except_id)
    return session.scalar(query) is not None


def create(session: Session, title: str, text: str, adviser_id: int | None) -> CannedReply:
    title, text = _clean(title, text)
    if _title_taken(session, title):
        raise CannedReplyError("Einen Textbaustein mit diesem Titel gibt es schon.")
    reply = CannedReply(title=title, text=text, updated_by=adviser_id, created_at=utcnow(), updated_at=utcnow())
    session.add(reply)
    session.flush()
    return reply


def update(session: Session, reply_id: int, title: str, text: str, adviser_id: int | None) -> CannedReply:
    reply = session.get(CannedReply, reply_id)
    if reply is None:
        raise CannedReplyError("Diesen Textbaustein gibt es nicht.")
    title, text = _clean(title, text)
    if _title_taken(session, title, except_id=reply_id):
        raise CannedReplyError("Einen Textbaustein mit diesem Titel gibt es schon.")
    reply.title, reply.text, reply.updated_by, reply.updated_at = title, text, adviser_id, utcnow()
    session.flush()
    return reply


def delete(session: Session, reply_id: int) -> bool:
    reply = session.get(CannedReply, reply_id)
    if reply is None:
        return False
    session.delete(reply)
    session.flush()
    return True


def get(session: Session, reply_id: int) -> CannedReply | None:
    return session.get(CannedReply, reply_id)


def all_replies(session: Session) -> list[CannedReply]:
    return list(session.scalars(select(CannedReply).order_by(func.lower(CannedReply.title))))


def search(session: Session, query: str, limit: int = 8) -> list[CannedReply]:
    """Title or text contains every word of ``query`` (case-insensitive); titles starting with it first."""
    words = query.split()[:5]
    stmt = select(CannedReply)
    for word in words:
        pattern = f"%{_like_escape(word[:MAX_QUERY].lower())}%"
        stmt = stmt.where(or_(func.lower(CannedReply.title).like(pattern, escape="\\"),
                              func.lower(CannedReply.text).like(pattern, escape="\\")))
    found = list(session.scalars(stmt.order_by(func.lower(CannedReply.title)).limit(200)))
    first = query.strip().lower()
    found.sort(key=lambda r: (not r.title.lower().startswith(first), r.title.lower()))
    return found[:limit]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
