"""Rasa's REST channel, made safe (runs INSIDE the Rasa server process, Python 3.10 / Rasa 3.6).

Registered in bot/credentials.yml instead of the built-in ``rest`` channel; the URL stays
``/webhooks/rest/webhook`` and the request/response format is unchanged. It adds three things:

* an empty or whitespace-only message gets a clear answer (``utter_empty_message``) and is not processed;
* a user message never goes unanswered: if the turn produced no bot message (the action server is down,
  an action crashed) the user gets ``utter_technical_problem``, unless the conversation is paused;
* a bot message ``{"custom": {"delete_conversation": true}}`` (sent by ``action_delete_conversation``) is
  removed from the reply and the stored conversation is deleted after the turn.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

log = logging.getLogger(__name__)

DELETE_MARKER = "delete_conversation"
MAX_SENDER_LENGTH = 200


class SafeRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

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
                return response.json(await _render(agent, sender_id, "utter_empty_message"))

            collector = CollectingOutputChannel()
            await on_new_message(
                UserMessage(
                    text,
                    collector,
                    sender_id,
                    input_channel=self._extract_input_channel(request),
                    metadata=self.get_metadata(request),
                )
            )
            messages = [m for m in collector.messages if not _is_delete_marker(m)]
            if len(messages) != len(collector.messages):
                await delete_conversation(agent, sender_id)
            elif not messages and not await _is_paused(agent, sender_id):
                log.warning("no bot message for a user message (conversation %s)", sender_id)
                messages = await _render(agent, sender_id, "utter_technical_problem")
            return response.json(messages)

        return webhook


def _is_delete_marker(message: dict[str, Any]) -> bool:
    custom = message.get("custom")
    return isinstance(custom, dict) and bool(custom.get(DELETE_MARKER))


async def _render(agent: Any, sender_id: str, utter_action: str) -> list[dict[str, Any]]:
    """A domain response, with the persona (du/Sie) of this conversation."""
    tracker = await agent.tracker_store.get_or_create_tracker(sender_id)
    message = await agent.nlg.generate(utter_action, tracker, "rest")
    if not message:
        return []
    message = {k: v for k, v in message.items() if k in ("text", "buttons", "image", "custom") and v}
    return [{"recipient_id": sender_id, **message}]


async def _is_paused(agent: Any, sender_id: str) -> bool:
    tracker = await agent.tracker_store.retrieve(sender_id)
    return bool(tracker and tracker.is_paused())


def _innermost(store: Any) -> Any:
    while hasattr(store, "_tracker_store"):
        store = store._tracker_store
    return store


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
