"""The bridge when things go wrong: Rasa down then up again (nothing lost, answered in order), webhook mode
with Telegram's secret-token header."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from channels.telegram import texts
from tests.servers import Stack
from tests.telegram.conftest import Bridge, Forwarder, new_chat, new_token, start_bridge
from tests.telegram.fake_bot_api import FakeTelegram
from tests.telegram.helpers import conversation_of, pending_count, settle, shown, wait_text

pytestmark = pytest.mark.e2e

WEBHOOK_SECRET = "geheimes_Token-123"
WEBHOOK_URL = "https://bridge.example.org/telegram/webhook"


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    return tmp_path


def test_rasa_down_then_up_again(stack: Stack, workdir: Path) -> None:
    rasa_port = int(stack.rasa_url.rsplit(":", 1)[1])
    rasa = Forwarder(rasa_port)  # nothing listens yet: Rasa is "down"
    with FakeTelegram(token=new_token()) as fake:
        bridge = start_bridge(stack, fake, workdir, RASA_URL=rasa.url)
        try:
            chat = new_chat()
            fake.user_text(chat, "Was ist BAB?")
            sent = fake.wait_for_messages(chat, 1, timeout=30)
            assert shown(sent[0]) == texts.BE_RIGHT_BACK
            fake.user_text(chat, "Und was ist AsA flex?")  # a second message while Rasa is still down
            fake.wait_for(lambda: pending_count(stack.env["KB_DATABASE_URL"], chat) == 2, timeout=20,
                          what="both messages queued")
            assert [shown(m) for m in settle(fake, chat, quiet=1.5)] == [texts.BE_RIGHT_BACK]  # said once

            bridge.stop()  # even a restart of the bridge loses nothing: the queue is in the database
            bridge.start()
            rasa.up()
            wait_text(fake, chat, "AsA", timeout=60)
            answers = [shown(m) for m in settle(fake, chat)]
            first_bab = next(i for i, t in enumerate(answers) if "BAB" in t and t != texts.BE_RIGHT_BACK)
            first_asa = next(i for i, t in enumerate(answers) if "AsA" in t)
            assert first_bab < first_asa  # answered in the order they were written
            assert answers.count(texts.BE_RIGHT_BACK) == 1
            assert pending_count(stack.env["KB_DATABASE_URL"], chat) == 0
        finally:
            bridge.stop()
            rasa.down()


@pytest.fixture()
def webhook_bridge(stack: Stack, workdir: Path) -> Iterator[tuple[FakeTelegram, Bridge]]:
    with FakeTelegram(token=new_token()) as fake:
        bridge = start_bridge(stack, fake, workdir, TELEGRAM_MODE="webhook", TELEGRAM_WEBHOOK_URL=WEBHOOK_URL,
                              TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET)
        try:
            yield fake, bridge
        finally:
            bridge.stop()


def test_webhook_mode_registers_the_secret_and_rejects_wrong_ones(
    stack: Stack, webhook_bridge: tuple[FakeTelegram, Bridge]
) -> None:
    fake, bridge = webhook_bridge
    assert fake.webhook is not None
    assert fake.webhook["url"] == WEBHOOK_URL and fake.webhook["secret_token"] == WEBHOOK_SECRET
    assert fake.calls_of("getUpdates") == []  # no polling in webhook mode

    chat = new_chat()
    url = f"{bridge.url}/telegram/webhook"
    update = fake.build_text_update(chat, "Was ist BAB?")
    for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "falsch"},
                    {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET + "x"}):
        assert httpx.post(url, json=update, headers=headers, timeout=30).status_code == 403
    assert fake.sent_messages(chat) == [] and conversation_of(stack.env["KB_DATABASE_URL"], chat) is None

    ok = httpx.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}, timeout=60)
    assert ok.status_code == 200  # answered after the update was handled
    assert any("BAB" in shown(m) for m in fake.sent_messages(chat))

    before = len(settle(fake, chat))
    again = httpx.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}, timeout=60)
    assert again.status_code == 200
    assert len(settle(fake, chat)) == before  # Telegram's retry of the same update is not answered twice
