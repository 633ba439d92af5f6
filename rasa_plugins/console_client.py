"""The Rasa server's calls to the adviser console (``channels/console``), authenticated with ``X-Inbound-Token``.

Any failure (unreachable, timeout, HTTP error, not JSON) raises ``ConsoleUnavailable``; callers decide what the
user gets (the message is in Rasa's tracker either way).
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import aiohttp

from core.protocol import (
    CONSOLE_CONVERSATIONS_PATH,
    CONSOLE_EXPORT_PATH,
    CONSOLE_INBOUND_PATH,
    CONSOLE_OUTBOX_ACK_PATH,
    CONSOLE_OUTBOX_PATH,
    INBOUND_TOKEN_HEADER,
)
from rasa_plugins import settings


class ConsoleUnavailable(Exception):
    """The adviser console could not be reached or refused the request."""


async def _call(method: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    current = settings.current()
    headers = {INBOUND_TOKEN_HEADER: current.inbound_token} if current.inbound_token else {}
    timeout = aiohttp.ClientTimeout(total=current.console_timeout)
    try:
        async with aiohttp.ClientSession(timeout=timeout, headers=headers) as session:
            async with session.request(method, current.console_url + path, json=payload) as resp:
                if resp.status >= 400:
                    raise ConsoleUnavailable(f"HTTP {resp.status}")
                body = await resp.json(content_type=None)
    except ConsoleUnavailable:
        raise
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:  # noqa: UP041 - Python 3.10
        raise ConsoleUnavailable(f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(body, dict):
        raise ConsoleUnavailable("answer is not a JSON object")
    return body


def messages(sender_id: str, raw: Any) -> list[dict[str, Any]]:
    """Rasa-style bot messages from the console's answer (each with ``recipient_id``)."""
    if not isinstance(raw, list):
        return []
    return [{**m, "recipient_id": m.get("recipient_id") or sender_id} for m in raw if isinstance(m, dict)]


async def inbound(sender_id: str, text: str, channel: str) -> dict[str, Any]:
    """Store the user message in the open hand-off; returns ``{"stored": bool, "messages": [...]}``."""
    return await _call("POST", CONSOLE_INBOUND_PATH, {"conversation_id": sender_id, "text": text, "channel": channel})


async def outbox(sender_id: str) -> list[dict[str, Any]]:
    """Pending outbox messages of the conversation, each with ``custom.outbox_id``; they stay pending until
    acknowledged (:func:`acknowledge`)."""
    body = await _call("GET", f"{CONSOLE_OUTBOX_PATH}/{quote(sender_id, safe='')}")
    return messages(sender_id, body.get("messages"))


async def acknowledge(sender_id: str, ids: list[int]) -> int:
    """Mark those outbox messages of this conversation delivered; returns how many were still pending."""
    if not ids:
        return 0
    body = await _call("POST", CONSOLE_OUTBOX_ACK_PATH, {"conversation_id": sender_id, "ids": ids[:1000]})
    return int(body.get("marked") or 0)


async def delete_handoffs(sender_id: str) -> int:
    """Delete every hand-off of the conversation; returns how many were deleted."""
    body = await _call("DELETE", f"{CONSOLE_CONVERSATIONS_PATH}/{quote(sender_id, safe='')}")
    return int(body.get("deleted_handoffs") or 0)


async def export_handoffs(sender_id: str) -> list[dict[str, Any]]:
    """Every hand-off of the conversation for the user's own export (``rasa_plugins/export.py``)."""
    body = await _call("GET", f"{CONSOLE_EXPORT_PATH}/{quote(sender_id, safe='')}")
    handoffs = body.get("handoffs")
    return [h for h in handoffs if isinstance(h, dict)] if isinstance(handoffs, list) else []
