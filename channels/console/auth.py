"""Login and logout pages: argon2 passwords, failures throttled in the database, audited logins, server-side
sessions, CSRF-protected forms."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from channels.console import proxies, sessions
from channels.console.accounts import find
from channels.console.deps import (
    DB,
    clear_session_cookie,
    client_address,
    csrf_protect,
    get_settings,
    read_session,
    render,
    set_session_cookie,
)
from channels.console.security import SessionData, hash_password, needs_rehash, verify_password
from channels.console.throttle import LoginThrottle
from handoff import service

router = APIRouter(dependencies=[Depends(csrf_protect)])


def safe_next(target: str | None) -> str:
    """Only local paths: no open redirect to other sites."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _login_page(request: Request, data: SessionData, next_url: str, error: str | None = None,
                status: int = 200, username: str = "") -> Response:
    request.state.csrf = data.csrf
    settings = get_settings(request)
    # a `Secure` cookie over plain http is dropped by the browser: say why the login cannot work here
    needs_https = proxies.secure_cookies(request, settings) and not proxies.is_https(request.scope, settings)
    response = render(
        request, "login.html", {"error": error, "next": next_url, "username": username, "needs_https": needs_https,
                                "logged_out": request.query_params.get("abgemeldet") == "1"}, status
    )
    set_session_cookie(request, response, data)
    return response


@router.get("/login", name="login")
def login_form(request: Request, db: DB, next_url: str = Query("/", alias="next")) -> Response:
    data = read_session(request)
    if data is not None and sessions.lookup(db, data.token, idle_timeout=get_settings(request).idle_timeout):
        return RedirectResponse(safe_next(next_url), status_code=303)
    return _login_page(request, data or request.app.state.signer.new(), safe_next(next_url))


@router.post("/login")
def login(
    request: Request,
    db: DB,
    username: str = Form("", max_length=200),
    password: str = Form("", max_length=1000),
    next_url: str = Form("/", alias="next"),
) -> Response:
    data = read_session(request) or request.app.state.signer.new()
    settings = get_settings(request)
    throttle = LoginThrottle(settings.secret_key, settings.login_max_failures, settings.login_window)
    address = client_address(request)
    username = username.strip()
    if throttle.blocked(db, username, address):
        minutes = max(1, settings.login_window // 60)
        return _login_page(
            request, data, safe_next(next_url),
            f"Zu viele fehlgeschlagene Anmeldeversuche. Bitte warten Sie {minutes} Minuten und versuchen Sie "
            "es dann erneut.", 429, username,
        )
    adviser = find(db, username) if username else None
    ok = verify_password(adviser.password_hash if adviser else None, password)
    if not ok or adviser is None or not adviser.active:
        throttle.fail(db, username, address)
        # what was typed is not kept: for an unknown account it may well be a password typed into the wrong field
        service.audit(db, adviser, "login_failed",
                      detail=f"von {address}" if adviser else f"unbekanntes Konto, von {address}")
        db.commit()
        return _login_page(
            request, data, safe_next(next_url), "Benutzername oder Passwort ist falsch.", 401, username
        )
    throttle.succeeded(db, username)
    if needs_rehash(adviser.password_hash):
        adviser.password_hash = hash_password(password)
    fresh = request.app.state.signer.new()  # a new token at login: no session fixation, a new CSRF token
    sessions.start(db, adviser, fresh.token, max_age=settings.session_max_age, address=address,
                   user_agent=request.headers.get("user-agent"))
    service.audit(db, adviser, "login", detail=f"von {address}")
    db.commit()
    response = RedirectResponse(safe_next(next_url), status_code=303)
    set_session_cookie(request, response, fresh)
    return response


@router.post("/logout")
def logout(request: Request, db: DB) -> Response:
    """Ends the session on the server: the cookie, even a copy of it, no longer logs anyone in."""
    data = read_session(request)
    if data is not None:
        adviser = sessions.lookup(db, data.token, idle_timeout=get_settings(request).idle_timeout)
        sessions.revoke(db, data.token)
        if adviser is not None:
            service.audit(db, adviser, "logout")
        db.commit()
    response = RedirectResponse("/login?abgemeldet=1", status_code=303)
    clear_session_cookie(request, response)
    return response
