"""What happens to a Telegram message: queued, sent to Rasa, answered; retried when Rasa is down.

Every user message (text or button payload) is written to ``telegram_pending`` before Rasa is asked and
removed once Rasa answered, so a message is never lost: if Rasa is down the user gets "gleich wieder da" once,
and a background task sends the queued messages again (in order, per chat) with growing pauses until Rasa
answers. Messages of one chat are handled one after another (a lock per chat).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import defaultdict
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot, InlineKeyboardMarkup, InputFile
from telegram.constants import ChatAction
from telegram.error import TelegramError

from channels.telegram import store, texts
from channels.telegram.delivery import DeliveryFailed, button_rows, keyboard, send, with_retry
from channels.telegram.logs import log_event
from channels.telegram.rasa import RasaClient, RasaRefused, RasaUnavailable
from channels.telegram.render import Outgoing, render
from core.db import session_scope
from core.protocol import export_of, is_deleted_notice, outbox_id_of

MAX_RETRY_PAUSE = 60.0


class Bridge:
    def __init__(self, bot: Bot, rasa: RasaClient, factory: sessionmaker[Session], *,
                 retry_interval: float = 5.0, send_attempts: int = 5) -> None:
        self.bot = bot
        self.rasa = rasa
        self.factory = factory
        self.retry_interval = retry_interval
        self.send_attempts = send_attempts
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._wake = asyncio.Event()

    # --- incoming -----------------------------------------------------------------------------------------

    async def user_message(self, chat_id: int, text: str, update_id: int | None) -> None:
        """A text or a button payload from the user: queue it, then try to answer everything queued."""
        with session_scope(self.factory) as session:
            fresh = store.enqueue(session, chat_id, text, update_id, bot_id=self.bot.id)
        if not fresh:
            log_event("telegram_duplicate_update", update_id=update_id)
            return
        await self.drain(chat_id)

    async def drain(self, chat_id: int) -> bool:
        """Send this chat's queued messages to Rasa in order; False if Rasa is unavailable (stays queued)."""
        async with self._locks[chat_id]:
            while True:
                with session_scope(self.factory) as session:
                    item = store.next_pending(session, chat_id)
                    if item is None:
                        return True
                    item_id, text, notified = item.id, item.text, item.notified
                    conversation_id = store.conversation_for(session, chat_id)
                await self._typing(chat_id)
                started = time.monotonic()
                try:
                    messages = await self.rasa.send(conversation_id, text)
                except RasaUnavailable as exc:
                    await self._rasa_down(chat_id, item_id, notified, str(exc))
                    return False
                except RasaRefused as exc:
                    log_event("rasa_refused", level=logging.WARNING, conversation=conversation_id, error=str(exc))
                    messages = [{"text": texts.REFUSED}]
                self._done(item_id)
                log_event("rasa_answered", conversation=conversation_id, messages=len(messages),
                          ms=round((time.monotonic() - started) * 1000))
                await self.deliver(chat_id, messages)

    def _done(self, item_id: int) -> None:
        with session_scope(self.factory) as session:
            item = session.get(store.TelegramPending, item_id)
            if item is not None:
                session.delete(item)

    async def _rasa_down(self, chat_id: int, item_id: int, notified: bool, reason: str) -> None:
        with session_scope(self.factory) as session:
            item = session.get(store.TelegramPending, item_id)
            if item is not None:
                item.attempts += 1
                item.notified = True
        log_event("rasa_unavailable", level=logging.WARNING, reason=reason, queued_item=item_id)
        if not notified:
            await self.say(chat_id, texts.BE_RIGHT_BACK)
        self._wake.set()

    async def _typing(self, chat_id: int) -> None:
        try:
            await self.bot.send_chat_action(chat_id, ChatAction.TYPING)
        except TelegramError:
            pass  # only a hint; the answer matters

    # --- outgoing -----------------------------------------------------------------------------------------

    async def deliver(self, chat_id: int, messages: list[dict[str, Any]]) -> bool:
        """Rasa-style messages to the chat. A ``conversation_deleted`` notice forgets the chat's mapping."""
        delivered = True
        for message in messages:
            if is_deleted_notice(message):
                self.forget(chat_id)
                continue
            export = export_of(message)
            if export is not None:  # "Meine Daten" (/meinedaten): the export as a JSON file
                delivered = await self._send_export(chat_id, export) and delivered
                continue
            for outgoing in render(message):
                delivered = await self._send(chat_id, outgoing) and delivered
        return delivered

    async def _deliver_outbox(self, chat_id: int, message: dict[str, Any], outbox_id: int) -> bool:
        """An outbox message part by part, in order: each part sent is recorded, the first failure stops, and the
        next try (the collector's) sends only the parts that did not go out, so none is shown twice."""
        parts = [] if is_deleted_notice(message) or export_of(message) is not None else render(message)
        if not parts:
            delivered = await self.deliver(chat_id, [message])
        else:
            with session_scope(self.factory) as session:
                done = store.outbox_parts_sent(session, outbox_id)
            for index in range(done, len(parts)):
                if not await self._send(chat_id, parts[index]):
                    log_event("push_partly_delivered", parts_sent=index, parts=len(parts))
                    return False
                with session_scope(self.factory) as session:
                    store.record_outbox_part(session, outbox_id, index + 1)
            delivered = True
        if delivered:
            with session_scope(self.factory) as session:
                store.record_outbox_delivered(session, outbox_id)
        return delivered

    async def _send_export(self, chat_id: int, export: dict[str, Any]) -> bool:
        data = json.dumps(export, ensure_ascii=False, indent=2).encode("utf-8")
        try:
            await with_retry(lambda: self.bot.send_document(
                chat_id, document=InputFile(data, filename=texts.EXPORT_FILENAME), caption=texts.EXPORT_CAPTION,
            ), what="sendDocument", attempts=self.send_attempts)
        except (DeliveryFailed, TelegramError) as exc:
            log_event("telegram_send_failed", level=logging.ERROR, error=type(exc).__name__)
            return False
        log_event("export_sent", size=len(data))
        return True

    async def say(self, chat_id: int, html_text: str, markup: InlineKeyboardMarkup | None = None) -> bool:
        """A text of the bridge itself (already HTML)."""
        return await self._send(chat_id, Outgoing(html_text), markup)

    async def _send(self, chat_id: int, outgoing: Outgoing, markup: InlineKeyboardMarkup | None = None) -> bool:
        if markup is None and outgoing.buttons:
            with session_scope(self.factory) as session:
                rows = button_rows([(b.title, store.callback_data(session, b.payload)) for b in outgoing.buttons])
            markup = keyboard(rows)
        try:
            await send(self.bot, chat_id, outgoing, markup, attempts=self.send_attempts)
        except (DeliveryFailed, TelegramError) as exc:
            log_event("telegram_send_failed", level=logging.ERROR, error=type(exc).__name__)
            return False
        return True

    def knows(self, conversation_id: str) -> bool:
        with session_scope(self.factory) as session:
            return store.chat_for(session, conversation_id) is not None

    async def push(self, conversation_id: str, message: dict[str, Any]) -> bool:
        """An adviser reply (or the bot's "I'm back") from the console; False if the chat is unknown.

        A message with an outbox id is shown once: the console's push and the collector may bring the same reply
        (the collector read it before the push was confirmed), so the second one is confirmed without sending."""
        outbox_id = outbox_id_of(message)
        with session_scope(self.factory) as session:
            chat_id = store.chat_for(session, conversation_id)
        if chat_id is None:
            log_event("push_unknown_conversation", level=logging.WARNING, conversation=conversation_id)
            return False
        async with self._locks[chat_id]:  # the same reply arriving twice waits here for the first
            if outbox_id is not None:
                with session_scope(self.factory) as session:
                    if store.outbox_delivered(session, outbox_id):
                        log_event("push_duplicate_skipped", conversation=conversation_id, outbox_id=outbox_id)
                        return True
            if outbox_id is None:
                delivered = await self.deliver(chat_id, [message])
            else:
                delivered = await self._deliver_outbox(chat_id, message, outbox_id)
        log_event("push_delivered" if delivered else "push_failed", conversation=conversation_id)
        return delivered

    # --- deletion -----------------------------------------------------------------------------------------

    async def delete(self, chat_id: int) -> str | None:
        """Delete tracker and hand-offs (through Rasa's REST channel), then the mapping and the queue. Returns the
        text for the user: done, or done here with the counselling side queued; None if nothing could be deleted."""
        complete = True
        with session_scope(self.factory) as session:
            conversation_id = store.existing_conversation(session, chat_id)
        if conversation_id is not None:
            try:
                complete = await self.rasa.delete(conversation_id)
            except (RasaUnavailable, RasaRefused) as exc:
                log_event("delete_failed", level=logging.ERROR, conversation=conversation_id, error=str(exc))
                return None
        self.forget(chat_id)
        log_event("chat_deleted", conversation=conversation_id, complete=complete)
        return texts.DELETED if complete else f"{texts.DELETED}\n\n{texts.DELETE_PENDING}"

    def forget(self, chat_id: int) -> None:
        with session_scope(self.factory) as session:
            store.forget_chat(session, chat_id)

    # --- background: queued messages while Rasa was down ----------------------------------------------------

    async def retry_forever(self) -> None:
        """Re-send queued messages with growing pauses while any are queued; sleeps until woken otherwise."""
        pause = self.retry_interval
        while True:
            self._wake.clear()  # before looking, so a failure reported meanwhile is not missed
            with session_scope(self.factory) as session:
                chats = store.chats_with_pending(session)
            if not chats:
                pause = self.retry_interval
                with session_scope(self.factory) as session:
                    store.prune_updates(session)  # at start, then at least hourly
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=3600)
                continue
            await asyncio.sleep(pause)
            results = [await self.drain(chat_id) for chat_id in chats]
            pause = self.retry_interval if all(results) else min(pause * 2, MAX_RETRY_PAUSE)
