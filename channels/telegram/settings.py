"""Settings of the Telegram bridge, from the environment (``TelegramSettings.from_env``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from knowledge_base.db import database_url

Mode = Literal["polling", "webhook"]


class SettingsError(ValueError):
    """A missing or contradictory setting; the message says which variable to set."""


@dataclass(frozen=True)
class TelegramSettings:
    token: str
    database_url: str
    mode: Mode = "polling"
    webhook_url: str | None = None  # public HTTPS URL Telegram posts to (webhook mode)
    webhook_secret: str | None = None  # checked against X-Telegram-Bot-Api-Secret-Token
    host: str = "127.0.0.1"  # the bridge's own HTTP server: webhook, push endpoint, health
    port: int = 8081
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout: float = 30.0
    inbound_token: str | None = None  # shared secret with Rasa's REST channel and the console
    console_url: str = "http://127.0.0.1:8000"
    api_base_url: str | None = None  # another Bot API server (a local one, or the tests' fake)
    retry_interval: float = 5.0  # first wait before unanswered messages are sent to Rasa again (doubles, ≤ 60 s)
    outbox_interval: float = 30.0  # how often adviser replies that missed the push are collected
    send_attempts: int = 5  # per Telegram call, on network errors and 429

    WEBHOOK_PATH = "/telegram/webhook"
    PUSH_PATH = "/internal/push"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TelegramSettings:
        env = os.environ if environ is None else environ
        token = (env.get("TELEGRAM_BOT_TOKEN") or "").strip()
        if not token:
            raise SettingsError("TELEGRAM_BOT_TOKEN ist nicht gesetzt (Token von @BotFather).")
        mode = (env.get("TELEGRAM_MODE") or "polling").strip().lower()
        if mode not in ("polling", "webhook"):
            raise SettingsError("TELEGRAM_MODE muss 'polling' oder 'webhook' sein.")
        settings = cls(
            token=token,
            database_url=env.get("KB_DATABASE_URL") or database_url(),
            mode=mode,  # type: ignore[arg-type]
            webhook_url=env.get("TELEGRAM_WEBHOOK_URL") or None,
            webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET") or None,
            host=env.get("TELEGRAM_HOST") or "127.0.0.1",
            port=int(env.get("TELEGRAM_PORT") or 8081),
            rasa_url=(env.get("RASA_URL") or "http://127.0.0.1:5005").rstrip("/"),
            inbound_token=env.get("CONSOLE_INBOUND_TOKEN") or None,
            console_url=(env.get("CONSOLE_URL") or "http://127.0.0.1:8000").rstrip("/"),
            api_base_url=env.get("TELEGRAM_API_BASE_URL") or None,
            retry_interval=float(env.get("TELEGRAM_RETRY_INTERVAL") or 5.0),
            outbox_interval=float(env.get("TELEGRAM_OUTBOX_INTERVAL") or 30.0),
        )
        settings.check()
        return settings

    def check(self) -> None:
        if self.mode == "webhook":
            if not self.webhook_url or not self.webhook_url.startswith("https://"):
                raise SettingsError("Webhook-Modus braucht TELEGRAM_WEBHOOK_URL (öffentliche https-Adresse).")
            if not self.webhook_secret or not _valid_secret(self.webhook_secret):
                raise SettingsError(
                    "Webhook-Modus braucht TELEGRAM_WEBHOOK_SECRET (1–256 Zeichen: A-Z, a-z, 0-9, _ und -)."
                )

    @property
    def push_url(self) -> str:
        """Where the console pushes adviser replies (``TELEGRAM_PUSH_URL`` of the console)."""
        return f"http://{self.host}:{self.port}{self.PUSH_PATH}"


def _valid_secret(secret: str) -> bool:
    return 1 <= len(secret) <= 256 and all(c.isascii() and (c.isalnum() or c in "_-") for c in secret)
