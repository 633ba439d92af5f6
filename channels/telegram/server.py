"""The bridge's own HTTP server (FastAPI on uvicorn, in the same event loop as python-telegram-bot):

* ``POST /telegram/webhook`` (webhook mode): Telegram's updates; the header ``X-Telegram-Bot-Api-Secret-Token``
  must equal ``TELEGRAM_WEBHOOK_SECRET`` (403 otherwise); a body that is no update is 400. Answered after the
  update was handled; if handling failed the answer is 500, so Telegram delivers the update again.
* ``POST /internal/push``: adviser replies from the console (``X-Inbound-Token``, checked before the body is
  read); ``{"delivered": bool}``.
* ``GET /healthz``.

Every request body has at most ``BRIDGE_MAX_BODY`` bytes (413 otherwise, ``channels/body_limit.py``).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from telegram import Update
from telegram.ext import Application

from channels.body_limit import MIB, BodyLimit, TokenGuard, validation_error_handler
from channels.telegram.bridge import Bridge
from channels.telegram.handlers import FAILED_UPDATES
from channels.telegram.logs import log_event
from core.protocol import INBOUND_TOKEN_HEADER
from core.settings import TelegramSettings
from core.tokens import same

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's updates are small (a message is at most 4096 characters); pushes carry one bot message.
BRIDGE_MAX_BODY = MIB


class PushIn(BaseModel):
    conversation_id: str = Field(min_length=1, max_length=200)
    message: dict[str, Any]


def create_server(settings: TelegramSettings, application: Application, bridge: Bridge) -> FastAPI:  # type: ignore[type-arg]
    app = FastAPI(title="Telegram-Brücke", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_exception_handler(RequestValidationError, validation_error_handler)  # type: ignore[arg-type]
    app.add_middleware(BodyLimit, max_bytes=BRIDGE_MAX_BODY)
    app.add_middleware(TokenGuard, paths=(TelegramSettings.PUSH_PATH,), header=INBOUND_TOKEN_HEADER,
                       expected=lambda: settings.inbound_token, unset_status=401,
                       unset_detail=f"Ungültiges {INBOUND_TOKEN_HEADER}")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "mode": settings.mode}

    @app.post(TelegramSettings.PUSH_PATH)
    async def push(body: PushIn, request: Request) -> dict[str, bool]:
        if not same(request.headers.get(INBOUND_TOKEN_HEADER), settings.inbound_token):
            raise HTTPException(401, f"Ungültiges {INBOUND_TOKEN_HEADER}")
        return {"delivered": await bridge.push(body.conversation_id, body.message)}

    if settings.mode == "webhook":

        @app.post(TelegramSettings.WEBHOOK_PATH)
        async def webhook(request: Request) -> dict[str, bool]:
            if not same(request.headers.get(SECRET_HEADER), settings.webhook_secret):
                log_event("webhook_rejected", reason="secret token")
                raise HTTPException(403, "Forbidden")
            try:
                data = await request.json()
            except ValueError as exc:
                raise HTTPException(400, "JSON erwartet") from exc
            if not isinstance(data, dict):
                raise HTTPException(400, "kein Update")
            try:  # python-telegram-bot trusts the shape of an update: anything odd raises on the way in
                update = Update.de_json(data, application.bot)
            except (AttributeError, KeyError, TypeError, ValueError) as exc:
                log_event("webhook_rejected", reason="malformed update")
                raise HTTPException(400, "kein gültiges Update") from exc
            if update is None:
                raise HTTPException(400, "kein Update")
            await application.process_update(update)
            if update.update_id in application.bot_data.get(FAILED_UPDATES, set()):
                application.bot_data[FAILED_UPDATES].discard(update.update_id)
                raise HTTPException(500, "Update nicht verarbeitet; bitte erneut senden")
            return {"ok": True}

    return app
