"""Settings read inside the Rasa server (Python 3.10; pydantic-settings is not available there).

``CONSOLE_URL``            where the REST channel reaches the adviser console (default ``http://127.0.0.1:8000``)
``CONSOLE_INBOUND_TOKEN``  shared secret, sent as ``X-Inbound-Token`` and required on ``/webhooks/rest/delete``
``CONSOLE_TIMEOUT``        seconds per call to the console (default 3)
``PSEUDONYM_KEY``          key of the conversation pseudonyms in logs (``core.protocol.pseudonym``)

Read on every use, so a test or an operator can change them without re-importing (the values are tiny).
The application side's settings are in ``core/settings.py``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from core.protocol import DEFAULT_CONSOLE_URL, pseudonym

DEFAULT_CONSOLE_TIMEOUT = 3.0


@dataclass(frozen=True)
class RasaSideSettings:
    console_url: str = DEFAULT_CONSOLE_URL
    inbound_token: str | None = None
    console_timeout: float = DEFAULT_CONSOLE_TIMEOUT
    pseudonym_key: str = ""

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
    )
