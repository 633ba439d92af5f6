"""Rasa's REST channel, made safe (runs INSIDE the Rasa server process, Python 3.10 / Rasa 3.6).

Registered in bot/credentials.yml instead of the built-in ``rest`` channel; the URL stays
``/webhooks/rest/webhook`` and the request/response format is unchanged. It adds:

* an empty or whitespace-only message gets a clear answer (``utter_empty_message``) and is not processed;
* a user message never goes unanswered: if the turn produced no bot message (the action server is down,
  an action crashed) the user gets ``utter_technical_problem``;
* a bot message ``{"custom": {"delete_conversation": true}}`` (sent by ``action_delete_conversation``) is
  replaced by ``{"custom": {"conversation_deleted": true}}`` (clients forget the session id) and the stored
  conversation and its hand-offs in the console are deleted after the turn;
* ``POST /webhooks/rest/delete`` ``{"sender": ID}`` with ``X-Inbound-Token`` deletes the same, for channels in
  their own process (Telegram's ``/loeschen``, also while an adviser has the conversation);
* human hand-off: while the conversation is paused (``action_handoff_create`` returned ``ConversationPaused``)
  Rasa stores the user message but runs no policy. The message is forwarded to the adviser console
  (``POST {CONSOLE_URL}/api/inbound``), and the user gets the console's pending messages (adviser replies) or
  the acknowledgement ``utter_handoff_waiting``. If the console is unreachable the message is still in the
  tracker; the user gets the acknowledgement and a warning is logged;
* in a conversation that ever had a hand-off (a ``pause`` event in the tracker) every reply also carries the
  pending outbox messages (adviser replies, the bot's "I'm back" after the adviser closed), before the bot's
  answer to this message. Other conversations make no call to the console;
* ``GET /webhooks/rest/outbox?sender=ID`` returns the pending outbox messages (a JSON list like the webhook's
  reply) so a web chat or REST client can poll adviser replies.

Environment: ``CONSOLE_URL`` (default ``http://127.0.0.1:8000``), ``CONSOLE_INBOUND_TOKEN`` (sent as
``X-Inbound-Token``), ``CONSOLE_TIMEOUT`` (seconds, default 3).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import aiohttp
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

log = logging.getLogger(__name__)

DELETE_MARKER = "delete_conversation"
DELETED_NOTICE = "conversation_deleted"
MAX_SENDER_LENGTH = 200
WAITING_RESPONSE = "utter_handoff_waiting"
WAITING_FALLBACK = "Deine Nachricht ist angekommen. Eine Beraterin antwortet hier im Chat."
PAUSE_EVENT = "pause"
DEFAULT_CONSOLE_URL = "http://127.0.0.1:8000"


class ConsoleUnavailable(Exception):
    """The adviser console could not be reached or refused the request."""


class SafeRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/outbox", methods=["GET"])
        async def outbox(request: Request) -> HTTPResponse:
            sender_id = request.args.get("sender")
            if not sender_id or len(sender_id) > MAX_SENDER_LENGTH:
                return response.json({"error": "Parameter 'sender' (max. 200 Zeichen) fehlt"}, status=400)
            agent = request.app.ctx.agent
            if not await _had_handoff(agent, sender_id):
                return response.json([])
            try:
                return response.json(await console_outbox(sender_id))
            except ConsoleUnavailable as exc:
                log.warning("adviser console unreachable, outbox not polled (conversation %s): %s", sender_id, exc)
                return response.json({"error": "Die Nachrichten können gerade nicht abgerufen werden."}, status=503)

        @webhook.route("/delete", methods=["POST"])
        async def delete(request: Request) -> HTTPResponse:
            """Delete a conversation on the user's request, from a channel in its own process (Telegram's
            /loeschen works even while an adviser has the conversation). Needs ``X-Inbound-Token``."""
            expected = os.environ.get("CONSOLE_INBOUND_TOKEN")
            if not expected:
                return response.json({"error": "CONSOLE_INBOUND_TOKEN ist nicht gesetzt"}, status=503)
            if not hmac.compare_digest(request.headers.get("X-Inbound-Token", ""), expected):
                return response.json({"error": "Ungültiges X-Inbound-Token"}, status=401)
            body = request.json if isinstance(request.json, dict) else {}
            sender_id = body.get("sender")
            if not isinstance(sender_id, str) or not sender_id or len(sender_id) > MAX_SENDER_LENGTH:
                return response.json({"error": "'sender' (max. 200 Zeichen) fehlt"}, status=400)
            handoffs_deleted = await delete_everything(request.app.ctx.agent, sender_id)
            return response.json({"deleted": True, "handoffs_deleted": handoffs_deleted})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = request.json if isinstance(request.json, dict) else None
            if body is None:
                return response.json({"error": "JSON-Objekt mit 'sender' und 'message' erwartet"}, status=400)
            sender_id = body.get("sender") or "default"
            text = body.get("message")
            if not isinstance(sender_id, str) or len(sender_id) > MAX_SENDER_LENGTH:
                return response.json({"error": "'sender' muss ein Text (max. 200 Zeichen) sein"}, status=400)
            if text is not None and not isinstance(text, str):
                return response.json({"error": "'message' muss ein Text sein"}, status=400)
            agent = request.app.ctx.agent
            if not text or not text.strip():
                return response.json(await render_response(agent, sender_id, "utter_empty_message"))

            input_channel = self._extract_input_channel(request)
            collector = CollectingOutputChannel()
            await on_new_message(
                UserMessage(
                    text,
                    collector,
                    sender_id,
                    input_channel=input_channel,
                    metadata=self.get_metadata(request),
                )
            )
            messages = [m for m in collector.messages if not is_delete_marker(m)]
            if len(messages) != len(collector.messages):
                await delete_everything(agent, sender_id)
                return response.json(messages + [deleted_notice(sender_id)])
            if not messages and await is_paused(agent, sender_id):
                return response.json(await paused_reply(agent, sender_id, text, input_channel))
            if not messages:
                log.warning("no bot message for a user message (conversation %s)", sender_id)
                messages = await render_response(agent, sender_id, "utter_technical_problem")
            if await _had_handoff(agent, sender_id):
                try:
                    messages = await console_outbox(sender_id) + messages
                except ConsoleUnavailable as exc:
                    log.warning("adviser console unreachable, outbox not delivered (conversation %s): %s",
                                sender_id, exc)
            return response.json(messages)

        return webhook


def deleted_notice(sender_id: str) -> dict[str, Any]:
    """Tells the client (web chat, Telegram bridge) that the conversation is gone: forget the session id."""
    return {"recipient_id": sender_id, "custom": {DELETED_NOTICE: True}}


def is_delete_marker(message: dict[str, Any]) -> bool:
    custom = message.get("custom")
    return isinstance(custom, dict) and bool(custom.get(DELETE_MARKER))


async def render_response(agent: Any, sender_id: str, utter_action: str) -> list[dict[str, Any]]:
    """A domain response, with the persona (du/Sie) of this conversation."""
    tracker = await agent.tracker_store.get_or_create_tracker(sender_id)
    message = await agent.nlg.generate(utter_action, tracker, "rest")
    if not message:
        return []
    message = {k: v for k, v in message.items() if k in ("text", "buttons", "image", "custom") and v}
    return [{"recipient_id": sender_id, **message}] if message else []


async def is_paused(agent: Any, sender_id: str) -> bool:
    tracker = await agent.tracker_store.retrieve(sender_id)
    return bool(tracker and tracker.is_paused())


async def paused_reply(agent: Any, sender_id: str, text: str, channel: str) -> list[dict[str, Any]]:
    """A message in a paused conversation: to the adviser console; pending replies or an acknowledgement back."""
    try:
        result = await console_inbound(sender_id, text, channel)
    except ConsoleUnavailable as exc:
        log.warning("adviser console unreachable; user message kept in the tracker only (conversation %s): %s",
                    sender_id, exc)
        result = {}
    if result and not result.get("stored"):
        log.warning("paused conversation without an open hand-off in the console (conversation %s)", sender_id)
    messages = _messages(sender_id, result.get("messages"))
    if messages:
        return messages
    waiting = await render_response(agent, sender_id, WAITING_RESPONSE)
    return waiting or [{"recipient_id": sender_id, "text": WAITING_FALLBACK}]


async def _had_handoff(agent: Any, sender_id: str) -> bool:
    """Whether the conversation was ever paused (handed to an adviser), in any session.

    SQL tracker store: one indexed query. Other stores: the full tracker is read.
    """
    store = _innermost(agent.tracker_store)
    if hasattr(store, "SQLEvent") and hasattr(store, "session_scope"):
        with store.session_scope() as session:
            row = (
                session.query(store.SQLEvent.id)
                .filter(store.SQLEvent.sender_id == sender_id, store.SQLEvent.type_name == PAUSE_EVENT)
                .first()
            )
        return row is not None
    tracker = await agent.tracker_store.retrieve_full_tracker(sender_id)
    return bool(tracker and any(getattr(e, "type_name", None) == PAUSE_EVENT for e in tracker.events))


# --- the adviser console (channels/console, FastAPI) -------------------------------------------------------


def _console_url() -> str:
    return (os.environ.get("CONSOLE_URL") or DEFAULT_CONSOLE_URL).rstrip("/")


def _console_headers() -> dict[str, str]:
    token = os.environ.get("CONSOLE_INBOUND_TOKEN")
    return {"X-Inbound-Token": token} if token else {}


def _console_timeout() -> aiohttp.ClientTimeout:
    try:
        seconds = float(os.environ.get("CONSOLE_TIMEOUT") or 3)
    except ValueError:
        seconds = 3.0
    return aiohttp.ClientTimeout(total=seconds)


async def _console_call(method: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    try:
        async with aiohttp.ClientSession(timeout=_console_timeout(), headers=_console_headers()) as session:
            async with session.request(method, _console_url() + path, json=payload) as resp:
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


def _messages(sender_id: str, raw: Any) -> list[dict[str, Any]]:
    """Rasa-style bot messages from the console's answer (each with ``recipient_id``)."""
    if not isinstance(raw, list):
        return []
    return [{**m, "recipient_id": m.get("recipient_id") or sender_id} for m in raw if isinstance(m, dict)]


async def console_inbound(sender_id: str, text: str, channel: str) -> dict[str, Any]:
    """Store the user message in the open hand-off; returns ``{"stored": bool, "messages": [...]}``."""
    return await _console_call(
        "POST", "/api/inbound", {"conversation_id": sender_id, "text": text, "channel": channel}
    )


async def console_outbox(sender_id: str) -> list[dict[str, Any]]:
    """Pending outbox messages of the conversation (the console marks them delivered)."""
    body = await _console_call("GET", f"/api/outbox/{quote(sender_id, safe='')}")
    return _messages(sender_id, body.get("messages"))


# --- deletion ------------------------------------------------------------------------------------------------


def _innermost(store: Any) -> Any:
    while hasattr(store, "_tracker_store"):
        store = store._tracker_store
    return store


async def delete_everything(agent: Any, sender_id: str) -> int:
    """The tracker and, through the console, every hand-off of the conversation. Returns the number of
    hand-offs deleted (-1 if the console could not be reached: the tracker is deleted anyway and a warning is
    logged, so the adviser side must be cleaned by hand)."""
    await delete_conversation(agent, sender_id)
    try:
        body = await _console_call("DELETE", f"/api/conversations/{quote(sender_id, safe='')}")
    except ConsoleUnavailable as exc:
        log.warning("conversation deleted, but the adviser console could not delete its hand-offs: %s", exc)
        return -1
    return int(body.get("deleted_handoffs") or 0)


async def delete_conversation(agent: Any, sender_id: str) -> None:
    """Delete every stored event of one conversation (SQL, Redis or in-memory tracker store)."""
    store = _innermost(agent.tracker_store)
    if hasattr(store, "SQLEvent") and hasattr(store, "session_scope"):
        with store.session_scope() as session:
            session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == sender_id).delete()
            session.commit()
    elif hasattr(store, "red"):
        store.red.delete(store.key_prefix + sender_id)
    elif isinstance(getattr(store, "store", None), dict):
        store.store.pop(sender_id, None)
    else:  # pragma: no cover - other stores are not configured by this project
        raise RuntimeError(f"cannot delete conversations from {type(store).__name__}")
    log.info("conversation deleted on request (%s)", type(store).__name__)
