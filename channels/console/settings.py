"""Console settings, read from the environment (``ConsoleSettings.from_env``)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from channels.handoff.push import GRAPH_URL
from knowledge_base.db import PROJECT_ROOT, database_url

DEFAULT_SECRET_FILE = PROJECT_ROOT / "var" / "console-secret.key"
TRUE = {"1", "true", "yes", "on", "ja"}


class ConsoleSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    database_url: str
    secret_key: str = Field(min_length=16)  # signs session cookies and CSRF tokens
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str | None = None  # Rasa's --auth-token
    rasa_timeout: float = 5.0
    inbound_token: str | None = None  # shared secret with the Rasa REST channel / web chat (X-Inbound-Token)
    admin_user: str | None = None
    admin_password: str | None = None
    secure_cookies: bool = False  # set true behind HTTPS
    session_max_age: int = 8 * 3600  # seconds; a login lasts one working day
    login_max_failures: int = 5  # per username and IP address …
    login_window: int = 300  # … within this many seconds
    auto_setup: bool = True  # migrate the database and ensure the first admin when the app starts
    host: str = "127.0.0.1"
    port: int = 8000
    # channels in their own process that take adviser replies by push (channel → URL), e.g. the Telegram bridge
    push_urls: dict[str, str] = Field(default_factory=dict)
    # Messenger: adviser replies go out through the Graph API with the page token (channels/handoff/push.py)
    facebook_page_token: str | None = None
    facebook_graph_url: str = GRAPH_URL

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, secret_file: Path | None = None) -> ConsoleSettings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {
            "database_url": env.get("KB_DATABASE_URL") or database_url(),
            "secret_key": env.get("CONSOLE_SECRET_KEY") or persistent_secret(secret_file or DEFAULT_SECRET_FILE),
            "rasa_url": (env.get("RASA_URL") or "http://127.0.0.1:5005").rstrip("/"),
            "rasa_token": env.get("RASA_TOKEN") or None,
            "inbound_token": env.get("CONSOLE_INBOUND_TOKEN") or None,
            "admin_user": env.get("CONSOLE_ADMIN_USER") or None,
            "admin_password": env.get("CONSOLE_ADMIN_PASSWORD") or None,
            "secure_cookies": env.get("CONSOLE_SECURE_COOKIES", "").strip().lower() in TRUE,
            "auto_setup": env.get("CONSOLE_AUTO_SETUP", "1").strip().lower() in TRUE,
            "push_urls": {"telegram": env["TELEGRAM_PUSH_URL"]} if env.get("TELEGRAM_PUSH_URL") else {},
            "facebook_page_token": env.get("FACEBOOK_PAGE_ACCESS_TOKEN") or None,
            "facebook_graph_url": env.get("FACEBOOK_GRAPH_URL") or GRAPH_URL,
        }
        optional = {
            "CONSOLE_HOST": "host",
            "CONSOLE_PORT": "port",
            "CONSOLE_SESSION_MAX_AGE": "session_max_age",
            "RASA_TIMEOUT": "rasa_timeout",
        }
        for name, field in optional.items():
            if env.get(name):
                values[field] = env[name]
        return cls.model_validate(values)


def persistent_secret(path: Path) -> str:
    """The secret stored in ``path``; generated (and stored, readable only by the owner) on first use."""
    if path.exists():
        secret = path.read_text(encoding="utf-8").strip()
        if len(secret) >= 16:
            return secret
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    return secret
