"""Rasa's Facebook Messenger connector, made aware of the human hand-off (runs INSIDE the Rasa server).

Everything of Rasa's connector stays as it is (URL ``/webhooks/facebook/webhook``, verify token, X-Hub-Signature
check, parsing, sending through the Graph API); registered in bot/credentials.yml as
``rasa_plugins.messenger_channel.HandoffFacebookInput`` with the same settings as Rasa's ``facebook`` entry.
Added: while the conversation is paused (an adviser has it), the user's message is stored by Rasa as before
*and* forwarded to the adviser console (``/api/inbound``, like the REST channel); the user gets the adviser's pending replies or the
acknowledgement ``utter_handoff_waiting``; and "Lösch meine Daten" deletes the conversation and its hand-offs
like on the REST channel (the deletion marker is not sent to Messenger). Adviser replies themselves are pushed by
the console through the Graph API (``channels/push/messenger.py``, ``graph_pusher``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.facebook import FacebookInput
from sanic import Blueprint, Sanic
from sanic.exceptions import SanicException

from core.protocol import CHANNEL_FACEBOOK, is_delete_marker, is_deleted_notice, is_export_marker, outbox_ids
from rasa_plugins import console_client, deletion_queue, usage
from rasa_plugins.console_client import ConsoleUnavailable
from rasa_plugins.export import build_export, summary_text
from rasa_plugins.rest_channel import delete_everything, paused_reply, privacy_request_while_paused
from rasa_plugins.tracker_ops import is_paused

log = logging.getLogger(__name__)
RASA_APP = "rasa_server"


class HandoffFacebookInput(FacebookInput):
    @classmethod
    def name(cls) -> str:
        return CHANNEL_FACEBOOK  # same URL and input channel name as Rasa's connector

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        return super().blueprint(handoff_aware(on_new_message))


def _agent() -> Any:
    try:
        return Sanic.get_app(RASA_APP).ctx.agent
    except SanicException:  # another app name (e.g. rasa_core_no_api without --enable-api)
        return Sanic.get_app().ctx.agent


class DeletionAwareOutput(OutputChannel):
    """Passes every bot message on to Messenger, except the deletion marker of ``action_delete_conversation``
    (a JSON message Messenger could not show): it is remembered, and the conversation deleted after the turn."""

    def __init__(self, inner: OutputChannel) -> None:
        self.inner = inner
        self.deletion_requested = False
        self.export_requested = False

    @classmethod
    def name(cls) -> str:
        return HandoffFacebookInput.name()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        if is_delete_marker(message):
            self.deletion_requested = True
            return
        if is_export_marker(message):  # "Meine Daten": Messenger gets a summary after the turn (export.py)
            self.export_requested = True
            return
        await self.inner.send_response(recipient_id, message)


def handoff_aware(on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Callable[[UserMessage], Awaitable[Any]]:
    async def handle(message: UserMessage) -> None:
        agent = _agent()
        paused = await is_paused(agent, message.sender_id)
        output = DeletionAwareOutput(message.output_channel)
        message.output_channel = output
        await on_new_message(message)  # Rasa stores the message (and, if not paused, answers)
        if output.deletion_requested:
            result = await delete_everything(agent, message.sender_id)
            if not result.done:
                await output.inner.send_response(message.sender_id, {"text": deletion_queue.PENDING_TEXT})
            return
        if output.export_requested:
            summary = summary_text(await build_export(agent, message.sender_id))
            await output.inner.send_response(message.sender_id, {"text": summary})
        if not paused:
            usage.report_turn(agent, message.sender_id, HandoffFacebookInput.name())
            return
        handled = await privacy_request_while_paused(agent, message.sender_id, message.text or "")
        if handled is not None:  # "Lösch meine Daten" / "Meine Daten" while an adviser has the conversation
            if handled.export is not None:
                handled.messages = [{"text": summary_text(handled.export)}]
            for reply in handled.messages:
                if not is_deleted_notice(reply):
                    await output.inner.send_response(message.sender_id, {k: v for k, v in reply.items()
                                                                         if k != "recipient_id"})
            return
        replies = await paused_reply(agent, message.sender_id, message.text or "", HandoffFacebookInput.name())
        for reply in replies:
            reply = {k: v for k, v in reply.items() if k != "recipient_id"}  # send_response takes it separately
            await output.inner.send_response(message.sender_id, reply)
        await acknowledge_sent(message.sender_id, replies)

    return handle


async def acknowledge_sent(sender_id: str, replies: list[dict[str, Any]]) -> None:
    """The adviser replies just sent to Messenger are delivered (if this fails they are sent again next time)."""
    try:
        await console_client.acknowledge(sender_id, outbox_ids(replies))
    except ConsoleUnavailable:
        log.warning("adviser replies sent to Messenger but not acknowledged")
