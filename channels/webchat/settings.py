"""Web chat settings, read from the environment (``WebchatSettings.from_env``)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

DEFAULT_RASA_URL = "http://127.0.0.1:5005"
T = TypeVar("T", int, float)
HOST_PORT = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


class SettingsError(ValueError):
    """An environment variable of the web chat has an unusable value."""


@dataclass(frozen=True)
class WebchatSettings:
    """``rasa_url`` is the address of Rasa *as the user's browser sees it* (the page talks to Rasa directly).

    An absolute ``http(s)://`` URL needs Rasa's ``--cors``; a path such as ``/rasa`` means Rasa is served from
    the web chat's own origin by a reverse proxy (no CORS needed).
    """

    rasa_url: str = DEFAULT_RASA_URL
    host: str = "127.0.0.1"
    port: int = 8080
    poll_seconds: float = 4.0  # how often the page asks for adviser replies while it is visible

    def __post_init__(self) -> None:
        object.__setattr__(self, "rasa_url", _check_rasa_url(self.rasa_url))
        if not 0 < self.port < 65536:
            raise SettingsError(f"WEBCHAT_PORT must be a port number (1-65535), not {self.port}")
        if not 1 <= self.poll_seconds <= 300:
            raise SettingsError(f"WEBCHAT_POLL_SECONDS must be between 1 and 300, not {self.poll_seconds}")

    @property
    def rasa_origin(self) -> str | None:
        """``scheme://host[:port]`` of Rasa for the CSP's connect-src; None when Rasa is on the page's origin."""
        if self.rasa_url.startswith("/"):
            return None
        parts = urlsplit(self.rasa_url)
        return f"{parts.scheme}://{parts.netloc}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WebchatSettings:
        env = os.environ if environ is None else environ
        return cls(
            rasa_url=env.get("WEBCHAT_RASA_URL") or env.get("RASA_URL") or DEFAULT_RASA_URL,
            host=env.get("WEBCHAT_HOST") or "127.0.0.1",
            port=_number(env, "WEBCHAT_PORT", 8080, int),
            poll_seconds=_number(env, "WEBCHAT_POLL_SECONDS", 4.0, float),
        )


def _number(env: Mapping[str, str], name: str, default: T, kind: type[T]) -> T:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        return kind(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from None


def _check_rasa_url(url: str) -> str:
    """An absolute http(s) URL without query or fragment, or an absolute path; no trailing slash."""
    url = url.strip().rstrip("/")
    if url.startswith("/") and not url.startswith("//"):
        return url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise SettingsError(f"WEBCHAT_RASA_URL must be an http(s) URL or a path like /rasa, not {url!r}")
    if parts.username or parts.password:
        raise SettingsError("WEBCHAT_RASA_URL must not contain credentials")
    if not HOST_PORT.fullmatch(parts.netloc):
        raise SettingsError(f"WEBCHAT_RASA_URL has an invalid host: {parts.netloc!r}")
    return url
