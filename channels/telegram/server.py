"""The bridge's own HTTP server (FastAPI on uvicorn, in the same event loop as python-telegram-bot):

* ``POST /telegram/webhook`` (webhook mode): Telegram's updates; the header ``X-Telegram-Bot-Api-Secret-Token``
  must equal ``TELEGRAM_WEBHOOK_SECRET`` (403 otherwise). Answered after the update was handled; if handling
  failed the answer is 500, so Telegram delivers the update again.
* ``POST /internal/push``: adviser replies from the console (``X-Inbound-Token``); ``{"delivered": bool}``.
* ``GET /healthz``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel, Field
from telegram import Update
from telegram.ext import Application

from channels.telegram.bridge import Bridge
from channels.telegram.handlers import FAILED_UPDATES
from channels.telegram.logs import log_event
from core.protocol import INBOUND_TOKEN_HEADER
from core.settings import TelegramSettings
from core.tokens import same

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class PushIn(BaseModel):
    conversation_id: str = Field(min_length=1, max_length=200)
    message: dict[str, Any]


def create_server(settings: TelegramSettings, application: Application, bridge: Bridge) -> FastAPI:  # type: ignore[type-arg]
    app = FastAPI(title="Telegram-Brücke", docs_url=None, redoc_url=None, openapi_url=None)

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
            update = Update.de_json(data, application.bot)
            if update is None:
                raise HTTPException(400, "kein Update")
            await application.process_update(update)
            if update.update_id in application.bot_data.get(FAILED_UPDATES, set()):
                application.bot_data[FAILED_UPDATES].discard(update.update_id)
                raise HTTPException(500, "Update nicht verarbeitet; bitte erneut senden")
            return {"ok": True}

    return app
