"""Who may read the small JSON endpoints the console's own pages call (search in the reply box, inbox summary,
statistics): an API client with its bearer token, like the rest of ``/api/v1``, or the logged-in browser with
its session cookie. These endpoints only read, so the cookie (SameSite=Lax) needs no CSRF token.

A poll does not count as activity: the session is checked without refreshing its last request, so a tab left
open still ends its login after ``CONSOLE_IDLE_TIMEOUT``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials

from channels.console.deps import DB, _bearer, api_adviser, get_settings, read_session
from channels.console.models import ConsoleSession
from channels.console.security import session_id
from core.db import utcnow
from handoff.models import Adviser


def reader_adviser(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    db: DB,
) -> Adviser:
    if credentials is not None:
        return api_adviser(credentials, db)
    data = read_session(request)
    adviser = _live_session_adviser(db, data.token, get_settings(request).idle_timeout) if data else None
    if adviser is None:
        raise HTTPException(401, "Anmeldung oder gültiges API-Token erforderlich",
                            headers={"WWW-Authenticate": "Bearer"})
    return adviser


def _live_session_adviser(db: DB, token: str, idle_timeout: int) -> Adviser | None:
    """Like ``sessions.lookup``, but read-only (no refresh of ``last_seen_at``)."""
    row = db.get(ConsoleSession, session_id(token))
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    if now - row.last_seen_at >= dt.timedelta(seconds=idle_timeout):
        return None
    adviser = db.get(Adviser, row.adviser_id)
    return adviser if adviser is not None and adviser.active else None


ReaderAdviser = Annotated[Adviser, Depends(reader_adviser)]
