"""The console application: ``create_app(settings)``; ``uvicorn channels.console.app:app`` uses the environment."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from channels.body_limit import KIB, BodyLimit, TokenGuard, validation_error_handler
from channels.console import (
    api,
    auth,
    dashboard,
    feedback,
    inbound,
    notify,
    pages,
    proxies,
    pseudonyms,
    replies,
)
from channels.console import teams as team_pages
from channels.console.accounts import ensure_admin
from channels.console.deps import CurrentAdviser, LoginRequired, PageError, render
from channels.console.security import SessionSigner
from channels.console.templating import make_templates
from channels.lazy_app import lazy_app
from channels.push.http import http_pusher
from channels.push.messenger import graph_pusher
from core.db import make_engine, make_session_factory, session_scope
from core.protocol import CHANNEL_FACEBOOK, INBOUND_TOKEN_HEADER
from core.settings import PROJECT_ROOT, ConsoleSettings, RetentionSettings
from handoff.outbox import register_pusher

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent / "static"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
API_PREFIXES = ("/api/", "/docs", "/redoc", "/openapi.json")
CONSOLE_MAX_BODY = 64 * KIB  # largest request body: forms, JSON API and channel messages (≤ 4,000 characters)
HSTS = b"max-age=31536000; includeSubDomains"


class SecurityHeaders:
    """Strict headers on every response; the pages also get a CSP without inline scripts and no caching; over
    HTTPS (directly or from a trusted proxy) HSTS."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        https = proxies.is_https(scope, scope["app"].state.settings) if "app" in scope else False

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                ]
                if not path.startswith(("/docs", "/redoc", "/static/")):
                    headers.append((b"content-security-policy", CSP.encode()))
                if not path.startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                if https:
                    headers.append((b"strict-transport-security", HSTS))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def setup(settings: ConsoleSettings, factory: Any) -> None:
    """Migrate the database and create the first admin if there is none (its password is printed once)."""
    from core.migrate import upgrade

    upgrade(settings.database_url)
    with session_scope(factory) as session:
        result = ensure_admin(session, settings.admin_user, settings.admin_password)
        if result.created:
            print_created_admin(result.adviser.username, result.password)


def print_created_admin(username: str, password: str | None) -> None:
    if password:
        print(
            f"Erstes Administrationskonto angelegt: Benutzername {username!r}, Passwort {password!r} "
            "(wird nur dieses eine Mal angezeigt)",
            file=sys.stderr,
            flush=True,
        )
    else:
        print(f"Erstes Administrationskonto {username!r} angelegt (Passwort aus CONSOLE_ADMIN_PASSWORD)",
              file=sys.stderr, flush=True)


def _wants_page(request: Request) -> bool:
    return not request.url.path.startswith(API_PREFIXES)


async def run_retention(interval_hours: float, first_delay: float = 60.0) -> None:
    """The retention job (``python -m channels.retention --scheduled``, its own process) shortly after start
    and then every ``interval_hours``; the job itself makes sure only one console worker purges per interval."""
    delay = min(first_delay, interval_hours * 3600)
    while True:
        await asyncio.sleep(delay)
        delay = interval_hours * 3600
        try:
            job = await asyncio.create_subprocess_exec(sys.executable, "-m", "channels.retention", "--scheduled",
                                                     cwd=PROJECT_ROOT)
            if await job.wait() != 0:
                log.warning("retention job failed (exit code %s)", job.returncode)
        except OSError as exc:
            log.warning("retention job could not be started: %s", exc)


def create_app(settings: ConsoleSettings | None = None, retention: RetentionSettings | None = None) -> FastAPI:
    """The console; with ``retention`` (``python -m channels.console``) it also schedules the retention job."""
    settings = settings or ConsoleSettings.from_env()
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if settings.auto_setup:
            setup(settings, factory)
        task = None
        if retention is not None and retention.interval_hours > 0:
            task = asyncio.create_task(run_retention(retention.interval_hours))
        notifier = asyncio.create_task(notify.run(settings, factory)) if settings.smtp_host else None
        yield
        if notifier is not None:
            notifier.cancel()
        if task is not None:
            task.cancel()
        engine.dispose()

    app = FastAPI(
        title="Beratungskonsole – Berufsorientierungs-Assistent Hessen",
        description="Übergaben vom Bot an die Beratung: Eingang, Gespräch, Antworten, Notizen, Abschluss, Export. "
        "Authentifizierung mit persönlichem API-Token (`python -m channels.console.cli issue-token NAME`).",
        version="1.0",
        lifespan=lifespan,
        docs_url=None,  # served below, only to logged-in advisers
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    pseudonyms.configure(settings.pseudonym_key or settings.inbound_token or "")
    app.state.session_factory = factory
    app.state.signer = SessionSigner(settings.secret_key, settings.session_max_age)
    app.state.templates = make_templates()

    for channel, url in settings.push_urls.items():
        register_pusher(channel, http_pusher(url, settings.inbound_token))
    if settings.facebook_page_token:
        register_pusher(CHANNEL_FACEBOOK, graph_pusher(settings.facebook_page_token, settings.facebook_graph_url))

    # Outermost last: security headers on every answer, then the channel token, then the size limit.
    app.add_middleware(BodyLimit, max_bytes=CONSOLE_MAX_BODY)
    app.add_middleware(TokenGuard, paths=inbound.GUARDED_PATHS + feedback.GUARDED_PATHS,
                       header=INBOUND_TOKEN_HEADER,
                       expected=lambda: app.state.settings.inbound_token, unset_detail=inbound.TOKEN_UNSET)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(auth.router, include_in_schema=False)
    app.include_router(pages.router, include_in_schema=False)
    app.include_router(team_pages.router, include_in_schema=False)
    app.include_router(dashboard.pages, include_in_schema=False)
    app.include_router(replies.pages, include_in_schema=False)
    app.include_router(api.router)
    app.include_router(team_pages.api_router)
    app.include_router(dashboard.api)
    app.include_router(replies.api)
    app.include_router(inbound.router)
    app.include_router(feedback.router)
    app.include_router(feedback.pages)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(_: CurrentAdviser) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    def docs(_: CurrentAdviser) -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} – API")

    @app.get("/redoc", include_in_schema=False)
    def redoc(_: CurrentAdviser) -> HTMLResponse:
        return get_redoc_html(openapi_url="/openapi.json", title=f"{app.title} – API")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        url = "/login" if request.method != "GET" or target == "/" else f"/login?next={_quote(target)}"
        return RedirectResponse(url, status_code=303)

    @app.exception_handler(PageError)
    async def page_error(request: Request, exc: PageError) -> Response:
        return render(request, "error.html", {"message": exc.message, "back": exc.back, "status": exc.status},
                      exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_page(request) and exc.status_code in (404, 405):
            message = "Diese Seite gibt es nicht." if exc.status_code == 404 else "Diese Aktion ist hier nicht möglich."
            return render(request, "error.html", {"message": message, "back": "/", "status": exc.status_code},
                          exc.status_code)
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if _wants_page(request):
            return render(request, "error.html", {
                "message": "Die Eingabe ist ungültig (zu lang oder unvollständig). Bitte prüfen Sie das Formular.",
                "back": request.headers.get("referer") if _same_site(request) else "/", "status": 400,
            }, 400)
        return await validation_error_handler(request, exc)

    return app


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")


def _same_site(request: Request) -> bool:
    referer = request.headers.get("referer") or ""
    return referer.startswith(str(request.base_url))


# ``uvicorn channels.console.app:app`` builds the app from the environment on first access (not on import)
__getattr__ = lazy_app(lambda: create_app(retention=RetentionSettings.from_env()))
