"""Login sessions on the server (table ``console_session``): the cookie only names one, the database decides.

A session ends when it is revoked (logout; a new password, deactivation: all of the account's sessions), after
``CONSOLE_IDLE_TIMEOUT`` seconds without a request, or ``CONSOLE_SESSION_MAX_AGE`` seconds after login,
whichever comes first. ``last_seen_at`` is written at most once a minute (not on every request), so the idle
time is measured with that resolution.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, or_, update
from sqlalchemy.orm import Session

from channels.console.models import ConsoleSession
from channels.console.security import session_id
from core.db import utcnow
from handoff.models import Adviser

TOUCH_INTERVAL = 60  # seconds: at most one write of last_seen_at per session and minute


def start(db: Session, adviser: Adviser, token: str, *, max_age: int, address: str,
          user_agent: str | None) -> ConsoleSession:
    """A new session for ``token`` (the caller commits). Ended sessions of the past are cleared on the way."""
    now = utcnow()
    db.execute(delete(ConsoleSession).where(
        or_(ConsoleSession.expires_at < now, ConsoleSession.revoked_at.is_not(None))))
    row = ConsoleSession(
        id=session_id(token), adviser_id=adviser.id, created_at=now, last_seen_at=now,
        expires_at=now + dt.timedelta(seconds=max_age), address=address[:64],
        user_agent=(user_agent or "")[:200] or None,
    )
    db.add(row)
    return row


def lookup(db: Session, token: str, *, idle_timeout: int) -> Adviser | None:
    """The active account of a live session, or None. Commits the refreshed ``last_seen_at`` when due."""
    row = db.get(ConsoleSession, session_id(token))
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    idle = now - row.last_seen_at
    if row.expires_at <= now or idle >= dt.timedelta(seconds=idle_timeout):
        return None
    adviser = db.get(Adviser, row.adviser_id)
    if adviser is None or not adviser.active:
        return None
    if idle >= dt.timedelta(seconds=min(TOUCH_INTERVAL, idle_timeout / 10)):
        row.last_seen_at = now
        db.commit()
    return adviser


def revoke(db: Session, token: str) -> None:
    """End one session (logout); the caller commits."""
    db.execute(update(ConsoleSession).where(ConsoleSession.id == session_id(token),
                                            ConsoleSession.revoked_at.is_(None)).values(revoked_at=utcnow()))


def revoke_all(db: Session, adviser_id: int) -> int:
    """End every session of an account (new password, deactivation); the caller commits. Returns how many."""
    result = db.execute(update(ConsoleSession).where(ConsoleSession.adviser_id == adviser_id,
                                                     ConsoleSession.revoked_at.is_(None)).values(revoked_at=utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)
