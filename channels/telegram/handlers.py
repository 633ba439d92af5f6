"""python-telegram-bot handlers: commands, texts, button presses, everything else. Private chats only."""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from channels.telegram import store, texts
from channels.telegram.bridge import Bridge
from channels.telegram.delivery import keyboard
from channels.telegram.logs import log_event
from core.db import session_scope

DELETE_YES = "tg:delete:yes"
DELETE_NO = "tg:delete:no"
FAILED_UPDATES = "failed_updates"  # bot_data key: updates whose handling failed (the webhook answers 500)
PRIVATE = filters.ChatType.PRIVATE
NEW_MESSAGES = filters.UpdateType.MESSAGE  # edits of old messages are ignored

# Commands that are a Rasa intent: the bridge sends the intent, Rasa answers in du or Sie.
INTENT_COMMANDS = {"start": "/greet", "hilfe": "/help", "help": "/help", "neustart": "/restart",
                   "datenschutz": "/ask_privacy", "meinedaten": "/request_data_export"}
# Bridge texts sent before Rasa's answer.
COMMAND_NOTES = {"start": texts.START_NOTE, "hilfe": texts.COMMANDS, "help": texts.COMMANDS}


def bridge_of(context: ContextTypes.DEFAULT_TYPE) -> Bridge:
    bridge: Bridge = context.application.bot_data["bridge"]
    return bridge


async def on_intent_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message and update.effective_chat
    command = (update.effective_message.text or "").split()[0].lstrip("/").split("@")[0].lower()
    log_event("telegram_command", command=command, update_id=update.update_id)
    bridge = bridge_of(context)
    if command in COMMAND_NOTES:
        await bridge.say(update.effective_chat.id, COMMAND_NOTES[command])
    await bridge.user_message(update.effective_chat.id, INTENT_COMMANDS[command], update.update_id)


async def on_delete_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat
    log_event("telegram_command", command="loeschen", update_id=update.update_id)
    markup = keyboard([[(texts.DELETE_YES, DELETE_YES)], [(texts.DELETE_NO, DELETE_NO)]])
    await bridge_of(context).say(update.effective_chat.id, texts.DELETE_CONFIRM, markup)


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat
    log_event("telegram_command", command="unknown", update_id=update.update_id)
    await bridge_of(context).say(update.effective_chat.id, texts.COMMANDS)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message and update.effective_chat
    log_event("telegram_text", update_id=update.update_id, chars=len(update.effective_message.text or ""))
    await bridge_of(context).user_message(update.effective_chat.id, update.effective_message.text or "",
                                          update.update_id)


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice, documents, locations …: ask for text."""
    assert update.effective_chat
    log_event("telegram_not_text", update_id=update.update_id)
    await bridge_of(context).say(update.effective_chat.id, texts.PLEASE_TEXT)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and update.effective_chat
    chat_id = update.effective_chat.id
    bridge = bridge_of(context)
    await _answer(query)
    data = query.data or ""
    log_event("telegram_button", update_id=update.update_id)
    if data in (DELETE_YES, DELETE_NO):
        await _remove_keyboard(query)
        if data == DELETE_NO:
            await bridge.say(chat_id, texts.DELETE_CANCELLED)
        else:
            await bridge.say(chat_id, await bridge.delete(chat_id) or texts.DELETE_FAILED)
        return
    with session_scope(bridge.factory) as session:
        payload = store.payload_for(session, data)
    if payload is None:
        await bridge.say(chat_id, texts.BUTTON_EXPIRED)
        return
    await bridge.user_message(chat_id, payload, update.update_id)


async def _answer(query: CallbackQuery) -> None:
    try:
        await query.answer()  # stops the button's spinner
    except TelegramError as exc:
        log_event("telegram_answer_failed", level=logging.WARNING, error=type(exc).__name__)


async def _remove_keyboard(query: CallbackQuery) -> None:
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except TelegramError:
        pass  # the message may be too old to edit; the answer matters


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    if isinstance(update, Update):
        context.application.bot_data.setdefault(FAILED_UPDATES, set()).add(update.update_id)
    log_event("handler_error", level=logging.ERROR, error=type(context.error).__name__,
              update_id=getattr(update, "update_id", None))


def add_handlers(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler(list(INTENT_COMMANDS), on_intent_command, filters=PRIVATE & NEW_MESSAGES))
    application.add_handler(CommandHandler("loeschen", on_delete_command, filters=PRIVATE & NEW_MESSAGES))
    application.add_handler(MessageHandler(PRIVATE & NEW_MESSAGES & filters.COMMAND, on_unknown_command))
    application.add_handler(MessageHandler(PRIVATE & NEW_MESSAGES & filters.TEXT, on_text))
    application.add_handler(MessageHandler(PRIVATE & NEW_MESSAGES & ~filters.TEXT, on_other))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_error_handler(on_error)
