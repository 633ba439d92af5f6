"""Rasa's REST channel, made safe (runs INSIDE the Rasa server process, Python 3.10 / Rasa 3.6).

Registered in bot/credentials.yml instead of the built-in ``rest`` channel; the URL stays
``/webhooks/rest/webhook`` and the request/response format is unchanged. It adds:

* an empty or whitespace-only message gets a clear answer (``utter_empty_message``) and is not processed; so does a
  message longer than ``MAX_MESSAGE_LENGTH`` (4,000) characters (``utter_message_too_long``: "send it in shorter
  parts"), also while an adviser has the conversation;
* every reply carries at most ``MAX_BUTTONS`` buttons per message;
* a user message never goes unanswered: if the turn produced no bot message (the action server is down,
  an action crashed) the user gets ``utter_technical_problem``;
* a bot message ``{"custom": {"delete_conversation": true}}`` (sent by ``action_delete_conversation``) is
  replaced by ``{"custom": {"conversation_deleted": true}}`` (clients forget the session id) and the stored
  conversation and its hand-offs in the console are deleted after the turn;
* ``POST /webhooks/rest/delete`` ``{"sender": ID}`` with ``X-Inbound-Token`` deletes the same, for channels in
  their own process (Telegram's ``/loeschen``, also while an adviser has the conversation). The token is checked
  before the body is read (a streamed route), so a wrong token is 401 whatever the body; the body may have at most
  ``DELETE_MAX_BODY`` bytes. Every other route is limited by Sanic's ``REQUEST_MAX_SIZE`` (``SANIC_REQUEST_MAX_SIZE``
  from ``RASA_REQUEST_MAX_SIZE``, set by ``scripts/run.sh``);
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

Settings: ``rasa_plugins/settings.py``; the calls to the console: ``rasa_plugins/console_client.py``; the wire
names: ``core/protocol.py``.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from core.protocol import (
    CHANNEL_REST,
    INBOUND_TOKEN_HEADER,
    MAX_MESSAGE_LENGTH,
    deleted_notice,
    is_delete_marker,
    with_button_limit,
)
from rasa_plugins import console_client, settings
from rasa_plugins.console_client import ConsoleUnavailable
from rasa_plugins.tracker_ops import delete_conversation, had_handoff, is_paused

log = logging.getLogger(__name__)

MAX_SENDER_LENGTH = 200
WAITING_RESPONSE = "utter_handoff_waiting"
WAITING_FALLBACK = "Deine Nachricht ist angekommen. Eine Beraterin antwortet hier im Chat."
TOO_LONG_RESPONSE = "utter_message_too_long"
TOO_LONG_FALLBACK = (f"Deine Nachricht ist sehr lang (über {MAX_MESSAGE_LENGTH:,} Zeichen). ".replace(",", ".")
                     + "Bitte schick sie mir in kürzeren Teilen.")
DELETE_MAX_BODY = 16 * 1024  # {"sender": ID} needs a few hundred bytes
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def reply(messages: list[dict[str, Any]]) -> HTTPResponse:
    """The JSON list of bot messages, each with at most MAX_BUTTONS buttons."""
    return response.json([with_button_limit(m) for m in messages])


class SafeRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return CHANNEL_REST

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/outbox", methods=["GET"])
        async def outbox(request: Request) -> HTTPResponse:
            sender_id = request.args.get("sender")
            if not valid_sender(sender_id):
                return response.json({"error": "Parameter 'sender' (max. 200 Zeichen) fehlt"}, status=400)
            agent = request.app.ctx.agent
            if not await had_handoff(agent, sender_id):
                return response.json([])
            try:
                return reply(await console_client.outbox(sender_id))
            except ConsoleUnavailable as exc:
                log.warning("adviser console unreachable, outbox not polled (conversation %s): %s", sender_id, exc)
                return response.json({"error": "Die Nachrichten können gerade nicht abgerufen werden."}, status=503)

        @webhook.route("/delete", methods=["POST"], stream=True)
        async def delete(request: Request) -> HTTPResponse:
            """Delete a conversation on the user's request, from a channel in its own process (Telegram's
            /loeschen works even while an adviser has the conversation). Needs ``X-Inbound-Token``, checked
            before the body is read (``stream=True``: Sanic does not read it in advance)."""
            expected = settings.current().inbound_token
            if not expected:
                return response.json({"error": "CONSOLE_INBOUND_TOKEN ist nicht gesetzt"}, status=503)
            given = request.headers.get(INBOUND_TOKEN_HEADER, "").encode("utf-8", "surrogateescape")  # any bytes
            if not hmac.compare_digest(given, expected.encode("utf-8")):
                return response.json({"error": f"Ungültiges {INBOUND_TOKEN_HEADER}"}, status=401)
            raw = await read_body(request, DELETE_MAX_BODY)
            if raw is None:
                return response.json({"error": f"Anfrage zu groß (höchstens {DELETE_MAX_BODY} Bytes)"}, status=413)
            try:
                parsed = json.loads(raw or b"{}")
            except (ValueError, RecursionError):  # not JSON, not UTF-8, nested too deeply
                parsed = None
            body = parsed if isinstance(parsed, dict) else {}
            sender_id = body.get("sender")
            if not valid_sender(sender_id):
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
            if not valid_sender(sender_id):
                return response.json({"error": "'sender' muss ein Text (max. 200 Zeichen) sein"}, status=400)
            if text is not None and not isinstance(text, str):
                return response.json({"error": "'message' muss ein Text sein"}, status=400)
            text = storable(text) if text else text
            agent = request.app.ctx.agent
            if not text or not text.strip():
                return reply(await render_response(agent, sender_id, "utter_empty_message"))
            if len(text) > MAX_MESSAGE_LENGTH:
                log.info("message of %d characters not processed (conversation %s)", len(text), sender_id)
                too_long = await render_response(agent, sender_id, TOO_LONG_RESPONSE)
                return reply(too_long or [{"recipient_id": sender_id, "text": TOO_LONG_FALLBACK}])

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
                return reply(messages + [deleted_notice(sender_id)])
            if not messages and await is_paused(agent, sender_id):
                return reply(await paused_reply(agent, sender_id, text, input_channel))
            if not messages:
                log.warning("no bot message for a user message (conversation %s)", sender_id)
                messages = await render_response(agent, sender_id, "utter_technical_problem")
            if await had_handoff(agent, sender_id):
                try:
                    messages = await console_client.outbox(sender_id) + messages
                except ConsoleUnavailable as exc:
                    log.warning("adviser console unreachable, outbox not delivered (conversation %s): %s",
                                sender_id, exc)
            return reply(messages)

        return webhook

    def _extract_input_channel(self, request: Request) -> str:
        """``input_channel`` of the body if it is a short text (the Telegram bridge sends ``telegram``)."""
        value = request.json.get("input_channel")
        return value if isinstance(value, str) and 0 < len(value) <= 50 and value.isprintable() else self.name()

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        """``metadata`` of the body if it is an object (Rasa adds keys to it; a list or number made it fail)."""
        value = request.json.get("metadata")
        return value if isinstance(value, dict) else None


def valid_sender(value: Any) -> bool:
    """A conversation id of 1–200 printable characters. Rasa's SQL tracker store cannot store a lone surrogate
    (or, on PostgreSQL, a NUL) in a sender id, and on such a storage error it ends the whole Rasa server."""
    return isinstance(value, str) and 0 < len(value) <= MAX_SENDER_LENGTH and value.isprintable()


def storable(text: str) -> str:
    """The text with lone surrogates and NUL characters replaced by U+FFFD: neither can be stored (and a message
    "/…" becomes an intent name in a column of its own)."""
    return _UNSTORABLE.sub("\ufffd", text)


async def read_body(request: Request, limit: int) -> bytes | None:
    """The body of a streamed request; None if it is (or says it is) larger than ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return None
    data = bytearray()
    while True:
        chunk = await request.stream.read()
        if chunk is None:
            return bytes(data)
        data += chunk
        if len(data) > limit:
            return None


async def render_response(agent: Any, sender_id: str, utter_action: str) -> list[dict[str, Any]]:
    """A domain response, with the persona (du/Sie) of this conversation."""
    tracker = await agent.tracker_store.get_or_create_tracker(sender_id)
    message = await agent.nlg.generate(utter_action, tracker, CHANNEL_REST)
    if not message:
        return []
    message = {k: v for k, v in message.items() if k in ("text", "buttons", "image", "custom") and v}
    return [{"recipient_id": sender_id, **message}] if message else []


async def paused_reply(agent: Any, sender_id: str, text: str, channel: str) -> list[dict[str, Any]]:
    """A message in a paused conversation: to the adviser console; pending replies or an acknowledgement back."""
    try:
        result = await console_client.inbound(sender_id, text, channel)
    except ConsoleUnavailable as exc:
        log.warning("adviser console unreachable; user message kept in the tracker only (conversation %s): %s",
                    sender_id, exc)
        result = {}
    if result and not result.get("stored"):
        log.warning("paused conversation without an open hand-off in the console (conversation %s)", sender_id)
    messages = console_client.messages(sender_id, result.get("messages"))
    if messages:
        return messages
    waiting = await render_response(agent, sender_id, WAITING_RESPONSE)
    return waiting or [{"recipient_id": sender_id, "text": WAITING_FALLBACK}]


# --- deletion ------------------------------------------------------------------------------------------------


async def delete_everything(agent: Any, sender_id: str) -> int:
    """The tracker and, through the console, every hand-off of the conversation. Returns the number of
    hand-offs deleted (-1 if the console could not be reached: the tracker is deleted anyway and a warning is
    logged, so the adviser side must be cleaned by hand)."""
    await delete_conversation(agent, sender_id)
    try:
        return await console_client.delete_handoffs(sender_id)
    except ConsoleUnavailable as exc:
        log.warning("conversation deleted, but the adviser console could not delete its hand-offs: %s", exc)
        return -1

