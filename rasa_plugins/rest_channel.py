"""Rasa's REST channel, made safe (runs INSIDE the Rasa server process, Python 3.10 / Rasa 3.6).

Registered in bot/credentials.yml instead of the built-in ``rest`` channel; the URL stays
``/webhooks/rest/webhook`` and the request/response format is unchanged. It adds:

* an empty or whitespace-only message gets a clear answer (``utter_empty_message``) and is not processed; so does a
  message longer than ``MAX_MESSAGE_LENGTH`` (4,000) characters (``utter_message_too_long``: "send it in shorter
  parts"), also while an adviser has the conversation;
* every reply carries at most ``MAX_BUTTONS`` buttons per message;
* a user message never goes unanswered: if the turn produced no bot message (the action server is down,
  an action crashed) the user gets ``utter_technical_problem``; if the turn was not stored (the tracker database is
  down, or Rasa failed the turn, e.g. ``LockError``) the user gets ``utter_technical_problem_not_stored`` ("not
  stored, please send it again") instead of an answer computed from an empty conversation or an HTTP 500;
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
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from core.protocol import (
    CHANNEL_REST,
    CHANNEL_TELEGRAM,
    CONVERSATION_TOKEN_HEADER,
    DELETE_CANCELLED_PAYLOAD,
    DELETE_CONFIRMED_PAYLOAD,
    INBOUND_TOKEN_HEADER,
    MAX_MESSAGE_LENGTH,
    TELEGRAM_CONVERSATION_PREFIX,
    WEB_CONVERSATION_PREFIX,
    conversation_of,
    deleted_notice,
    export_message,
    is_delete_marker,
    is_reserved_conversation_id,
    outbox_ids,
    session_token,
    with_button_limit,
)
from rasa_plugins import console_client, deletion_queue, settings, usage
from rasa_plugins.console_client import ConsoleUnavailable
from rasa_plugins.export import build_export, with_exports
from rasa_plugins.tracker_ops import (
    conversation_exists,
    delete_conversation,
    had_handoff,
    is_paused,
    store_failed,
)

log = logging.getLogger(__name__)

MAX_SENDER_LENGTH = 200
WAITING_RESPONSE = "utter_handoff_waiting"
WAITING_FALLBACK = "Deine Nachricht ist angekommen. Eine Beraterin antwortet hier im Chat."
TOO_LONG_RESPONSE = "utter_message_too_long"
TOO_LONG_FALLBACK = (f"Deine Nachricht ist sehr lang (über {MAX_MESSAGE_LENGTH:,} Zeichen). ".replace(",", ".")
                     + "Bitte schick sie mir in kürzeren Teilen.")
NOT_STORED_RESPONSE = "utter_technical_problem_not_stored"
NOT_STORED_FALLBACK = ("Entschuldigung, gerade gibt es ein technisches Problem: Ich konnte diese Nachricht nicht "
                       "speichern. Bitte schick sie in ein paar Minuten noch einmal.")
DELETE_MAX_BODY = 16 * 1024  # {"sender": ID} needs a few hundred bytes
BRIDGE_MAX_BODY = 64 * 1024  # a message of MAX_MESSAGE_LENGTH characters (≤ 4 bytes each) and a little metadata
MAX_ACK_IDS = 100
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
        deletion_queue.install(webhook)  # retries console deletions that could not be done at once

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/outbox", methods=["GET"])
        async def outbox(request: Request) -> HTTPResponse:
            """Pending adviser replies of the caller's own conversation (token), not consumed by reading."""
            sender_id = conversation_of_request(request)
            if sender_id is None:
                return invalid_token()
            agent = request.app.ctx.agent
            if not await had_handoff(agent, sender_id):
                return with_token(reply([]), sender_id)
            try:
                return with_token(reply(await console_client.outbox(sender_id)), sender_id)
            except ConsoleUnavailable as exc:
                log.warning("adviser console unreachable, outbox not polled (conversation %s): %s",
                            pseudonym(sender_id), exc)
                return response.json({"error": "Die Nachrichten können gerade nicht abgerufen werden."}, status=503)

        @webhook.route("/outbox/ack", methods=["POST"])
        async def outbox_ack(request: Request) -> HTTPResponse:
            """``{"ids": [outbox_id, …]}``: the client displayed these messages of its own conversation."""
            sender_id = conversation_of_request(request)
            if sender_id is None:
                return invalid_token()
            body = request.json if isinstance(request.json, dict) else {}
            ids = body.get("ids")
            if (not isinstance(ids, list) or len(ids) > MAX_ACK_IDS
                    or not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2**63 for i in ids)):
                return response.json({"error": f"'ids' muss eine Liste von höchstens {MAX_ACK_IDS} Nummern sein"},
                                     status=400)
            try:
                marked = await console_client.acknowledge(sender_id, ids)
            except ConsoleUnavailable as exc:
                log.warning("adviser console unreachable, outbox not acknowledged (conversation %s): %s",
                            pseudonym(sender_id), exc)
                return response.json({"error": "Die Bestätigung ist gerade nicht möglich."}, status=503)
            return with_token(response.json({"marked": marked}), sender_id)

        @webhook.route("/bridge", methods=["POST"], stream=True)
        async def bridge(request: Request) -> HTTPResponse:
            """The Telegram bridge's own entry: ``X-Inbound-Token`` (checked before the body is read), a ``tg-…``
            sender, channel ``telegram`` set here. The bridge delivers the reply itself, so outbox messages in
            it are acknowledged here."""
            body = await inbound_body(request, BRIDGE_MAX_BODY)
            if isinstance(body, HTTPResponse):
                return body
            sender_id = body.get("sender")
            if not valid_sender(sender_id) or not sender_id.startswith(TELEGRAM_CONVERSATION_PREFIX):
                return response.json({"error": f"'sender' muss mit {TELEGRAM_CONVERSATION_PREFIX} beginnen"}, status=400)
            text = body.get("message")
            if text is not None and not isinstance(text, str):
                return response.json({"error": "'message' muss ein Text sein"}, status=400)
            metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else None
            messages = await self.turn(on_new_message, request.app.ctx.agent, sender_id, text, CHANNEL_TELEGRAM,
                                       metadata)
            ids = outbox_ids(messages)
            if ids:
                try:
                    await console_client.acknowledge(sender_id, ids)
                except ConsoleUnavailable as exc:  # shown again with the next reply or push: better twice than never
                    log.warning("outbox delivered to the bridge but not acknowledged (conversation %s): %s",
                                pseudonym(sender_id), exc)
            return reply(messages)

        @webhook.route("/delete", methods=["POST"], stream=True)
        async def delete(request: Request) -> HTTPResponse:
            """Delete a conversation on the user's request, from a channel in its own process (Telegram's
            /loeschen works even while an adviser has the conversation). Needs ``X-Inbound-Token``, checked
            before the body is read (``stream=True``: Sanic does not read it in advance)."""
            body = await inbound_body(request, DELETE_MAX_BODY)
            if isinstance(body, HTTPResponse):
                return body
            sender_id = body.get("sender")
            if not valid_sender(sender_id):
                return response.json({"error": "'sender' (max. 200 Zeichen) fehlt"}, status=400)
            result = await delete_everything(request.app.ctx.agent, sender_id)
            return response.json({"deleted": True, "complete": result.done, "handoffs_deleted": result.handoffs})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            """The public webhook. The conversation is the one of the ``X-Conversation-Token`` header; without a
            token a new conversation starts (with a generated id, or a client-chosen ``sender`` that is not taken
            and not reserved). The answer carries the conversation's token in the same header."""
            body = request.json if isinstance(request.json, dict) else None
            if body is None:
                return response.json({"error": "JSON-Objekt mit 'message' erwartet"}, status=400)
            agent = request.app.ctx.agent
            sender_id = await self.owned_conversation(request, agent, body)
            if isinstance(sender_id, HTTPResponse):
                return sender_id
            text = body.get("message")
            if text is not None and not isinstance(text, str):
                return response.json({"error": "'message' muss ein Text sein"}, status=400)
            messages = await self.turn(on_new_message, agent, sender_id, text, self.name(), self.get_metadata(request))
            return with_token(reply(messages), sender_id)

        return webhook

    async def owned_conversation(self, request: Request, agent: Any, body: dict[str, Any]) -> str | HTTPResponse:
        """The caller's conversation id, or the refusal (401 forged/expired token, 400/403 unusable sender)."""
        if request.headers.get(CONVERSATION_TOKEN_HEADER) is not None:
            sender_id = conversation_of_request(request)
            return sender_id if sender_id is not None else invalid_token()
        sender_id = body.get("sender")
        if sender_id is None or sender_id == "":
            return WEB_CONVERSATION_PREFIX + secrets.token_urlsafe(18)
        if not valid_sender(sender_id):
            return response.json({"error": "'sender' muss ein Text (max. 200 Zeichen) sein"}, status=400)
        if is_reserved_conversation_id(sender_id):
            return response.json({"error": "Diese Gesprächs-ID ist reserviert. Lass 'sender' weg: dann bekommst "
                                           "du eine neue Unterhaltung und ihr Token."}, status=403)
        if await conversation_exists(agent, sender_id):
            log.info("sender of an existing conversation without its token refused (conversation %s)",
                     pseudonym(sender_id))
            return response.json({"error": f"Diese Unterhaltung gehört zu einer anderen Sitzung. Schick das Token "
                                           f"aus {CONVERSATION_TOKEN_HEADER} mit oder lass 'sender' weg."},
                                 status=403)
        return sender_id

    async def turn(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], agent: Any, sender_id: str,
                   text: str | None, channel: str, metadata: dict[str, Any] | None) -> list[dict[str, Any]]:
        """One user message of a conversation whose owner is established: the bot messages for the client."""
        text = storable(text) if text else text
        if not text or not text.strip():
            return await render_response(agent, sender_id, "utter_empty_message")
        if len(text) > MAX_MESSAGE_LENGTH:
            log.info("message of %d characters not processed (conversation %s)", len(text), pseudonym(sender_id))
            too_long = await render_response(agent, sender_id, TOO_LONG_RESPONSE)
            return too_long or [{"recipient_id": sender_id, "text": TOO_LONG_FALLBACK}]
        collector = CollectingOutputChannel()
        store_failed(agent, sender_id)  # only a failure of this turn counts
        try:
            await on_new_message(UserMessage(text, collector, sender_id, input_channel=channel, metadata=metadata))
            failed = store_failed(agent, sender_id)  # database down: Rasa answered from an empty tracker
        except Exception as error:  # noqa: BLE001 - any failure: the user still gets an answer (e.g. LockError)
            log.error("turn failed (%s), not stored (conversation %s)", type(error).__name__, pseudonym(sender_id))
            failed = True
        if failed:
            log.warning("turn not stored, tracker or lock store unavailable (conversation %s)", pseudonym(sender_id))
            not_stored = await render_response(agent, sender_id, NOT_STORED_RESPONSE)
            store_failed(agent, sender_id)
            return not_stored or [{"recipient_id": sender_id, "text": NOT_STORED_FALLBACK}]
        messages = [m for m in collector.messages if not is_delete_marker(m)]
        if len(messages) != len(collector.messages):
            result = await delete_everything(agent, sender_id)
            if not result.done:  # the truth: the console's part follows as soon as it is reachable
                messages = messages + [{"recipient_id": sender_id, "text": deletion_queue.PENDING_TEXT}]
            return messages + [deleted_notice(sender_id)]
        messages = await with_exports(agent, sender_id, messages)  # "Meine Daten": rasa_plugins/export.py
        usage.report_turn(agent, sender_id, channel)  # counts for the console's dashboard; never waits
        if not messages and await is_paused(agent, sender_id):
            handled = await privacy_request_while_paused(agent, sender_id, text)
            if handled is not None:
                return handled.messages
            return await paused_reply(agent, sender_id, text, channel)
        if not messages:
            log.warning("no bot message for a user message (conversation %s)", pseudonym(sender_id))
            messages = await render_response(agent, sender_id, "utter_technical_problem")
        if await had_handoff(agent, sender_id):
            try:
                messages = await console_client.outbox(sender_id) + messages
            except ConsoleUnavailable as exc:
                log.warning("adviser console unreachable, outbox not delivered (conversation %s): %s",
                            pseudonym(sender_id), exc)
        return messages

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        """``metadata`` of the body if it is an object (Rasa adds keys to it; a list or number made it fail)."""
        value = request.json.get("metadata")
        return value if isinstance(value, dict) else None


def pseudonym(sender_id: str) -> str:
    """What the log shows instead of the conversation id."""
    return settings.current().pseudonym(sender_id)


def conversation_of_request(request: Request) -> str | None:
    """The conversation of the request's ``X-Conversation-Token``; None if missing or not genuine."""
    token = request.headers.get(CONVERSATION_TOKEN_HEADER)
    return conversation_of(settings.current().session_key, token) if token else None


def invalid_token() -> HTTPResponse:
    return response.json({"error": f"{CONVERSATION_TOKEN_HEADER} fehlt oder ist ungültig. Ohne Token beginnt "
                                   "ein neues Gespräch."}, status=401)


def with_token(resp: HTTPResponse, sender_id: str) -> HTTPResponse:
    """The response with the conversation's token (readable by a web page of another origin)."""
    resp.headers[CONVERSATION_TOKEN_HEADER] = session_token(settings.current().session_key, sender_id)
    resp.headers.add("Access-Control-Expose-Headers", CONVERSATION_TOKEN_HEADER)
    return resp


def check_inbound_token(request: Request) -> HTTPResponse | None:
    """None if ``X-Inbound-Token`` is right (compared in constant time), else the refusal."""
    expected = settings.current().inbound_token
    if not expected:
        return response.json({"error": "CONSOLE_INBOUND_TOKEN ist nicht gesetzt"}, status=503)
    given = request.headers.get(INBOUND_TOKEN_HEADER, "").encode("utf-8", "surrogateescape")  # any bytes
    if not hmac.compare_digest(given, expected.encode("utf-8")):
        return response.json({"error": f"Ungültiges {INBOUND_TOKEN_HEADER}"}, status=401)
    return None


async def inbound_body(request: Request, limit: int) -> dict[str, Any] | HTTPResponse:
    """The JSON object of a streamed request from a channel in its own process: ``X-Inbound-Token`` checked before
    the body is read, then at most ``limit`` bytes; the refusal (401/503/413) otherwise."""
    denied = check_inbound_token(request)
    if denied is not None:
        return denied
    raw = await read_body(request, limit)
    if raw is None:
        return response.json({"error": f"Anfrage zu groß (höchstens {limit} Bytes)"}, status=413)
    return parse_object(raw)


def parse_object(raw: bytes) -> dict[str, Any]:
    """The JSON object of a body; empty for anything else (not JSON, not UTF-8, nested too deeply, a list)."""
    try:
        parsed = json.loads(raw or b"{}")
    except (ValueError, RecursionError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


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
                    pseudonym(sender_id), exc)
        result = {}
    if result and not result.get("stored"):
        log.warning("paused conversation without an open hand-off in the console (conversation %s)",
                    pseudonym(sender_id))
    messages = console_client.messages(sender_id, result.get("messages"))
    if messages:
        return messages
    waiting = await render_response(agent, sender_id, WAITING_RESPONSE)
    return waiting or [{"recipient_id": sender_id, "text": WAITING_FALLBACK}]


# --- deletion ------------------------------------------------------------------------------------------------


@dataclass
class PrivacyReply:
    messages: list[dict[str, Any]]
    deleted: bool = False
    export: dict[str, Any] | None = None


PRIVACY_CONFIDENCE = 0.7  # a deletion/export request recognised with less goes to the adviser as usual


async def privacy_request_while_paused(agent: Any, sender_id: str, text: str) -> PrivacyReply | None:
    """While an adviser has the conversation Rasa runs no dialogue, so "Lösch meine Daten" and "Meine Daten" are
    handled here: deletion asks for confirmation (buttons with :data:`DELETE_CONFIRMED_PAYLOAD` /
    :data:`DELETE_CANCELLED_PAYLOAD`) and then deletes everything; the export is sent at once. None: an ordinary
    message for the adviser."""
    if text == DELETE_CONFIRMED_PAYLOAD:
        done = await render_response(agent, sender_id, "utter_data_deleted")  # rendered while the persona exists
        result = await delete_everything(agent, sender_id)
        pending = [] if result.done else [{"recipient_id": sender_id, "text": deletion_queue.PENDING_TEXT}]
        return PrivacyReply(done + pending + [deleted_notice(sender_id)], deleted=True)
    if text == DELETE_CANCELLED_PAYLOAD:
        return PrivacyReply(await render_response(agent, sender_id, "utter_delete_cancelled"))
    tracker = await agent.tracker_store.retrieve(sender_id)
    intent = (tracker.latest_message.intent if tracker and tracker.latest_message else None) or {}
    if (intent.get("confidence") or 0) < PRIVACY_CONFIDENCE:
        return None
    if intent.get("name") == "request_data_deletion":
        ask = await render_response(agent, sender_id, "utter_ask_delete_confirm")
        payloads = {"/affirm": DELETE_CONFIRMED_PAYLOAD, "/deny": DELETE_CANCELLED_PAYLOAD}
        for message in ask:
            message["buttons"] = [{**b, "payload": payloads.get(b.get("payload"), b.get("payload"))}
                                  for b in message.get("buttons", [])]
        return PrivacyReply(ask)
    if intent.get("name") == "request_data_export":
        export = await build_export(agent, sender_id)
        return PrivacyReply([export_message(sender_id, export)], export=export)
    return None


async def delete_everything(agent: Any, sender_id: str) -> deletion_queue.ConsoleDeletion:
    """The tracker now and, through the console, every hand-off of the conversation — now, or (console
    unreachable) queued durably and retried until done (``rasa_plugins/deletion_queue.py``). The result says
    which, so the user is told the truth."""
    await delete_conversation(agent, sender_id)
    return await deletion_queue.delete_handoffs(agent, sender_id)
