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


def http_pusher(url: str, token: str | None, timeout: float = 10.0) -> Pusher:
    headers = {"X-Inbound-Token": token} if token else {}

    def push(conversation_id: str, message: dict[str, Any]) -> bool:
        try:
            response = httpx.post(url, json={"conversation_id": conversation_id, "message": message},
                                  headers=headers, timeout=timeout)
        except httpx.HTTPError as exc:
            log.warning("push to %s failed (%s); message stays in the outbox", url, type(exc).__name__)
            return False
        if response.status_code != 200:
            log.warning("push to %s answered HTTP %s; message stays in the outbox", url, response.status_code)
            return False
        try:
            return bool(response.json().get("delivered"))
        except ValueError:
            return False

    return push
