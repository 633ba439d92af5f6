"""Every setting of the application side (Python 3.11 processes), in one place, with pydantic-settings.

Each process reads the section it needs from the environment; the variable names are the ``validation_alias``
of each field and README ("Configuration") lists them all. Defaults live here and nowhere else: the Makefile and
``scripts/run.sh`` take the resolved values from ``python -m core.settings shell``. The only other module that
reads the environment is ``rasa_plugins/settings.py`` (inside the Rasa server, which cannot import
pydantic-settings).

    AppSettings       shared: database, Rasa, console and the shared channel token
    HandoffSettings   office hours of the advisers (action server)
    ConsoleSettings   the adviser console (``python -m channels.console``)
    WebchatSettings   the web chat page (``python -m channels.webchat``)
    TelegramSettings  the Telegram bridge (``python -m channels.telegram``)
    StackSettings     ports and paths that ``make run`` wires together (action server, Rasa's endpoints)
    PrivacySettings   who runs the bot, for the privacy text (Art. 13 DSGVO)
    RetentionSettings how long conversations, hand-offs and outbox rows are kept (retention job)
    ProductionSettings the single-machine production profile (``make run-prod``)

``X.from_env(environ)`` reads only the given mapping (tests); ``X.from_env()`` reads ``os.environ``. Both turn
an unusable value into a ``SettingsError`` whose message names the variable.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal, Self
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core import protocol
from core.errors import SettingsError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"
DEFAULT_DB_PATH = VAR_DIR / "kb.sqlite3"
DEFAULT_SECRET_FILE = VAR_DIR / "console-secret.key"
TRUE = {"1", "true", "yes", "on", "ja"}
FALSE = {"0", "false", "no", "off", "nein", ""}


def _strip_slash(value: str) -> str:
    return value.strip().rstrip("/")


def _flag(value: Any) -> Any:
    """``1/true/yes/on/ja`` and ``0/false/no/off/nein`` (any case); anything else is refused."""
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE:
            return True
        if word in FALSE:
            return False
    return value


class _Section(BaseSettings):
    model_config = SettingsConfigDict(
        env_ignore_empty=True, populate_by_name=True, frozen=True, extra="ignore", case_sensitive=True
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """The settings from ``environ`` only (``None``: the process environment)."""
        try:
            if environ is None:
                return cls()
            return cls.model_validate({k: v for k, v in environ.items() if v != ""})
        except ValidationError as exc:
            raise SettingsError(_describe(cls, exc)) from None

    @classmethod
    def variables(cls) -> dict[str, str]:
        """Environment variable → field name (for documentation and ``python -m core.settings``)."""
        names: dict[str, str] = {}
        for field_name, info in cls.model_fields.items():
            alias = info.validation_alias
            choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
            for choice in choices:
                if isinstance(choice, str):
                    names[choice] = field_name
        return names


def _describe(cls: type[_Section], exc: ValidationError) -> str:
    """German-friendly message naming the variable(s): ``RASA_URL: …``."""
    by_field = {field: var for var, field in reversed(list(cls.variables().items()))}
    parts = []
    for error in exc.errors():
        location = error.get("loc") or ()
        name = str(location[0]) if location else ""
        variable = name if name in cls.variables() else by_field.get(name, name)
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        parts.append(f"{variable}: {message}" if variable else message)
    return "; ".join(parts)


def default_database_url() -> str:
    return f"sqlite:///{DEFAULT_DB_PATH}"


class DatabaseSettings(_Section):
    """The application database: knowledge base, hand-offs, channel tables (one Alembic history)."""

    database_url: str = Field(default_factory=default_database_url, validation_alias="KB_DATABASE_URL",
                              description="SQLAlchemy URL; `postgresql://…` works too")


class AppSettings(DatabaseSettings):
    """Shared by the console and the Telegram bridge: where Rasa and the console are, and the shared token."""

    rasa_url: str = Field(protocol.DEFAULT_RASA_URL, validation_alias="RASA_URL",
                          description="where the application reaches Rasa")
    rasa_token: str | None = Field(None, validation_alias="RASA_TOKEN",
                                   description="Rasa's HTTP API token (`--auth-token`)")
    console_url: str = Field(protocol.DEFAULT_CONSOLE_URL, validation_alias="CONSOLE_URL",
                             description="where channels reach the adviser console")
    inbound_token: str | None = Field(None, validation_alias="CONSOLE_INBOUND_TOKEN",
                                      description="shared secret of Rasa's REST channel, console and bridge")
    pseudonym_key: str | None = Field(None, validation_alias="PSEUDONYM_KEY",
                                      description="key of the conversation pseudonyms advisers and logs see")

    def pseudonym(self, conversation_id: str) -> str:
        """What advisers and logs see instead of a conversation id (``core.protocol.pseudonym``)."""
        return protocol.pseudonym(self.pseudonym_key or self.inbound_token or "", conversation_id)

    @field_validator("rasa_url", "console_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return _strip_slash(value)


class AdminAccountSettings(DatabaseSettings):
    """The first admin account of the console (``ensure-admin`` at start and on the command line)."""

    admin_user: str | None = Field(None, validation_alias="CONSOLE_ADMIN_USER",
                                   description="first admin account (else `admin` with a printed password)")
    admin_password: str | None = Field(None, validation_alias="CONSOLE_ADMIN_PASSWORD",
                                       description="its password (min. 10 characters)")


class HandoffSettings(_Section):
    """Office hours of the advisers (read by the action server on every hand-off)."""

    office_hours: str = Field("Mo-Fr 09:00-17:00", validation_alias="HANDOFF_OFFICE_HOURS",
                              description="e.g. `Mo-Do 09:00-17:00; Fr 09:00-13:00`")
    timezone: str = Field("Europe/Berlin", validation_alias="HANDOFF_TIMEZONE", description="time zone of the office hours")
    closed_days: str = Field("", validation_alias="HANDOFF_CLOSED_DAYS",
                             description="ISO dates without office hours, comma-separated")


PRIVACY_UNSET = "noch nicht eingetragen"  # honest placeholder until an operator sets PRIVACY_*


class FaqSettings(_Section):
    """The FAQ retrieval of the action server (``actions/faq_actions.py``)."""

    faq_retrieval: bool = Field(
        True, validation_alias="FAQ_RETRIEVAL",
        description="answer questions about the training with FAQ articles found by retrieval; `false`: only the "
                    "intents' own answers and the usual fallback (an operator's switch, and `make bench`'s before/after)")
    faq_prefetch: bool = Field(
        True, validation_alias="FAQ_PREFETCH",
        description="embed a message for the retrieval while Rasa's NLU runs, when Rasa hands it over "
                    "(actions/faq_prefetch.py): the FAQ turn is faster, every message costs an embedding on the other "
                    "core; `false`: the action embeds only what it needs")


class PrivacySettings(_Section):
    """Who runs the bot, for the privacy text (Art. 13 DSGVO; action server and web chat page). An operator must
    set all three; until then the text says "noch nicht eingetragen"."""

    operator_name: str = Field(PRIVACY_UNSET, min_length=1, max_length=200, validation_alias="PRIVACY_OPERATOR_NAME",
                               description="the controller (Verantwortlicher) named in the privacy text")
    operator_contact: str = Field(PRIVACY_UNSET, min_length=1, max_length=300,
                                  validation_alias="PRIVACY_OPERATOR_CONTACT",
                                  description="its postal address and e-mail for data-protection requests")
    dpo_contact: str = Field(PRIVACY_UNSET, min_length=1, max_length=300, validation_alias="PRIVACY_DPO_CONTACT",
                             description="contact of its data-protection officer (Datenschutzbeauftragte/r)")


class ConsoleSettings(AppSettings, AdminAccountSettings):
    """The adviser console."""

    secret_key: str = Field(min_length=16, validation_alias="CONSOLE_SECRET_KEY",
                            description="signs session cookies and CSRF tokens; generated into var/ if unset")
    rasa_timeout: float = Field(5.0, gt=0, validation_alias="RASA_TIMEOUT",
                                description="seconds for the console's calls to Rasa's HTTP API (resume)")
    secure_cookies: bool | None = Field(
        None, validation_alias="CONSOLE_SECURE_COOKIES",
        description="`auto` (unset): `Secure` cookies unless the console is reached on localhost; 1/0 force it")
    session_max_age: int = Field(8 * 3600, gt=0, validation_alias="CONSOLE_SESSION_MAX_AGE",
                                 description="seconds a login lasts")
    idle_timeout: int = Field(30 * 60, gt=0, validation_alias="CONSOLE_IDLE_TIMEOUT",
                              description="seconds without a request that end a login")
    trusted_proxies: str = Field("", validation_alias="CONSOLE_TRUSTED_PROXIES",
                                 description="reverse proxies (IPs/CIDRs, comma-separated) whose "
                                             "X-Forwarded-For/-Proto are believed")
    login_max_failures: int = Field(5, gt=0, validation_alias="CONSOLE_LOGIN_MAX_FAILURES",
                                    description="failed logins per username (four times as many per address) …")
    login_window: int = Field(300, gt=0, validation_alias="CONSOLE_LOGIN_WINDOW",
                              description="… within this many seconds")
    auto_setup: bool = Field(True, validation_alias="CONSOLE_AUTO_SETUP",
                             description="migrate and ensure the first admin at start")
    host: str = Field(protocol.LOOPBACK, validation_alias="CONSOLE_HOST", description="address the console listens on")
    port: int = Field(protocol.DEFAULT_CONSOLE_PORT, ge=1, le=65535, validation_alias="CONSOLE_PORT",
                      description="its port")
    telegram_push_url: str | None = Field(None, validation_alias="TELEGRAM_PUSH_URL",
                                          description="where the console pushes adviser replies for Telegram")
    facebook_page_token: str | None = Field(None, validation_alias="FACEBOOK_PAGE_ACCESS_TOKEN",
                                           description="Messenger page token: adviser replies via the Graph API")
    facebook_graph_url: str = Field("https://graph.facebook.com/v19.0", validation_alias="FACEBOOK_GRAPH_URL",
                                    description="Graph API base (the tests' fake)")
    # --- console 2.0 (issue 14, part A): response target, e-mail notifications ---
    first_reply_target_minutes: int = Field(
        60, ge=1, le=10080, validation_alias="CONSOLE_FIRST_REPLY_TARGET_MINUTES",
        description="target for the first adviser reply, in minutes within office hours")
    public_url: str | None = Field(None, validation_alias="CONSOLE_PUBLIC_URL",
                                   description="the console's address as advisers open it (links in e-mails); "
                                               "default `CONSOLE_URL`")
    smtp_host: str | None = Field(None, validation_alias="CONSOLE_SMTP_HOST",
                                  description="SMTP server for e-mails about new hand-offs (unset: no e-mails)")
    smtp_port: int = Field(587, ge=1, le=65535, validation_alias="CONSOLE_SMTP_PORT", description="its port")
    smtp_user: str | None = Field(None, validation_alias="CONSOLE_SMTP_USER", description="SMTP login (optional)")
    smtp_password: str | None = Field(None, validation_alias="CONSOLE_SMTP_PASSWORD", description="its password")
    smtp_from: str = Field("beratungskonsole@localhost", validation_alias="CONSOLE_SMTP_FROM",
                           description="sender address of the e-mails")
    smtp_starttls: bool = Field(True, validation_alias="CONSOLE_SMTP_STARTTLS",
                                description="`1`: STARTTLS before login (required unless `0`)")
    notify_email: str = Field("", validation_alias="CONSOLE_NOTIFY_EMAIL",
                              description="recipients (comma-separated) when the hand-off's team has no address")
    notify_interval: float = Field(30.0, ge=0.2, le=3600, validation_alias="CONSOLE_NOTIFY_INTERVAL",
                                   description="seconds between two looks for hand-offs to e-mail about")

    @property
    def notify_recipients(self) -> list[str]:
        return [a.strip() for a in self.notify_email.split(",") if a.strip()]

    @property
    def link_base(self) -> str:
        """Where advisers open the console (``CONSOLE_PUBLIC_URL``, else ``CONSOLE_URL``), without a final ``/``."""
        return (self.public_url or self.console_url).rstrip("/")

    @field_validator("smtp_starttls", mode="before")
    @classmethod
    def _starttls_flag(cls, value: Any) -> Any:
        return _flag(value)

    @field_validator("secure_cookies", "auto_setup", mode="before")
    @classmethod
    def _flags(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() == "auto":
            return None
        return _flag(value)

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: str) -> str:
        items = [item.strip() for item in value.split(",") if item.strip()]
        for item in items:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"not an IP address or network: {item!r}") from None
        return ", ".join(items)

    @property
    def trusted_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """``CONSOLE_TRUSTED_PROXIES`` as networks (a single address is a /32 or /128)."""
        return tuple(ipaddress.ip_network(item, strict=False) for item in self.trusted_proxies.split(", ") if item)

    @property
    def push_urls(self) -> dict[str, str]:
        """Channels in their own process that take adviser replies by push: channel → URL."""
        return {protocol.CHANNEL_TELEGRAM: self.telegram_push_url} if self.telegram_push_url else {}

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, secret_file: Path | None = None) -> Self:
        env = dict(os.environ if environ is None else environ)
        if not env.get("CONSOLE_SECRET_KEY"):
            env["CONSOLE_SECRET_KEY"] = persistent_secret(secret_file or DEFAULT_SECRET_FILE)
        return super().from_env(env)


class WebchatSettings(_Section):
    """The web chat page. ``rasa_url`` is Rasa *as the user's browser reaches it*: an absolute http(s) URL (Rasa
    needs ``--cors``) or a path such as ``/rasa`` (a reverse proxy serves Rasa on the page's own origin)."""

    rasa_url: str = Field(protocol.DEFAULT_RASA_URL, validation_alias=AliasChoices("WEBCHAT_RASA_URL", "RASA_URL"),
                          description="Rasa as the user's browser reaches it (URL, or a path like `/rasa`)")
    host: str = Field(protocol.LOOPBACK, validation_alias="WEBCHAT_HOST", description="address of the page")
    port: int = Field(protocol.DEFAULT_WEBCHAT_PORT, ge=1, le=65535, validation_alias="WEBCHAT_PORT",
                      description="its port")
    poll_seconds: float = Field(4.0, ge=1, le=300, validation_alias="WEBCHAT_POLL_SECONDS",
                                description="how often a visible page asks for adviser replies")

    @field_validator("rasa_url")
    @classmethod
    def _check_rasa_url(cls, value: str) -> str:
        return check_browser_url(value)

    @property
    def rasa_origin(self) -> str | None:
        """``scheme://host[:port]`` of Rasa for the CSP's connect-src; None when Rasa is on the page's origin."""
        if self.rasa_url.startswith("/"):
            return None
        parts = urlsplit(self.rasa_url)
        return f"{parts.scheme}://{parts.netloc}"


def check_browser_url(url: str) -> str:
    """An absolute http(s) URL without query, fragment or credentials, or an absolute path; no trailing slash."""
    import re

    url = _strip_slash(url)
    if url.startswith("/") and not url.startswith("//"):
        return url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"must be an http(s) URL or a path like /rasa, not {url!r}")
    if parts.username or parts.password:
        raise ValueError("must not contain credentials")
    if not re.fullmatch(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?", parts.netloc):
        raise ValueError(f"invalid host: {parts.netloc!r}")
    return url


class TelegramSettings(AppSettings):
    """The Telegram bridge."""

    WEBHOOK_PATH: ClassVar[str] = "/telegram/webhook"
    PUSH_PATH: ClassVar[str] = protocol.PUSH_PATH

    token: str = Field(validation_alias="TELEGRAM_BOT_TOKEN", description="from @BotFather")
    mode: Literal["polling", "webhook"] = Field("polling", validation_alias="TELEGRAM_MODE",
                                                description="`polling` or `webhook`")
    webhook_url: str | None = Field(None, validation_alias="TELEGRAM_WEBHOOK_URL",
                                    description="public https URL Telegram posts to (webhook mode)")
    webhook_secret: str | None = Field(None, validation_alias="TELEGRAM_WEBHOOK_SECRET",
                                       description="secret token, 1–256 of `A-Z a-z 0-9 _ -` (generated by `make run`)")
    host: str = Field(protocol.LOOPBACK, validation_alias="TELEGRAM_HOST",
                      description="the bridge's HTTP server (webhook, push, `/healthz`)")
    port: int = Field(protocol.DEFAULT_TELEGRAM_PORT, ge=1, le=65535, validation_alias="TELEGRAM_PORT",
                      description="its port")
    rasa_timeout: float = Field(30.0, gt=0, validation_alias="TELEGRAM_RASA_TIMEOUT",
                                description="seconds the bridge waits for Rasa's answer")
    api_base_url: str | None = Field(None, validation_alias="TELEGRAM_API_BASE_URL",
                                     description="another Bot API server (self-hosted, or the tests' fake)")
    retry_interval: float = Field(5.0, gt=0, validation_alias="TELEGRAM_RETRY_INTERVAL",
                                  description="first pause before queued messages are re-sent (doubles, ≤ 60 s)")
    outbox_interval: float = Field(30.0, gt=0, validation_alias="TELEGRAM_OUTBOX_INTERVAL",
                                   description="how often adviser replies that missed the push are collected")
    send_attempts: int = Field(5, ge=1, validation_alias="TELEGRAM_SEND_ATTEMPTS",
                               description="per Telegram call, on network errors and 429")

    @model_validator(mode="before")
    @classmethod
    def _token_first(cls, values: Any) -> Any:
        if isinstance(values, dict):
            token = values.get("TELEGRAM_BOT_TOKEN", values.get("token"))
            if not isinstance(token, str) or not token.strip():
                raise ValueError("TELEGRAM_BOT_TOKEN ist nicht gesetzt (Token von @BotFather).")
            mode = values.get("TELEGRAM_MODE", values.get("mode"))
            if isinstance(mode, str):
                mode = mode.strip().lower()
                if mode not in ("polling", "webhook"):
                    raise ValueError("TELEGRAM_MODE muss 'polling' oder 'webhook' sein.")
                values = {**values, "TELEGRAM_MODE": mode}
                values.pop("mode", None)
        return values

    @model_validator(mode="after")
    def _webhook_needs_url_and_secret(self) -> Self:
        if self.mode == "webhook":
            if not self.webhook_url or not self.webhook_url.startswith("https://"):
                raise ValueError("Webhook-Modus braucht TELEGRAM_WEBHOOK_URL (öffentliche https-Adresse).")
            if not self.webhook_secret or not _valid_secret(self.webhook_secret):
                raise ValueError(
                    "Webhook-Modus braucht TELEGRAM_WEBHOOK_SECRET (1–256 Zeichen: A-Z, a-z, 0-9, _ und -)."
                )
        return self

    @property
    def push_url(self) -> str:
        """Where the console pushes adviser replies (``TELEGRAM_PUSH_URL`` of the console)."""
        return f"http://{self.host}:{self.port}{self.PUSH_PATH}"


def _valid_secret(secret: str) -> bool:
    return 1 <= len(secret) <= 256 and all(c.isascii() and (c.isalnum() or c in "_-") for c in secret)


class StackSettings(_Section):
    """What ``make run`` wires together: the action server's port and the values Rasa's endpoints.yml reads."""

    rasa_host: str = Field(protocol.LOOPBACK, validation_alias="RASA_HOST",
                           description="address the Rasa server listens on (`0.0.0.0` only behind a reverse proxy)")
    rasa_port: int = Field(protocol.DEFAULT_RASA_PORT, ge=1, le=65535, validation_alias="RASA_PORT",
                           description="Rasa server port")
    action_host: str = Field(protocol.LOOPBACK, validation_alias="ACTION_HOST",
                             description="address the action server listens on (only Rasa calls it)")
    action_port: int = Field(protocol.DEFAULT_ACTION_PORT, ge=1, le=65535, validation_alias="ACTION_PORT",
                             description="action server port")
    action_server_url: str | None = Field(None, validation_alias="ACTION_SERVER_URL",
                                          description="where Rasa calls the actions (default: the action port on loopback)")
    tracker_db_path: Path = Field(VAR_DIR / "tracker.sqlite3", validation_alias="TRACKER_DB_PATH",
                                  description="SQLite file of Rasa's SQL tracker store")
    # Request bodies, in bytes; `make run` passes them to Sanic as SANIC_REQUEST_MAX_SIZE (larger: 413). Rasa gets
    # messages of at most protocol.MAX_MESSAGE_LENGTH characters (≤ 48 KB as JSON); the action server gets the
    # tracker of the current session with the domain (measured: 0.6 MB for 200 turns, 2.1 MB for 200 turns of
    # 4,000-character messages).
    rasa_request_max_size: int = Field(
        1024 * 1024, ge=64 * 1024, validation_alias="RASA_REQUEST_MAX_SIZE",
        description="largest request body the Rasa server accepts (bytes; Sanic's `SANIC_REQUEST_MAX_SIZE`)")
    action_request_max_size: int = Field(
        4 * 1024 * 1024, ge=1024 * 1024, validation_alias="ACTION_REQUEST_MAX_SIZE",
        description="largest request body the action server accepts: tracker and domain (bytes)")
    # Rasa's call of the action server (rasa_plugins/timeouts.py; Rasa 3.6 waits 300 s by default).
    action_timeout: float = Field(5.0, gt=0, le=60, validation_alias="ACTION_TIMEOUT",
                                  description="seconds Rasa waits for the action server per action call")
    run_dir: Path = Field(VAR_DIR, validation_alias="RUN_DIR",
                          description="where `make run` keeps secrets.env, the supervisor config and log/")

    @property
    def actions_url(self) -> str:
        return self.action_server_url or f"http://{protocol.LOOPBACK}:{self.action_port}/webhook"


class RetentionSettings(DatabaseSettings):
    """How long data is kept (``handoff/retention.py``; run by the console every ``interval_hours`` and by
    ``python -m channels.retention``)."""

    conversation_days: int = Field(90, ge=1, validation_alias="RETENTION_CONVERSATION_DAYS",
                                   description="days after a conversation's last message until its tracker, "
                                               "Telegram mapping and queue are deleted")
    handoff_days: int = Field(180, ge=1, validation_alias="RETENTION_HANDOFF_DAYS",
                              description="days after closing (or after opening, if never closed) until a "
                                          "hand-off with thread, notes, transcript and outbox is deleted")
    outbox_days: int = Field(7, ge=1, validation_alias="RETENTION_OUTBOX_DAYS",
                             description="days a delivered outbox message is kept")
    missed_days: int = Field(90, ge=1, validation_alias="RETENTION_MISSED_DAYS",
                             description="days a message the bot missed (console page /verpasst) and the daily "
                                         "usage counts are kept")
    interval_hours: float = Field(24.0, ge=0, validation_alias="RETENTION_INTERVAL_HOURS",
                                  description="how often the console runs the retention job (0: never)")
    tracker_db_path: Path = Field(VAR_DIR / "tracker.sqlite3", validation_alias="TRACKER_DB_PATH",
                                  description="SQLite file of Rasa's SQL tracker store")
    tracker_db_url: str | None = Field(None, validation_alias="RETENTION_TRACKER_DB_URL",
                                       description="SQLAlchemy URL of Rasa's tracker store when it is not the "
                                                   "SQLite file (production: `postgresql://…`)")

    @property
    def tracker_url(self) -> str:
        return self.tracker_db_url or f"sqlite:///{self.tracker_db_path}"


class ActionServerSettings(StackSettings, DatabaseSettings):
    """The action server (``python -m actions.server``): address, body limit and the secret Rasa must send."""

    action_server_token: str = Field(min_length=16, validation_alias="ACTION_SERVER_TOKEN",
                                     description="shared secret Rasa sends as `X-Action-Token` on every action call")


class ProductionSettings(_Section):
    """The single-machine production profile (``make run-prod``, ``core/stack.py``): PostgreSQL, Redis lock store,
    several Rasa replicas and action-server workers behind nginx (loopback ports from ``RASA_PORT`` / ``ACTION_PORT``
    upwards: nginx listens on the port itself, replica *i* on port + *i*)."""

    profile: Literal["development", "production"] = Field(
        "development", validation_alias="STACK_PROFILE",
        description="`production`: `core.stack` writes the production profile (set by `scripts/run-prod.sh`)")
    database_url: str = Field("postgresql://127.0.0.1:5432/bo_hessen", validation_alias="PROD_DATABASE_URL",
                              description="application database of the production profile (becomes `KB_DATABASE_URL`)")
    tracker_database_url: str = Field(
        "postgresql://127.0.0.1:5432/bo_hessen_tracker", validation_alias="PROD_TRACKER_DATABASE_URL",
        description="Rasa's tracker store in the production profile (PostgreSQL; becomes `TRACKER_DB_*`)")
    redis_url: str = Field("redis://127.0.0.1:6379/0", validation_alias="PROD_REDIS_URL",
                           description="Rasa's lock store in the production profile (becomes `REDIS_*`)")
    rasa_replicas: int = Field(2, ge=1, le=8, validation_alias="PROD_RASA_REPLICAS",
                               description="Rasa server processes behind nginx")
    action_workers: int = Field(2, ge=1, le=8, validation_alias="PROD_ACTION_WORKERS",
                                description="action-server processes behind nginx")
    listen_host: str = Field("0.0.0.0", validation_alias="PROD_LISTEN_HOST",
                             description="address of nginx's public entries (HTTPS and the redirect from HTTP)")
    https_port: int = Field(8443, ge=1, le=65535, validation_alias="PROD_HTTPS_PORT", description="nginx HTTPS port")
    http_port: int = Field(8088, ge=1, le=65535, validation_alias="PROD_HTTP_PORT",
                           description="nginx HTTP port (redirects to HTTPS)")
    chat_host: str = Field("localhost", pattern=r"^[A-Za-z0-9.-]{1,253}$", validation_alias="PROD_CHAT_HOST",
                           description="host name of the chat site (web chat, REST channel, webhooks)")
    console_host: str = Field("console.localhost", pattern=r"^[A-Za-z0-9.-]{1,253}$",
                              validation_alias="PROD_CONSOLE_HOST", description="host name of the adviser console")
    tls_cert: Path | None = Field(None, validation_alias="PROD_TLS_CERT",
                                  description="certificate (PEM) for nginx; unset: a self-signed one in the run dir")
    tls_key: Path | None = Field(None, validation_alias="PROD_TLS_KEY", description="its private key (PEM)")
    lock_lifetime: int = Field(6, ge=2, le=300, validation_alias="TICKET_LOCK_LIFETIME",
                               description="seconds a conversation lock's ticket lives: the backstop for a hung Rasa "
                                           "replica (a killed one's are released after ~2.5 s; Rasa's own "
                                           "variable, its default 60)")
    nginx: str = Field("/usr/sbin/nginx", validation_alias="PROD_NGINX", description="the nginx binary")


def process_environment() -> dict[str, str]:
    """A copy of this process's environment (``core.stack`` builds the per-process allow-lists from it)."""
    return dict(os.environ)


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


SECTIONS: tuple[type[_Section], ...] = (
    DatabaseSettings, AppSettings, AdminAccountSettings, HandoffSettings, ConsoleSettings, WebchatSettings, TelegramSettings,
    StackSettings, RetentionSettings, ActionServerSettings, PrivacySettings, ProductionSettings, FaqSettings,
)


def shell_exports(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The resolved values the shell and the Rasa server need (``make run``): ports, URLs, paths."""
    env = os.environ if environ is None else environ
    stack = StackSettings.from_env(env)
    app = AppSettings.from_env(env)
    webchat = WebchatSettings.from_env(env)
    console_host = env.get("CONSOLE_HOST") or protocol.LOOPBACK
    console_port = env.get("CONSOLE_PORT") or str(protocol.DEFAULT_CONSOLE_PORT)
    telegram_host = env.get("TELEGRAM_HOST") or protocol.LOOPBACK
    telegram_port = env.get("TELEGRAM_PORT") or str(protocol.DEFAULT_TELEGRAM_PORT)
    rasa_url = env.get("RASA_URL") or f"http://{protocol.LOOPBACK}:{stack.rasa_port}"
    values = {
        "RASA_HOST": stack.rasa_host,
        "RASA_PORT": str(stack.rasa_port),
        "ACTION_HOST": stack.action_host,
        "ACTION_PORT": str(stack.action_port),
        "ACTION_SERVER_URL": stack.actions_url,
        "TRACKER_DB_PATH": str(stack.tracker_db_path),
        "RASA_REQUEST_MAX_SIZE": str(stack.rasa_request_max_size),
        "ACTION_REQUEST_MAX_SIZE": str(stack.action_request_max_size),
        "ACTION_TIMEOUT": str(stack.action_timeout),
        "RUN_DIR": str(stack.run_dir),
        "KB_DATABASE_URL": app.database_url,
        "RASA_URL": _strip_slash(rasa_url),
        "CONSOLE_URL": app.console_url if env.get("CONSOLE_URL") else f"http://{protocol.LOOPBACK}:{console_port}",
        "CONSOLE_HOST": console_host,
        "CONSOLE_PORT": console_port,
        "WEBCHAT_HOST": webchat.host,
        "WEBCHAT_PORT": str(webchat.port),
        "WEBCHAT_RASA_URL": webchat.rasa_url if env.get("WEBCHAT_RASA_URL") else _strip_slash(rasa_url),
        "TELEGRAM_HOST": telegram_host,
        "TELEGRAM_PORT": telegram_port,
        "TELEGRAM_MODE": env.get("TELEGRAM_MODE") or str(TelegramSettings.model_fields["mode"].default),
    }
    if env.get("TELEGRAM_BOT_TOKEN") and not env.get("TELEGRAM_PUSH_URL"):
        values["TELEGRAM_PUSH_URL"] = f"http://{protocol.LOOPBACK}:{telegram_port}{protocol.PUSH_PATH}"
    return values


def main(argv: list[str] | None = None) -> int:
    """``python -m core.settings shell``: ``export NAME=value`` lines; ``get NAME``: one resolved value;
    ``list``: every variable of every section."""
    args = sys.argv[1:] if argv is None else argv
    try:
        if args[:1] == ["shell"]:
            for name, value in shell_exports().items():
                print(f"export {name}={shlex.quote(value)}")
            return 0
        if args[:1] == ["get"] and len(args) == 2:
            print(shell_exports()[args[1]])
            return 0
        if args[:1] == ["list"]:
            for section in SECTIONS:
                for variable in section.variables():
                    print(f"{section.__name__}\t{variable}")
            return 0
    except SettingsError as exc:
        print(f"Einstellung ungültig: {exc}", file=sys.stderr)
        return 2
    print("usage: python -m core.settings shell | get NAME | list", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
