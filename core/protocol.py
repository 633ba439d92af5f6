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

REST_WEBHOOK_PATH = "/webhooks/rest/webhook"
REST_OUTBOX_PATH = "/webhooks/rest/outbox"
REST_DELETE_PATH = "/webhooks/rest/delete"

CONSOLE_INBOUND_PATH = "/api/inbound"
CONSOLE_OUTBOX_PATH = "/api/outbox"  # + "/{conversation_id}"
CONSOLE_CONVERSATIONS_PATH = "/api/conversations"  # + "/{conversation_id}" (DELETE)
CONSOLE_OUTBOX_PENDING_PATH = "/api/outbox-pending"  # ?channel=telegram
CONSOLE_OUTBOX_DELIVERED_PATH = "/api/outbox-delivered"

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
PSEUDONYM_PREFIX = "G-"  # what advisers and logs see instead of a conversation id (see pseudonym())

# --- limits (the same on both sides) -----------------------------------------------------------------------------

MAX_MESSAGE_LENGTH = 4000  # characters of one user message; Rasa's REST channel answers longer ones with a request
# to send shorter parts (utter_message_too_long) and does not process them
MAX_BUTTONS = 10  # buttons of one outgoing bot message (Telegram's inline keyboard and the web chat stay usable)

# --- message markers -------------------------------------------------------------------------------------------

DELETE_MARKER = "delete_conversation"  # custom payload of action_delete_conversation
DELETED_NOTICE = "conversation_deleted"  # custom payload the client gets after deletion: forget the session id
FROM_KEY = "from"
FROM_ADVISER = "adviser"  # custom.from of a message written by an adviser (channels label it "Beratung")


class BotMessage(TypedDict, total=False):
    """A Rasa-style bot message as it travels REST channel → console → outbox → channel."""

    recipient_id: str
    text: str
    buttons: list[dict[str, Any]]
    image: str
    custom: dict[str, Any]


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


def pseudonym(key: str, conversation_id: str) -> str:
    """A stable pseudonym of a conversation id, keyed with ``PSEUDONYM_KEY`` (HMAC-SHA256, 50 bits in base32,
    e.g. ``G-K7QX-3MZP-AB``): advisers see it instead of the raw id and logs contain only it. Without the key it
    cannot be turned back into the id or computed from an id. Both sides must use the same key."""
    digest = hmac.new(key.encode("utf-8"), conversation_id.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
    code = base64.b32encode(digest[:10]).decode("ascii")[:10]
    return f"{PSEUDONYM_PREFIX}{code[:4]}-{code[4:8]}-{code[8:]}"
