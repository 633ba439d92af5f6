"""Push over HTTP: adviser replies for a channel that runs in its own process (the Telegram bridge).

``http_pusher(url, token)`` returns an ``outbox.Pusher`` that POSTs ``{"conversation_id": …, "message": {…}}``
to the channel's push endpoint with the shared ``X-Inbound-Token``. The channel answers
``{"delivered": true}`` once the message reached the user. Anything else (channel down, timeout, unknown
conversation) leaves the message in the outbox; the channel collects it later
(``GET /api/outbox-pending?channel=…`` on the console) or it goes out with the next reply.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from core.protocol import INBOUND_TOKEN_HEADER
from handoff.outbox import Pusher

log = logging.getLogger(__name__)


def post(what: str, url: str, **request: Any) -> httpx.Response | None:
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
    headers = {INBOUND_TOKEN_HEADER: token} if token else {}

    def push(conversation_id: str, message: dict[str, Any]) -> bool:
        body = {"conversation_id": conversation_id, "message": message}  # core.protocol.PushRequest
        response = post(f"push to {url}", url, json=body, headers=headers, timeout=timeout)
        if response is None:
            return False
        try:
            return bool(response.json().get("delivered"))
        except ValueError:
            return False

    return push
