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

Settings: ``rasa_plugins/settings.py``; the calls to the console: ``rasa_plugins/console_client.py``; the wire
names: ``core/protocol.py``.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from core.protocol import CHANNEL_REST, INBOUND_TOKEN_HEADER, deleted_notice, is_delete_marker
from rasa_plugins import console_client, settings
from rasa_plugins.console_client import ConsoleUnavailable
from rasa_plugins.tracker_ops import delete_conversation, had_handoff, is_paused

log = logging.getLogger(__name__)

MAX_SENDER_LENGTH = 200
WAITING_RESPONSE = "utter_handoff_waiting"
WAITING_FALLBACK = "Deine Nachricht ist angekommen. Eine Beraterin antwortet hier im Chat."


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
            if not sender_id or len(sender_id) > MAX_SENDER_LENGTH:
                return response.json({"error": "Parameter 'sender' (max. 200 Zeichen) fehlt"}, status=400)
            agent = request.app.ctx.agent
            if not await had_handoff(agent, sender_id):
                return response.json([])
            try:
                return response.json(await console_client.outbox(sender_id))
            except ConsoleUnavailable as exc:
                log.warning("adviser console unreachable, outbox not polled (conversation %s): %s", sender_id, exc)
                return response.json({"error": "Die Nachrichten können gerade nicht abgerufen werden."}, status=503)

        @webhook.route("/delete", methods=["POST"])
        async def delete(request: Request) -> HTTPResponse:
            """Delete a conversation on the user's request, from a channel in its own process (Telegram's
            /loeschen works even while an adviser has the conversation). Needs ``X-Inbound-Token``."""
            expected = settings.current().inbound_token
            if not expected:
                return response.json({"error": "CONSOLE_INBOUND_TOKEN ist nicht gesetzt"}, status=503)
            if not hmac.compare_digest(request.headers.get(INBOUND_TOKEN_HEADER, ""), expected):
                return response.json({"error": f"Ungültiges {INBOUND_TOKEN_HEADER}"}, status=401)
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
            if await had_handoff(agent, sender_id):
                try:
                    messages = await console_client.outbox(sender_id) + messages
                except ConsoleUnavailable as exc:
                    log.warning("adviser console unreachable, outbox not delivered (conversation %s): %s",
                                sender_id, exc)
            return response.json(messages)

        return webhook


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

