"""The message protocol between the processes: markers, header names, paths, default addresses, message shapes.

Imported on both sides: by the application (Python 3.11) and by the code inside the Rasa server
(``rasa_plugins``, Python 3.10 with Rasa's pinned dependencies). Therefore: standard library only, no import of
anything else in this project, syntax that Python 3.10 reads. Every wire name is written here once; the
constructors and predicates below are the only places that spell out a message's shape (as ``rasa_sdk.events``
does for events).

Who talks to whom:

* channel → Rasa: ``POST /webhooks/rest/webhook`` (Rasa's REST channel, ``rasa_plugins.rest_channel``);
  ``POST /webhooks/rest/delete`` with :data:`INBOUND_TOKEN_HEADER` (a channel in its own process deletes a
  conversation); ``GET /webhooks/rest/outbox`` (pending adviser replies).
* Rasa's REST channel → console: :data:`CONSOLE_INBOUND_PATH`, :data:`CONSOLE_OUTBOX_PATH`,
  :data:`CONSOLE_CONVERSATIONS_PATH`, all with :data:`INBOUND_TOKEN_HEADER`.
* console → push channel (Telegram bridge): :data:`PUSH_PATH` with :data:`INBOUND_TOKEN_HEADER`,
  body :class:`PushRequest`; a channel collects missed pushes at :data:`CONSOLE_OUTBOX_PENDING_PATH` and confirms
  them at :data:`CONSOLE_OUTBOX_DELIVERED_PATH`.
* action server → channel (inside a bot turn): a bot message :func:`delete_marker` asks the REST channel to delete
  the conversation after the turn; the client then gets :func:`deleted_notice`.
* console → Rasa's HTTP API: ``resume`` event, then :data:`BACK_ACTION` (``?token=`` = Rasa's ``--auth-token``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any, TypedDict

# --- default addresses (loopback; every process can be pointed elsewhere by its settings) --------------------

DEFAULT_RASA_PORT = 5005
DEFAULT_ACTION_PORT = 5055
DEFAULT_CONSOLE_PORT = 8000
DEFAULT_WEBCHAT_PORT = 8080
DEFAULT_TELEGRAM_PORT = 8081
LOOPBACK = "127.0.0.1"
DEFAULT_RASA_URL = f"http://{LOOPBACK}:{DEFAULT_RASA_PORT}"
DEFAULT_CONSOLE_URL = f"http://{LOOPBACK}:{DEFAULT_CONSOLE_PORT}"

# --- headers and paths -----------------------------------------------------------------------------------------

INBOUND_TOKEN_HEADER = "X-Inbound-Token"  # shared secret of Rasa's REST channel, the console and push channels
ACTION_TOKEN_HEADER = "X-Action-Token"  # shared secret Rasa sends on every call of the action server
# (bot/endpoints*.yml `headers:`; checked by actions/server.py)
ACTION_HEALTH_PATH = "/health"  # the action server's health check (open, no token)
# Rasa's first NLU component posts {"text": …} here (with ACTION_TOKEN_HEADER) as a message arrives; the action server
# embeds it for the FAQ retrieval while Rasa's NLU and policies run, and answers 202 at once (actions/faq_prefetch.py)
ACTION_FAQ_PREFETCH_PATH = "/faq/prefetch"
FAQ_PREFETCH_MAX_CHARS = 2000  # longer messages are not prefetched: the action embeds them itself if it needs to

CONVERSATION_TOKEN_HEADER = "X-Conversation-Token"  # the secret of one REST/web conversation (see session_token())

REST_WEBHOOK_PATH = "/webhooks/rest/webhook"
REST_OUTBOX_PATH = "/webhooks/rest/outbox"
REST_DELETE_PATH = "/webhooks/rest/delete"
REST_OUTBOX_ACK_PATH = "/webhooks/rest/outbox/ack"  # the client confirms the outbox messages it displayed
REST_BRIDGE_PATH = "/webhooks/rest/bridge"  # the Telegram bridge's own entry (X-Inbound-Token; sender tg-…)

CONSOLE_INBOUND_PATH = "/api/inbound"
CONSOLE_OUTBOX_PATH = "/api/outbox"  # + "/{conversation_id}"
CONSOLE_CONVERSATIONS_PATH = "/api/conversations"  # + "/{conversation_id}" (DELETE)
CONSOLE_OUTBOX_PENDING_PATH = "/api/outbox-pending"  # ?channel=telegram
CONSOLE_OUTBOX_DELIVERED_PATH = "/api/outbox-delivered"
CONSOLE_USAGE_PATH = "/api/usage"  # one bot turn: pseudonym, intent, confidence; text only if missed (UsageReport)
CONSOLE_EXPORT_PATH = "/api/export"  # + "/{conversation_id}" (GET): the conversation's hand-offs for its export
CONSOLE_OUTBOX_ACK_PATH = "/api/outbox-ack"  # {"conversation_id", "ids"}: delivered, scoped to that conversation

PUSH_PATH = "/internal/push"  # on a channel process that takes adviser replies by push

# --- Rasa ------------------------------------------------------------------------------------------------------

PAUSE_EVENT = "pause"  # ConversationPaused: an adviser has the conversation
RESUME_EVENT = "resume"
BACK_ACTION = "utter_handoff_back"  # executed when an adviser closes a hand-off ("Ich bin wieder da")

# --- channels and conversation ids -----------------------------------------------------------------------------

CHANNEL_REST = "rest"
CHANNEL_TELEGRAM = "telegram"
CHANNEL_FACEBOOK = "facebook"
TELEGRAM_CONVERSATION_PREFIX = "tg-"  # conversation ids of the Telegram bridge (never the chat id)
WEB_CONVERSATION_PREFIX = "web-"  # conversation ids the REST channel generates for a new web/REST conversation
# Not accepted as a client-chosen sender on the public REST webhook: other channels' ids and the generated ones.
# (Messenger's ids are page-scoped numbers: ids of digits only are refused as well.)
RESERVED_CONVERSATION_PREFIXES = (TELEGRAM_CONVERSATION_PREFIX, WEB_CONVERSATION_PREFIX)
PSEUDONYM_PREFIX = "G-"  # what advisers and logs see instead of a conversation id (see pseudonym())

# --- limits (the same on both sides) -----------------------------------------------------------------------------

MAX_MESSAGE_LENGTH = 4000  # characters of one user message; Rasa's REST channel answers longer ones with a request
# to send shorter parts (utter_message_too_long) and does not process them
MAX_BUTTONS = 10  # buttons of one outgoing bot message (Telegram's inline keyboard and the web chat stay usable)
MISSED_CONFIDENCE = 0.7  # a turn whose intent has less confidence counts as missed (the text goes to /verpasst)
MAX_MISSED_TEXT = 500  # characters of a missed message that are kept

# --- message markers -------------------------------------------------------------------------------------------

DELETE_MARKER = "delete_conversation"  # custom payload of action_delete_conversation
DELETED_NOTICE = "conversation_deleted"  # custom payload the client gets after deletion: forget the session id
FROM_KEY = "from"
FROM_ADVISER = "adviser"  # custom.from of a message written by an adviser (channels label it "Beratung")
EXPORT_MARKER = "export_conversation"  # custom payload of action_data_export: the channel adds the export
EXPORT_KEY = "data_export"  # custom.data_export: the user's export (Art. 15 DSGVO), a JSON object
EXPORT_FORMAT = "bo-hessen-export/1"  # "format" of that object
# While an adviser has the conversation, Rasa runs no dialogue; the REST channel (and Messenger's) then handles
# "Lösch meine Daten" itself: it asks for confirmation with these two payloads and deletes on the first.
DELETE_CONFIRMED_PAYLOAD = "/delete_conversation_confirmed"
DELETE_CANCELLED_PAYLOAD = "/delete_conversation_cancelled"
OUTBOX_ID_KEY = "outbox_id"  # custom.outbox_id of a message from the outbox: the client acknowledges it by this id
# intent.safety_net of a parsed message: the safety patterns (rasa_plugins/safety.py), not only DIET, saw a crisis or
# discrimination. Without it the crisis help (and the discrimination answer) may add the FAQ article retrieval is
# sure of, after the numbers: DIET alone also takes ordinary rights questions with strong words for a crisis.
SAFETY_NET_KEY = "safety_net"


class BotMessage(TypedDict, total=False):
    """A Rasa-style bot message as it travels REST channel → console → outbox → channel."""

    recipient_id: str
    text: str
    buttons: list[dict[str, Any]]
    image: str
    custom: dict[str, Any]


class UsageReport(TypedDict):
    """Body of ``POST {CONSOLE_USAGE_PATH}`` (Rasa's REST channel → console, after a bot turn; answered 204)."""

    pseudonym: str
    channel: str
    intent: str | None
    confidence: float | None
    missed: bool
    text: str | None  # only when missed, at most MAX_MISSED_TEXT characters


class PushRequest(TypedDict):
    """Body of ``POST {PUSH_PATH}``: one message for one conversation; answered ``{"delivered": bool}``."""

    conversation_id: str
    message: BotMessage


def _custom(message: dict[str, Any]) -> dict[str, Any]:
    custom = message.get("custom")
    return custom if isinstance(custom, dict) else {}


def adviser_message(text: str) -> BotMessage:
    """A bot message written by an adviser."""
    return {"text": text, "custom": {FROM_KEY: FROM_ADVISER}}


def is_from_adviser(message: dict[str, Any]) -> bool:
    return _custom(message).get(FROM_KEY) == FROM_ADVISER


def delete_marker() -> dict[str, Any]:
    """The ``json_message`` that ``action_delete_conversation`` sends: the channel deletes after the turn."""
    return {DELETE_MARKER: True}


def is_delete_marker(message: dict[str, Any]) -> bool:
    return bool(_custom(message).get(DELETE_MARKER))


def deleted_notice(recipient_id: str) -> BotMessage:
    """Tells the client (web chat, Telegram bridge) that the conversation is gone: forget the session id."""
    return {"recipient_id": recipient_id, "custom": {DELETED_NOTICE: True}}


def is_deleted_notice(message: dict[str, Any]) -> bool:
    return bool(_custom(message).get(DELETED_NOTICE))


def with_button_limit(message: dict[str, Any]) -> dict[str, Any]:
    """The message with at most :data:`MAX_BUTTONS` buttons (a shortened copy if it had more)."""
    buttons = message.get("buttons")
    if isinstance(buttons, list) and len(buttons) > MAX_BUTTONS:
        return {**message, "buttons": buttons[:MAX_BUTTONS]}
    return message


def wants_faq_prefetch(text: object) -> bool:
    """A message worth embedding ahead: text, not a button payload (``/intent…``), within FAQ_PREFETCH_MAX_CHARS."""
    return (isinstance(text, str) and bool(text.strip()) and not text.startswith("/")
            and len(text) <= FAQ_PREFETCH_MAX_CHARS)


def pseudonym(key: str, conversation_id: str) -> str:
    """A stable pseudonym of a conversation id, keyed with ``PSEUDONYM_KEY`` (HMAC-SHA256, 50 bits in base32,
    e.g. ``G-K7QX-3MZP-AB``): advisers see it instead of the raw id and logs contain only it. Without the key it
    cannot be turned back into the id or computed from an id. Both sides must use the same key."""
    digest = hmac.new(key.encode("utf-8"), conversation_id.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
    code = base64.b32encode(digest[:10]).decode("ascii")[:10]
    return f"{PSEUDONYM_PREFIX}{code[:4]}-{code[4:8]}-{code[8:]}"


def is_reserved_conversation_id(conversation_id: str) -> bool:
    """Ids a client may not choose on the public REST webhook: other channels' (Telegram ``tg-…``, Messenger's
    numeric ids) and the ``web-…`` ids the server generates."""
    return conversation_id.startswith(RESERVED_CONVERSATION_PREFIXES) or conversation_id.isdigit()


def _mac(key: str, conversation_id: str) -> str:
    digest = hmac.new(key.encode("utf-8"), b"rest-conversation\x00" + conversation_id.encode("utf-8", "surrogatepass"),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def session_token(key: str, conversation_id: str) -> str:
    """The secret of one REST/web conversation: its id and an HMAC-SHA256 of it under ``REST_SESSION_KEY``
    (``v1.<id, base64url>.<mac>``). The server issues it in :data:`CONVERSATION_TOKEN_HEADER`; every later call
    presents it. Stateless, so every Rasa replica with the same key accepts it."""
    encoded = base64.urlsafe_b64encode(conversation_id.encode("utf-8", "surrogatepass")).decode("ascii").rstrip("=")
    return f"v1.{encoded}.{_mac(key, conversation_id)}"


def conversation_of(key: str, token: str) -> str | None:
    """The conversation id of a genuine :func:`session_token`; None for anything else (forged, other key, junk)."""
    if not key or not isinstance(token, str) or len(token) > 600 or token.count(".") != 2:
        return None
    version, encoded, mac = token.split(".")
    if version != "v1" or not encoded or not mac:
        return None
    try:
        conversation_id = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    if not conversation_id or not hmac.compare_digest(mac, _mac(key, conversation_id)):
        return None
    return conversation_id


def outbox_id_of(message: dict[str, Any]) -> int | None:
    """The outbox id of a message that came from the console's outbox (``custom.outbox_id``), else None."""
    value = _custom(message).get(OUTBOX_ID_KEY)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def with_outbox_id(message: dict[str, Any], outbox_id: int) -> dict[str, Any]:
    """A copy of ``message`` that carries its outbox id: the channel acknowledges it, or skips it if it already
    showed it (a push and a collection of the same reply racing)."""
    return {**message, "custom": {**_custom(message), OUTBOX_ID_KEY: outbox_id}}


def outbox_ids(messages: list[dict[str, Any]]) -> list[int]:
    """The outbox ids of the messages that came from the outbox (to acknowledge them)."""
    ids = (outbox_id_of(m) for m in messages)
    return [i for i in ids if i is not None]


def export_marker() -> dict[str, Any]:
    """The ``json_message`` that ``action_data_export`` sends: the channel replaces it with the export."""
    return {EXPORT_MARKER: True}


def is_export_marker(message: dict[str, Any]) -> bool:
    return bool(_custom(message).get(EXPORT_MARKER))


def export_message(recipient_id: str, export: dict[str, Any]) -> BotMessage:
    """The message that carries a conversation's export to its client (web chat: download; Telegram: a file)."""
    return {"recipient_id": recipient_id, "custom": {EXPORT_KEY: export}}


def export_of(message: dict[str, Any]) -> dict[str, Any] | None:
    export = _custom(message).get(EXPORT_KEY)
    return export if isinstance(export, dict) else None
