"""Request dependencies shared by the pages and the APIs: settings, database session, who is logged in, CSRF,
API token, and rendering of German pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.console import proxies, sessions
from channels.console.security import SESSION_COOKIE, SessionData, SessionSigner, token_hash
from core.settings import ConsoleSettings
from core.tokens import same
from handoff.lifecycle import RasaApi
from handoff.models import Adviser

CSRF_FIELD = "csrf_token"
# A record id in a path is at most the largest INTEGER of the database (PostgreSQL: 32 bit); a larger one is 422,
# not a database error (SQLite raised OverflowError, a 500, for ids beyond 64 bit).
MAX_ID = 2**31 - 1
HandoffId = Annotated[int, Path(ge=1, le=MAX_ID)]


class PageError(Exception):
    """Rendered as a German error page with this status."""

    def __init__(self, status: int, message: str, back: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.back = back


class LoginRequired(Exception):
    """Not logged in (or the session expired): redirect to the login page."""


def get_settings(request: Request) -> ConsoleSettings:
    return request.app.state.settings


def get_rasa_api(request: Request) -> RasaApi:
    """Rasa's HTTP API as the settings say (resuming the bot after a hand-off)."""
    settings = get_settings(request)
    return RasaApi(settings.rasa_url, settings.rasa_token, settings.rasa_timeout)


RasaApiDep = Annotated[RasaApi, Depends(get_rasa_api)]


def get_db(request: Request) -> Iterator[Session]:
    """A session per request; handlers commit what they change, anything else is rolled back."""
    session: Session = request.app.state.session_factory()
    try:
        yield session
    finally:
        session.close()


def read_session(request: Request) -> SessionData | None:
    signer: SessionSigner = request.app.state.signer
    return signer.loads(request.cookies.get(SESSION_COOKIE))


def client_address(request: Request) -> str:
    """The client's address for throttling and audit (X-Forwarded-For only from trusted proxies)."""
    return proxies.client_address(request.scope, get_settings(request))


def set_session_cookie(request: Request, response: Any, data: SessionData) -> None:
    settings = get_settings(request)
    response.set_cookie(
        SESSION_COOKIE,
        request.app.state.signer.dumps(data),
        max_age=settings.session_max_age,
        path="/",
        secure=proxies.secure_cookies(request, settings),
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(request: Request, response: Any) -> None:
    secure = proxies.secure_cookies(request, get_settings(request))
    response.delete_cookie(SESSION_COOKIE, path="/", secure=secure, httponly=True, samesite="lax")


async def csrf_protect(request: Request) -> None:
    """Every POST of a page form must carry the CSRF token of the session (router-wide dependency)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    data = read_session(request)
    form = await request.form()
    token = form.get(CSRF_FIELD)
    if data is None or not isinstance(token, str) or not same(token, data.csrf):
        raise PageError(
            403,
            "Das Formular ist abgelaufen oder ungültig (Schutz vor gefälschten Anfragen). "
            "Bitte laden Sie die Seite neu, melden Sie sich gegebenenfalls wieder an und versuchen Sie es erneut.",
        )
    request.state.csrf = data.csrf


DB = Annotated[Session, Depends(get_db)]


def current_adviser(request: Request, db: DB) -> Adviser:
    """The account of the browser's live server-side session (see ``sessions``), else back to the login page."""
    data = read_session(request)
    if data is None:
        raise LoginRequired()
    adviser = sessions.lookup(db, data.token, idle_timeout=get_settings(request).idle_timeout)
    if adviser is None:
        raise LoginRequired()
    request.state.adviser = adviser
    request.state.csrf = data.csrf
    return adviser


CurrentAdviser = Annotated[Adviser, Depends(current_adviser)]


def admin_required(adviser: CurrentAdviser) -> Adviser:
    if adviser.role != "admin":
        raise PageError(403, "Diese Seite ist nur für Administratorinnen und Administratoren zugänglich.")
    return adviser


AdminAdviser = Annotated[Adviser, Depends(admin_required)]
_bearer = HTTPBearer(auto_error=False, description="Persönliches API-Token (CLI: issue-token)")


def api_adviser(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)], db: DB) -> Adviser:
    unauthorized = HTTPException(401, "Gültiges API-Token erforderlich", headers={"WWW-Authenticate": "Bearer"})
    if credentials is None or not credentials.credentials:
        raise unauthorized
    adviser = db.scalar(
        select(Adviser).where(Adviser.api_token_hash == token_hash(credentials.credentials), Adviser.active.is_(True))
    )
    if adviser is None:
        raise unauthorized
    return adviser


ApiAdviser = Annotated[Adviser, Depends(api_adviser)]


def render(request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200) -> HTMLResponse:
    ctx = {
        "adviser": getattr(request.state, "adviser", None),
        "csrf_token": getattr(request.state, "csrf", ""),
        "csrf_field": CSRF_FIELD,
        "now": dt.datetime.now(dt.UTC).replace(tzinfo=None),
        **(context or {}),
    }
    return request.app.state.templates.TemplateResponse(request, template, ctx, status_code=status)
