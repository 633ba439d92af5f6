"""Settings read inside the Rasa server (Python 3.10; pydantic-settings is not available there).

``CONSOLE_URL``            where the REST channel reaches the adviser console (default ``http://127.0.0.1:8000``)
``CONSOLE_INBOUND_TOKEN``  shared secret, sent as ``X-Inbound-Token`` and required on ``/webhooks/rest/delete``
``CONSOLE_TIMEOUT``        seconds per call to the console (default 3)
``PSEUDONYM_KEY``          key of the conversation pseudonyms in logs (``core.protocol.pseudonym``)
``ACTION_TIMEOUT``         seconds per call of the action server (default 5, ``rasa_plugins.timeouts``)
``RASA_TOKEN``             the HTTP API token (``rasa_plugins.serve`` passes it to ``rasa run`` in-process)
``REST_SESSION_KEY``       key of the REST/web conversation tokens (``core.protocol.session_token``); every Rasa
                           replica needs the same. Unset: a random key per process (tokens end with a restart)
``ACTION_SERVER_URL``      the action server's webhook (also in ``bot/endpoints*.yml``); with
``ACTION_SERVER_TOKEN``    its token, the FAQ prefetch (``rasa_plugins.faq_prefetch``) reaches it; unset: no prefetch

Read on every use, so a test or an operator can change them without re-importing (the values are tiny).
The application side's settings are in ``core/settings.py``.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from core.protocol import ACTION_FAQ_PREFETCH_PATH, ACTION_TOKEN_HEADER, DEFAULT_CONSOLE_URL, pseudonym

DEFAULT_CONSOLE_TIMEOUT = 3.0
_PROCESS_SESSION_KEY = secrets.token_urlsafe(32)  # only if REST_SESSION_KEY is unset
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RasaSideSettings:
    console_url: str = DEFAULT_CONSOLE_URL
    inbound_token: str | None = None
    console_timeout: float = DEFAULT_CONSOLE_TIMEOUT
    pseudonym_key: str = ""
    session_key: str = _PROCESS_SESSION_KEY

    def pseudonym(self, conversation_id: str) -> str:
        """What logs show instead of a conversation id (the console shows advisers the same)."""
        return pseudonym(self.pseudonym_key or self.inbound_token or "", conversation_id)


def current() -> RasaSideSettings:
    try:
        timeout = float(os.environ.get("CONSOLE_TIMEOUT") or DEFAULT_CONSOLE_TIMEOUT)
    except ValueError:
        timeout = DEFAULT_CONSOLE_TIMEOUT
    return RasaSideSettings(
        console_url=(os.environ.get("CONSOLE_URL") or DEFAULT_CONSOLE_URL).rstrip("/"),
        inbound_token=os.environ.get("CONSOLE_INBOUND_TOKEN") or None,
        console_timeout=timeout if timeout > 0 else DEFAULT_CONSOLE_TIMEOUT,
        pseudonym_key=os.environ.get("PSEUDONYM_KEY") or "",
        session_key=os.environ.get("REST_SESSION_KEY") or _process_session_key(),
    )


def _process_session_key() -> str:
    global _warned
    if not _warned:
        _warned = True
        log.warning("REST_SESSION_KEY is not set: conversation tokens are valid only until this process ends")
    return _PROCESS_SESSION_KEY


_warned = False


DEFAULT_ACTION_TIMEOUT = 5.0


def action_timeout() -> float:
    """``ACTION_TIMEOUT``: seconds Rasa waits for the action server per action call (default 5; ``timeouts``)."""
    try:
        value = float(os.environ.get("ACTION_TIMEOUT") or DEFAULT_ACTION_TIMEOUT)
    except ValueError:
        return DEFAULT_ACTION_TIMEOUT
    return value if 0 < value <= 60 else DEFAULT_ACTION_TIMEOUT


def rasa_token() -> str | None:
    """``RASA_TOKEN``: the token of Rasa's HTTP API, given to ``rasa run`` in-process by ``rasa_plugins.serve``."""
    return os.environ.get("RASA_TOKEN") or None


def faq_prefetch_target() -> tuple[str, dict[str, str]] | None:
    """URL and headers of the action server's FAQ prefetch (same host as ``ACTION_SERVER_URL``); None when the URL
    or the token is not set or the URL is not http(s)."""
    url, token = os.environ.get("ACTION_SERVER_URL") or "", os.environ.get("ACTION_SERVER_TOKEN") or ""
    parts = urlsplit(url)
    if not token or parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return (urlunsplit((parts.scheme, parts.netloc, ACTION_FAQ_PREFETCH_PATH, "", "")),
            {ACTION_TOKEN_HEADER: token})
