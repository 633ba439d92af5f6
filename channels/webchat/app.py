"""The web chat page: ``create_app(settings)``; ``uvicorn channels.webchat.app:app`` uses the environment.

The server only delivers one page and its static files. The browser talks to Rasa's REST channel directly
(``POST /webhooks/rest/webhook``, polling ``GET /webhooks/rest/outbox``), so the CSP allows exactly this
origin and Rasa's origin in ``connect-src``.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from channels.body_limit import KIB, BodyLimit
from channels.lazy_app import lazy_app
from core.settings import WebchatSettings
from knowledge_base.privacy import privacy_text

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"
MAX_MESSAGE_LENGTH = 2000
HISTORY_LIMIT = 200
PRIVACY_PAGE_PATH = "/datenschutz"
WEBCHAT_MAX_BODY = 16 * KIB  # the server only delivers the page: no request needs a body


def content_security_policy(settings: WebchatSettings) -> str:
    connect = " ".join(["'self'", *([settings.rasa_origin] if settings.rasa_origin else [])])
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"connect-src {connect}; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'; form-action 'self'"
    )


class SecurityHeaders:
    """Strict headers on every response; the CSP forbids inline scripts and styles."""

    def __init__(self, app: ASGIApp, csp: str) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                cache = b"no-cache" if static else b"no-store"  # static files: revalidated via ETag
                message["headers"] = [*message.get("headers", []), *self.headers, (b"cache-control", cache)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def make_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True, trim_blocks=True, lstrip_blocks=True
    )
    return Jinja2Templates(env=env)


def create_app(settings: WebchatSettings | None = None) -> FastAPI:
    settings = settings or WebchatSettings.from_env()
    templates = make_templates()
    app = FastAPI(title="Web-Chat – Berufsorientierungs-Assistent Hessen", docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.settings = settings
    app.add_middleware(BodyLimit, max_bytes=WEBCHAT_MAX_BODY)
    app.add_middleware(SecurityHeaders, csp=content_security_policy(settings))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", response_class=HTMLResponse)
    def chat(request: Request) -> HTMLResponse:
        config = {
            "rasa_url": settings.rasa_url,
            "poll_seconds": f"{settings.poll_seconds:g}",
            "max_length": MAX_MESSAGE_LENGTH,
            "history_limit": HISTORY_LIMIT,
        }
        return templates.TemplateResponse(request, "chat.html", config)

    @app.get(PRIVACY_PAGE_PATH, response_class=HTMLResponse)
    def privacy(request: Request) -> HTMLResponse:
        """The privacy information (Art. 13 DSGVO): the same text the bot sends, with the current settings."""
        return templates.TemplateResponse(request, "privacy.html", {"text": privacy_text()})

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


# ``uvicorn channels.webchat.app:app`` builds the app from the environment on first access (not on import)
__getattr__ = lazy_app(create_app)
