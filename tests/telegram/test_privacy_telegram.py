"""Telegram's /datenschutz and /meinedaten through the fake Bot API, the real bridge, Rasa, actions and console:
the same true privacy text as in every channel, and the user's own data as a JSON document (sendDocument)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from channels.telegram import texts
from core.protocol import EXPORT_FORMAT
from tests.servers import TEST_OPERATOR, Stack
from tests.telegram.conftest import Bridge, new_chat, new_token, start_bridge
from tests.telegram.fake_bot_api import FakeTelegram
from tests.telegram.helpers import conversation_of, settle, shown, wait_text

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(token=new_token()) as tg:  # own bot: update ids do not collide with other modules
        yield tg


@pytest.fixture(scope="module")
def bridge(stack: Stack, fake: FakeTelegram, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bridge]:
    workdir: Path = tmp_path_factory.mktemp("telegram-privacy")
    running = start_bridge(stack, fake, workdir)
    yield running
    running.stop()


def test_start_note_no_longer_promises_that_nothing_is_passed_on(fake: FakeTelegram, bridge: Bridge) -> None:
    assert "/datenschutz" in texts.START_NOTE and "/meinedaten" in texts.START_NOTE
    assert "nichts weiter" not in texts.START_NOTE


def test_datenschutz_shows_the_true_text_with_the_operator(fake: FakeTelegram, bridge: Bridge) -> None:
    chat = new_chat()
    fake.user_command(chat, "datenschutz")
    wait_text(fake, chat, "Aufsichtsbehörde")
    text = "\n".join(shown(m) for m in settle(fake, chat))
    for value in TEST_OPERATOR.values():
        assert value in text, text
    assert "90 Tage nach der letzten Nachricht" in text and "Telegram" in text
    assert "Der Hessische Beauftragte für Datenschutz und Informationsfreiheit" in text


def test_meinedaten_sends_this_chats_data_as_a_json_document(stack: Stack, fake: FakeTelegram,
                                                             bridge: Bridge) -> None:
    chat, other = new_chat(), new_chat()
    fake.user_text(other, "ANDERER-CHAT Was ist BAB?")
    wait_text(fake, other, "Berufsausbildungsbeihilfe")
    fake.user_text(chat, "MEIN-CHAT Wie lange dauert die Ausbildung zum Tischler?")
    wait_text(fake, chat, "Tischler")
    settle(fake, chat)
    fake.user_command(chat, "meinedaten")
    fake.wait_for(lambda: bool(fake.sent_documents(chat)), timeout=40, what="a document for the chat")
    [params] = fake.sent_documents(chat)
    document = params["document"]
    assert document.filename == texts.EXPORT_FILENAME and params["caption"] == texts.EXPORT_CAPTION
    export = json.loads(document.data.decode("utf-8"))
    assert export["format"] == EXPORT_FORMAT
    assert export["conversation"]["id"] == conversation_of(stack.env["KB_DATABASE_URL"], chat)
    user = [e["text"] for e in export["events"] if e["type"] == "user"]
    assert "MEIN-CHAT Wie lange dauert die Ausbildung zum Tischler?" in user
    assert "/request_data_export" in user
    dump = json.dumps(export, ensure_ascii=False)
    assert "ANDERER-CHAT" not in dump and str(chat) not in dump  # never the chat id, never another chat
    assert not fake.sent_documents(other)
    assert "Datei" in "\n".join(shown(m) for m in settle(fake, chat))
