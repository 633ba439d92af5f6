"""The bridge's client of Rasa's REST channel (``rasa_plugins/rest_channel.py`` inside the Rasa server).

Why REST and not a custom input channel inside Rasa: the Rasa server runs in its own Python 3.10 environment
with pinned dependencies; python-telegram-bot 22 lives here on the application side. The REST channel already
does everything a channel must do (empty messages, never silent, hand-off forwarding to the console, pending
adviser replies, deletion), so Telegram gets the same behaviour as the web chat without a second copy. The
bridge uses its own authenticated entry (``REST_BRIDGE_PATH``), not the public webhook.
"""

from __future__ import annotations

from typing import Any

import httpx

from core.errors import RasaRefused, RasaUnavailable
from core.protocol import CHANNEL_TELEGRAM, INBOUND_TOKEN_HEADER, REST_BRIDGE_PATH, REST_DELETE_PATH

CHANNEL = CHANNEL_TELEGRAM
__all__ = ["CHANNEL", "RasaClient", "RasaRefused", "RasaUnavailable"]


class RasaClient:
    def __init__(self, base_url: str, inbound_token: str | None, timeout: float = 30.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        headers = {INBOUND_TOKEN_HEADER: inbound_token} if inbound_token else {}
        self._client = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout, headers=headers,
                                         transport=transport)

    async def close(self) -> None:
        await self._client.aclose()

    async def send(self, conversation_id: str, text: str) -> list[dict[str, Any]]:
        """The bot's answer to one user message (Rasa-style messages: text, buttons, image, custom), through the
        bridge's own entry of the REST channel (``X-Inbound-Token``; the channel is set there, not by the client)."""
        body = {"sender": conversation_id, "message": text}
        data = await self._call("POST", REST_BRIDGE_PATH, body)
        if not isinstance(data, list):
            raise RasaUnavailable("answer is not a JSON list")
        return [m for m in data if isinstance(m, dict)]

    async def delete(self, conversation_id: str) -> bool:
        """Delete the tracker and the conversation's hand-offs (works while an adviser has it). False: the
        hand-offs could not be deleted yet (console unreachable); Rasa has queued that part and retries it."""
        data = await self._call("POST", REST_DELETE_PATH, {"sender": conversation_id})
        return not (isinstance(data, dict) and data.get("complete") is False)

    async def _call(self, method: str, path: str, body: dict[str, Any]) -> Any:
        try:
            response = await self._client.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise RasaUnavailable(type(exc).__name__) from exc
        if response.status_code >= 500 or response.status_code == 404:  # 404: Rasa starting without channels
            raise RasaUnavailable(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise RasaRefused(f"HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError as exc:
            raise RasaUnavailable("no JSON") from exc
