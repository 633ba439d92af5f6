"""Login and logout pages: argon2 passwords, rate-limited failures, audited logins, CSRF-protected forms."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from channels.console.accounts import find
from channels.console.deps import (
    DB,
    clear_session_cookie,
    csrf_protect,
    read_session,
    render,
    set_session_cookie,
)
from channels.console.security import SessionData, hash_password, needs_rehash, verify_password
from handoff import service
from handoff.models import Adviser

router = APIRouter(dependencies=[Depends(csrf_protect)])

IP_LIMIT_FACTOR = 4  # one address may fail this many times the per-user limit (many usernames)


def safe_next(target: str | None) -> str:
    """Only local paths: no open redirect to other sites."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _login_page(request: Request, data: SessionData, next_url: str, error: str | None = None,
                status: int = 200, username: str = "") -> Response:
    request.state.csrf = data.csrf
    response = render(
        request, "login.html", {"error": error, "next": next_url, "username": username,
                                "logged_out": request.query_params.get("abgemeldet") == "1"}, status
    )
    set_session_cookie(request, response, data)
    return response


@router.get("/login", name="login")
def login_form(request: Request, next_url: str = Query("/", alias="next")) -> Response:
    data = read_session(request)
    if data is not None and data.uid is not None:
        return RedirectResponse(safe_next(next_url), status_code=303)
    return _login_page(request, data or SessionData.anonymous(), safe_next(next_url))


@router.post("/login")
def login(
    request: Request,
    db: DB,
    username: str = Form("", max_length=200),
    password: str = Form("", max_length=1000),
    next_url: str = Form("/", alias="next"),
) -> Response:
    data = read_session(request) or SessionData.anonymous()
    settings = request.app.state.settings
    limiter = request.app.state.limiter
    ip = request.client.host if request.client else "unbekannt"
    username = username.strip()
    user_key, ip_key = ("user", username.lower(), ip), ("ip", ip)
    if limiter.blocked(user_key) or limiter.blocked(ip_key, limiter.max_failures * IP_LIMIT_FACTOR):
        minutes = max(1, settings.login_window // 60)
        return _login_page(
            request, data, safe_next(next_url),
            f"Zu viele fehlgeschlagene Anmeldeversuche. Bitte warten Sie {minutes} Minuten und versuchen Sie "
            "es dann erneut.", 429, username,
        )
    adviser = find(db, username) if username else None
    ok = verify_password(adviser.password_hash if adviser else None, password)
    if not ok or adviser is None or not adviser.active:
        limiter.fail(user_key, ip_key)
        service.audit(db, adviser, "login_failed", detail=f"Benutzername {username[:80]!r} von {ip}")
        db.commit()
        return _login_page(
            request, data, safe_next(next_url), "Benutzername oder Passwort ist falsch.", 401, username
        )
    limiter.reset(user_key)
    if needs_rehash(adviser.password_hash):
        adviser.password_hash = hash_password(password)
    service.audit(db, adviser, "login", detail=f"von {ip}")
    db.commit()
    response = RedirectResponse(safe_next(next_url), status_code=303)
    set_session_cookie(request, response, SessionData.for_adviser(adviser.id, adviser.password_hash))
    return response


@router.post("/logout")
def logout(request: Request, db: DB) -> Response:
    data = read_session(request)
    if data is not None and data.uid is not None:
        adviser = db.get(Adviser, data.uid)
        if adviser is not None:
            service.audit(db, adviser, "logout")
            db.commit()
    response = RedirectResponse("/login?abgemeldet=1", status_code=303)
    clear_session_cookie(request, response)
    return response
