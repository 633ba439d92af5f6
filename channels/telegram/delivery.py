"""Calls to Telegram with retries: network errors and timeouts back off exponentially, 429 waits exactly as
long as Telegram's ``retry_after`` says. Bad requests and blocked bots are not retried."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import warnings
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from channels.telegram.logs import log_event
from channels.telegram.render import Outgoing, plain_text

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_BACKOFF = 30.0
MAX_RETRY_AFTER = 120.0  # longer flood waits give up (the caller keeps the message where it can)


class DeliveryFailed(Exception):
    """Telegram could not be reached after all attempts (or refused the message)."""


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns about int vs. timedelta; both are handled
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


async def with_retry(call: Callable[[], Awaitable[T]], *, what: str, attempts: int = 5,
                     base_delay: float = 0.5) -> T:
    delay = base_delay
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except RetryAfter as exc:
            wait = retry_after_seconds(exc)
            if attempt == attempts or wait > MAX_RETRY_AFTER:
                raise DeliveryFailed(f"{what}: flood control ({wait:.0f} s)") from exc
            log_event("telegram_retry", level=logging.WARNING, method=what, reason="429", wait_s=wait,
                      attempt=attempt)
            await asyncio.sleep(wait)
        except (BadRequest, Forbidden):
            raise
        except NetworkError as exc:  # includes TimedOut
            if attempt == attempts:
                raise DeliveryFailed(f"{what}: {type(exc).__name__}") from exc
            log_event("telegram_retry", level=logging.WARNING, method=what, reason=type(exc).__name__,
                      wait_s=delay, attempt=attempt)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF)
    raise DeliveryFailed(what)  # pragma: no cover - the loop always returns or raises


def keyboard(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup | None:
    """Inline keyboard from rows of (title, callback_data)."""
    if not rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d) for t, d in row] for row in rows])


def button_rows(buttons: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Two buttons per row when the titles are short, else one (readable on a phone)."""
    per_row = 2 if all(len(title) <= 18 for title, _ in buttons) else 1
    return [buttons[i:i + per_row] for i in range(0, len(buttons), per_row)]


async def send(bot: Bot, chat_id: int, message: Outgoing, markup: InlineKeyboardMarkup | None = None,
               attempts: int = 5) -> Message:
    """One message in HTML parse mode; if Telegram cannot parse it (should not happen), as plain text."""
    no_preview = LinkPreviewOptions(is_disabled=True)
    try:
        return await with_retry(
            lambda: bot.send_message(chat_id, message.html, parse_mode=ParseMode.HTML, reply_markup=markup,
                                     link_preview_options=no_preview),
            what="sendMessage", attempts=attempts,
        )
    except BadRequest as exc:
        if "parse" not in str(exc).lower():
            raise
        log_event("telegram_html_rejected", level=logging.WARNING)
        return await with_retry(
            lambda: bot.send_message(chat_id, plain_text(message.html), reply_markup=markup,
                                     link_preview_options=no_preview),
            what="sendMessage", attempts=attempts,
        )
