"""Push over HTTP: adviser replies for a channel that runs in its own process (the Telegram bridge).

``http_pusher(url, token)`` returns a ``dispatch.Pusher`` that POSTs ``{"conversation_id": …, "message": {…}}``
to the channel's push endpoint with the shared ``X-Inbound-Token``. The channel answers
``{"delivered": true}`` once the message reached the user. Anything else (channel down, timeout, unknown
conversation) leaves the message in the outbox; the channel collects it later
(``GET /api/outbox-pending?channel=…`` on the console) or it goes out with the next reply.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from channels.handoff.dispatch import Pusher

log = logging.getLogger(__name__)


def _post(what: str, url: str, **request: Any) -> httpx.Response | None:
    """POST; the response if it is HTTP 200, else None (logged without URL parameters, which may hold a token)."""
    try:
        response = httpx.post(url, **request)
    except httpx.HTTPError as exc:
        log.warning("%s failed (%s); message stays in the outbox", what, type(exc).__name__)
        return None
    if response.status_code != 200:
        log.warning("%s answered HTTP %s; message stays in the outbox", what, response.status_code)
        return None
    return response


def http_pusher(url: str, token: str | None, timeout: float = 10.0) -> Pusher:
    headers = {"X-Inbound-Token": token} if token else {}

    def push(conversation_id: str, message: dict[str, Any]) -> bool:
        response = _post(f"push to {url}", url, json={"conversation_id": conversation_id, "message": message},
                         headers=headers, timeout=timeout)
        if response is None:
            return False
        try:
            return bool(response.json().get("delivered"))
        except ValueError:
            return False

    return push


GRAPH_URL = "https://graph.facebook.com/v19.0"
MESSENGER_MAX = 2000  # Messenger's limit per text message
ADVISER_LABEL = "Beratung: "


def graph_pusher(page_token: str, graph_url: str = GRAPH_URL, timeout: float = 10.0) -> Pusher:
    """Adviser replies to Facebook Messenger through the Graph API Send API. Sent with the ``HUMAN_AGENT`` tag,
    which Meta allows for replies by a human up to 7 days after the user's last message (outside the 24-hour
    window of normal replies). The conversation id is the user's page-scoped id (Rasa's sender id)."""
    url = graph_url.rstrip("/") + "/me/messages"

    def push(conversation_id: str, message: dict[str, Any]) -> bool:
        text = message.get("text")
        if not isinstance(text, str) or not text.strip():
            return True  # nothing Messenger could show (e.g. a marker)
        custom = message.get("custom")
        if isinstance(custom, dict) and custom.get("from") == "adviser":
            text = ADVISER_LABEL + text
        for part in split_for_messenger(text):
            body = {"recipient": {"id": conversation_id}, "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT",
                    "message": {"text": part}}
            if _post("Messenger push", url, params={"access_token": page_token}, json=body, timeout=timeout) is None:
                return False
        return True

    return push


def split_for_messenger(text: str, limit: int = MESSENGER_MAX) -> list[str]:
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = rest.rfind(" ", limit // 2, limit)
        cut = cut if cut > 0 else limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return [*parts, rest] if rest else parts
