"""Tests of the fake Telegram Bot API, driven by a real python-telegram-bot ``Bot`` over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dtm
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, InvalidToken, NetworkError, RetryAfter
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters
from telegram.warnings import PTBDeprecationWarning

from tests.telegram.fake_bot_api import FakeTelegram, parse_html, parse_markdown_v2

TOKEN = "123:ABC"
CHAT = 4711
T = TypeVar("T")


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram(token=TOKEN) as fake:
        yield fake


def with_bot(tg: FakeTelegram, action: Callable[[Bot], Awaitable[T]], token: str = TOKEN) -> T:
    """Run `action(bot)` with an initialized PTB Bot pointed at the fake."""

    async def main() -> T:
        async with Bot(token, base_url=tg.base_url, base_file_url=tg.base_file_url) as bot:
            return await action(bot)

    return asyncio.run(main())


def keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Weiter", callback_data=data)]])


def test_get_me_returns_the_bot_user(tg: FakeTelegram) -> None:
    me = with_bot(tg, lambda bot: bot.get_me())
    assert me.is_bot and me.username == "test_beruf_bot" and me.can_join_groups is True
    assert [call.method for call in tg.calls] == ["getMe", "getMe"]  # initialize() + explicit call


def test_send_message_ids_increase_per_chat_and_calls_are_recorded(tg: FakeTelegram) -> None:
    async def send(bot: Bot) -> list[int]:
        first = await bot.send_message(
            CHAT, "<b>Hallo</b> &amp; willkommen", parse_mode="HTML", reply_markup=keyboard("weiter")
        )
        second = await bot.send_message(CHAT, "Zweite Nachricht")
        other = await bot.send_message(99, "Anderer Chat")
        assert first.text == "Hallo & willkommen" and first.entities[0].type == "bold"
        assert first.reply_markup == keyboard("weiter") and first.from_user.is_bot
        assert first.chat.type == "private"
        return [first.message_id, second.message_id, other.message_id]

    assert with_bot(tg, send) == [1, 2, 1]
    sent = tg.sent_messages(CHAT)
    assert [m["text"] for m in sent] == ["<b>Hallo</b> &amp; willkommen", "Zweite Nachricht"]
    assert sent[0]["reply_markup"] == {"inline_keyboard": [[{"text": "Weiter", "callback_data": "weiter"}]]}
    assert sent[0]["chat_id"] == CHAT and len(tg.sent_messages()) == 3
    tg.clear()
    assert tg.calls == []


@pytest.mark.parametrize(
    ("text", "parse_mode", "fragment"),
    [
        ("x" * 4097, None, "message is too long"),
        ("<b>" + "x" * 4096 + "</b>", "HTML", None),  # tags do not count
        ("&lt;" * 4097, "HTML", "message is too long"),  # unescaped length counts
        ("", None, "message text is empty"),
        ("<b></b>", "HTML", "message text is empty"),
        ("<b>offen", "HTML", "can't find end tag"),
        ("<div>x</div>", "HTML", 'unsupported start tag "div"'),
        ("a < b", "HTML", "can't parse entities"),
        ("<b>x</i>", "HTML", "unmatched end tag"),
        ("Ende.", "MarkdownV2", "character '.' is reserved"),
        ("*fett", "MarkdownV2", "can't find end of bold entity"),
        ("Ende\\. *fett* _kursiv_ [link](https://example.org)", "MarkdownV2", None),
    ],
)
def test_text_limits_and_entity_parsing(
    tg: FakeTelegram, text: str, parse_mode: str | None, fragment: str | None
) -> None:
    async def send(bot: Bot) -> None:
        await bot.send_message(CHAT, text, parse_mode=parse_mode)

    if fragment is None:
        with_bot(tg, send)
        assert tg.calls_of("sendMessage")[-1].ok
        return
    with pytest.raises(BadRequest) as excinfo:
        with_bot(tg, send)
    assert fragment in str(excinfo.value).lower()
    assert not tg.calls_of("sendMessage")[-1].ok and tg.sent_messages() == []


def test_parsers_compute_plain_text_and_utf16_offsets() -> None:
    assert parse_html('😀 <a href="https://x.de">Link</a>') == (
        "😀 Link",
        [{"type": "text_link", "offset": 3, "length": 4, "url": "https://x.de"}],
    )
    assert parse_markdown_v2("__u__ \\!") == ("u !", [{"type": "underline", "offset": 0, "length": 1}])


def test_callback_data_longer_than_64_bytes_is_rejected(tg: FakeTelegram) -> None:
    with_bot(tg, lambda bot: bot.send_message(CHAT, "ok", reply_markup=keyboard("x" * 64)))
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        with_bot(tg, lambda bot: bot.send_message(CHAT, "zu lang", reply_markup=keyboard("ä" * 33)))


def test_edits_and_callback_queries(tg: FakeTelegram) -> None:
    async def flow(bot: Bot) -> None:
        sent = await bot.send_message(CHAT, "Frage?", reply_markup=keyboard("ja"))
        update = tg.user_callback(CHAT, sent.message_id, "ja")
        assert update["callback_query"]["message"]["reply_markup"] == keyboard("ja").to_dict()
        assert await bot.answer_callback_query(update["callback_query"]["id"]) is True
        edited = await bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=None)
        assert edited.reply_markup is None
        with pytest.raises(BadRequest, match="(?i)message is not modified"):
            await bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=None)
        with pytest.raises(BadRequest, match="(?i)query is too old"):
            await bot.answer_callback_query("unknown")
        assert await bot.send_chat_action(CHAT, "typing") is True

    with_bot(tg, flow)
    assert tg.bot_messages(CHAT)[0].get("reply_markup") is None


def test_fail_next_429_raises_retry_after(tg: FakeTelegram) -> None:
    tg.fail_next("sendMessage", status=429, retry_after=1)
    # PTB 22.8 warns (PTBDeprecationWarning) whenever retry_after is read as an int, even inside
    # RetryAfter.__init__, unless PTB_TIMEDELTA=1 makes it a datetime.timedelta.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        with pytest.raises(RetryAfter) as excinfo:
            with_bot(tg, lambda bot: bot.send_message(CHAT, "Hallo"))
        retry_after = excinfo.value.retry_after
    seconds = retry_after.total_seconds() if isinstance(retry_after, dtm.timedelta) else retry_after
    assert seconds == 1
    failed = tg.calls_of("sendMessage")[-1]
    assert not failed.ok and failed.status == 429
    with_bot(tg, lambda bot: bot.send_message(CHAT, "Hallo"))  # only the next call failed
    assert len(tg.sent_messages(CHAT)) == 1


def test_fail_next_502_and_drop_next_give_network_errors(tg: FakeTelegram) -> None:
    tg.fail_next("sendMessage", status=502)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        with_bot(tg, lambda bot: bot.send_message(CHAT, "Hallo"))
    tg.drop_next("sendMessage")
    with pytest.raises(NetworkError):
        with_bot(tg, lambda bot: bot.send_message(CHAT, "Hallo"))
    assert [call.ok for call in tg.calls_of("sendMessage")] == [False, False]
    assert tg.sent_messages() == []


def test_fail_next_after_lets_calls_through_first(tg: FakeTelegram) -> None:
    tg.fail_next("sendMessage", status=400, description="Bad Request: test", after=2)
    with_bot(tg, lambda bot: bot.send_message(CHAT, "eins"))
    with_bot(tg, lambda bot: bot.send_message(CHAT, "zwei"))
    with pytest.raises(BadRequest, match="(?i)test"):
        with_bot(tg, lambda bot: bot.send_message(CHAT, "drei"))
    with_bot(tg, lambda bot: bot.send_message(CHAT, "vier"))
    assert [m["text"] for m in tg.sent_messages(CHAT)] == ["eins", "zwei", "vier"]


def test_get_updates_returns_pushed_updates_and_offset_confirms(tg: FakeTelegram) -> None:
    tg.user_text(CHAT, "/start hallo")
    tg.user_text(CHAT, "Wie werde ich Tischlerin?")

    async def poll(bot: Bot) -> None:
        first = await bot.get_updates()
        assert [u.message.text for u in first] == ["/start hallo", "Wie werde ich Tischlerin?"]
        assert first[0].message.entities[0].type == "bot_command" and first[0].message.entities[0].length == 6
        assert len(await bot.get_updates(limit=1)) == 1
        assert await bot.get_updates(offset=first[-1].update_id + 1) == ()

    with_bot(tg, poll)
    assert tg.pending_updates == []


def test_long_polling_returns_early_when_an_update_arrives(tg: FakeTelegram) -> None:
    async def poll(bot: Bot) -> float:
        asyncio.get_running_loop().call_later(0.3, tg.user_sticker, CHAT)
        started = time.monotonic()
        updates = await bot.get_updates(timeout=5)
        assert len(updates) == 1 and updates[0].message.sticker is not None
        return time.monotonic() - started

    assert with_bot(tg, poll) < 2


def test_a_newer_get_updates_terminates_the_waiting_one(tg: FakeTelegram) -> None:
    async def poll(bot: Bot) -> None:
        # A second Bot: PTB's getUpdates connection pool has a single connection per Bot.
        async with Bot(TOKEN, base_url=tg.base_url) as other:
            waiting = asyncio.create_task(bot.get_updates(timeout=5))
            await asyncio.sleep(0.2)
            assert await other.get_updates() == ()
            with pytest.raises(Conflict, match="terminated by other getUpdates"):
                await waiting

    with_bot(tg, poll)


def test_raw_http_json_multipart_and_unknown_method(tg: FakeTelegram) -> None:
    url = f"{tg.base_url}{TOKEN}"
    as_json = httpx.post(f"{url}/sendMessage", json={"chat_id": CHAT, "text": "123"}).json()
    assert as_json["ok"] and as_json["result"]["text"] == "123"
    multipart = httpx.post(
        f"{url}/sendMessage",
        data={"chat_id": str(CHAT), "text": "mit Datei"},
        files={"document": ("a.txt", b"abc", "text/plain")},
    )
    assert multipart.json()["result"]["text"] == "mit Datei"
    assert tg.calls_of("sendMessage")[-1].params["document"].data == b"abc"
    unknown = httpx.post(f"{url}/sendPigeon", data={"chat_id": str(CHAT)})
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    wrong = httpx.post(f"{tg.base_url}1:X/getMe")
    assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


def test_wrong_token_is_unauthorized(tg: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        with_bot(tg, lambda bot: bot.get_me(), token="999:WRONG")
    assert tg.calls[-1].status == 401


def test_webhook_commands_and_files(tg: FakeTelegram) -> None:
    async def flow(bot: Bot) -> bytes:
        with pytest.raises(BadRequest, match="(?i)https url"):
            await bot.set_webhook("http://bridge.example.org/telegram")
        assert await bot.set_webhook("https://bridge.example.org/telegram", secret_token="s3cret")
        assert (await bot.get_webhook_info()).url == "https://bridge.example.org/telegram"
        assert await bot.set_my_commands([("start", "Neu starten")])
        assert [c.command for c in await bot.get_my_commands()] == ["start"]
        voice = Update.de_json(tg.build_voice_update(CHAT), bot).message.voice
        file = await bot.get_file(voice.file_id)
        return bytes(await file.download_as_bytearray())

    assert with_bot(tg, flow) == b"OggS voice"
    assert tg.webhook is not None and tg.webhook["secret_token"] == "s3cret"


def test_application_polling_round_trip(tg: FakeTelegram) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"Echo: {update.effective_message.text}")

    async def main() -> None:
        app: Application = (  # type: ignore[type-arg]
            ApplicationBuilder().token(TOKEN).base_url(tg.base_url).base_file_url(tg.base_file_url).build()
        )
        app.add_handler(MessageHandler(filters.TEXT, echo))
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(timeout=2)
            tg.user_text(CHAT, "Hallo")
            await asyncio.to_thread(tg.wait_for_messages, CHAT, 1, 5.0)
            await app.updater.stop()
            await app.stop()

    asyncio.run(main())
    assert tg.sent_messages(CHAT)[0]["text"] == "Echo: Hallo"
    methods = [call.method for call in tg.calls]
    assert methods[:3] == ["getMe", "deleteWebhook", "getUpdates"]
    # Updater.stop() confirms fetched updates with a final short getUpdates; the cancelled long
    # poll still waiting in the fake ends with 409 like on Telegram (nobody receives it).
    cleanup = [c for c in tg.calls_of("getUpdates") if c.ok and c.params["timeout"] == 0]
    assert cleanup and tg.pending_updates == []


def test_wait_for_times_out_with_a_call_dump(tg: FakeTelegram) -> None:
    with_bot(tg, lambda bot: bot.get_me())
    with pytest.raises(AssertionError, match="getMe"):
        tg.wait_for_messages(CHAT, 1, timeout=0.2)
