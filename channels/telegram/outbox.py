"""Adviser replies that missed the push (bridge was down, Telegram unreachable) are collected from the
console's outbox at start and then every ``interval`` seconds, delivered, and only then marked delivered."""

from __future__ import annotations

import asyncio
import logging

import httpx

from channels.telegram.bridge import Bridge
from channels.telegram.logs import log_event
from channels.telegram.rasa import CHANNEL
from core.protocol import CONSOLE_OUTBOX_DELIVERED_PATH, CONSOLE_OUTBOX_PENDING_PATH, INBOUND_TOKEN_HEADER


class OutboxCollector:
    def __init__(self, console_url: str, inbound_token: str | None, bridge: Bridge, interval: float = 30.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        headers = {INBOUND_TOKEN_HEADER: inbound_token} if inbound_token else {}
        self._client = httpx.AsyncClient(base_url=console_url.rstrip("/"), headers=headers, timeout=10,
                                         transport=transport)
        self.bridge = bridge
        self.interval = interval

    async def close(self) -> None:
        await self._client.aclose()

    async def collect_once(self) -> int:
        """Deliver what is pending for Telegram; returns how many messages were delivered."""
        response = await self._client.get(CONSOLE_OUTBOX_PENDING_PATH, params={"channel": CHANNEL})
        response.raise_for_status()
        delivered: list[int] = []
        for item in response.json().get("messages", []):
            if not self.bridge.knows(item["conversation_id"]):  # chat deleted meanwhile: nobody to deliver to
                log_event("outbox_dropped_unknown_conversation", level=logging.WARNING)
                delivered.append(item["id"])
            elif await self.bridge.push(item["conversation_id"], item["message"]):
                delivered.append(item["id"])
        if delivered:
            (await self._client.post(CONSOLE_OUTBOX_DELIVERED_PATH, json={"ids": delivered})).raise_for_status()
        return len(delivered)

    async def run_forever(self) -> None:
        while True:
            try:
                count = await self.collect_once()
                if count:
                    log_event("outbox_collected", messages=count)
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                log_event("outbox_unavailable", level=logging.WARNING, error=type(exc).__name__)
            await asyncio.sleep(self.interval)
