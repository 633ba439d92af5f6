"""A Telegram hand-off worked in the adviser console in chromium (issue 14): the real bridge
(``python -m channels.telegram``) against the fake Bot API (tests/telegram/fake_bot_api.py) and the shared stack.

A Telegram user asks for a human, consents and names a topic with a place; the adviser sees the case in the inbox
(channel telegram, the pseudonym and never the ``tg-`` conversation id), the profile card with the place, answers
with a Textbaustein inserted by keyboard; the user gets it labelled "Beratung". The adviser closes the case; the
user gets the rating question with an inline keyboard, taps "4", and the case page shows the rating.

The bridge listens on the port the shared stack's console pushes to (``stack.telegram_port``), like the bridge of
tests/telegram/test_bridge.py; the two modules never run at the same time."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from core.db import make_engine, make_session_factory, session_scope
from handoff import canned
from tests.browser.test_console_browser import login
from tests.e2e.conftest import CONSENT_WORD, CONTACT_WORDS, STARTED_WORD, TOPIC_WORDS, AdviserApi
from tests.servers import Stack
from tests.telegram.conftest import Bridge, new_chat, new_token, start_bridge
from tests.telegram.fake_bot_api import FakeTelegram
from tests.telegram.helpers import buttons, conversation_of, last_with_buttons, settle, shown, wait_text

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

TOPIC = "Ich suche eine Ausbildung in Kassel und brauche Hilfe"
RATING_WORDS = "Wie zufrieden warst du"  # handoff.feedback.rating_question
COMMENT_WORDS = "was gut war"  # utter_ask_handoff_rating_comment


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(token=new_token()) as tg:  # own bot: its update ids do not collide with other modules'
        yield tg


@pytest.fixture(scope="module")
def bridge(stack: Stack, fake: FakeTelegram, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bridge]:
    running = start_bridge(stack, fake, tmp_path_factory.mktemp("telegram-console"), port=stack.telegram_port)
    yield running
    running.stop()


def user_says(fake: FakeTelegram, chat: int, text: str, expected: str) -> list[dict[str, Any]]:
    """The user writes ``text``; returns what the bot sent until it fell silent (must contain ``expected``)."""
    n = len(fake.sent_messages(chat))
    fake.user_text(chat, text)
    wait_text(fake, chat, expected, after=n)
    return settle(fake, chat)[n:]


def tap(fake: FakeTelegram, chat: int, title_start: str) -> None:
    """The user taps the button starting with ``title_start`` on the newest message with buttons."""
    message = last_with_buttons(fake, chat)
    data = next(d for t, d in buttons(message) if t.startswith(title_start))
    fake.user_callback(chat, message["message_id"], data)


def test_telegram_handoff_answered_with_a_canned_reply_closed_and_rated(
    page: Any, stack: Stack, fake: FakeTelegram, bridge: Bridge,
) -> None:
    from playwright.sync_api import expect

    tag = uuid.uuid4().hex[:6]
    title = f"Kassel-Antwort {tag}"
    with session_scope(make_session_factory(make_engine(stack.env["KB_DATABASE_URL"]))) as s:
        canned.create(s, title, "Hallo, hier ist {berater_name} von der Beratung. Ich helfe dir gern weiter.", None)

    # the Telegram user asks for a human, consents and names the topic with a place
    chat = new_chat()
    user_says(fake, chat, "Ich möchte mit einem Menschen sprechen", CONSENT_WORD)
    user_says(fake, chat, "ja", TOPIC_WORDS)
    n = len(fake.sent_messages(chat))
    fake.user_text(chat, TOPIC)
    fake.wait_for_messages(chat, n + 1, timeout=40)
    if any(CONTACT_WORDS in shown(m) for m in settle(fake, chat)[n:]):  # outside office hours
        tap(fake, chat, "Nein, danke")
    wait_text(fake, chat, STARTED_WORD, after=n)
    settle(fake, chat)

    conversation = conversation_of(stack.env["KB_DATABASE_URL"], chat)
    assert conversation and conversation.startswith("tg-")
    api = AdviserApi(stack)
    handoff = api.handoff_for(conversation)
    case = f"Übergabe #{handoff['id']}"

    # the inbox: the case with its channel, no conversation id or chat id anywhere on the page
    login(page, stack)
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=case, exact=True))
    expect(row).to_have_count(1)
    expect(row).to_contain_text("telegram", ignore_case=True)
    expect(row).to_contain_text(TOPIC)
    assert conversation not in page.content() and str(chat) not in page.content()

    # the case page: the pseudonym instead of the id, the profile card with the place
    row.get_by_role("link", name=case, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(case)
    expect(page.locator("dl.facts").first).to_contain_text(api.pseudonym(conversation))
    assert conversation not in page.content() and str(chat) not in page.content()
    expect(page.locator('section#profil [data-profile="place"]')).to_contain_text("Kassel")

    # the Textbaustein, chosen by keyboard, is sent; the Telegram user gets it labelled "Beratung"
    search = page.get_by_role("combobox", name="Textbaustein oder Artikel einfügen")
    search.focus()
    page.keyboard.type(title)
    expect(page.locator("#snippet-list").get_by_role("option").first).to_contain_text(title)
    page.keyboard.press("Enter")
    reply = page.get_by_label("Antwort an die Person")
    expect(reply).to_be_focused()
    expected = f"Hallo, hier ist {stack.adviser_user} von der Beratung. Ich helfe dir gern weiter."
    expect(reply).to_have_value(expected)
    n = len(fake.sent_messages(chat))
    page.get_by_role("button", name="Antwort senden").click()
    expect(page.get_by_text(expected, exact=True)).to_be_visible()
    received = wait_text(fake, chat, expected, after=n, timeout=30)
    assert [shown(m) for m in received if expected in shown(m)] == [f"Beratung:\n{expected}"]

    # the adviser closes the case; the user gets the rating question with buttons 1–5 and taps "4"
    n = len(fake.sent_messages(chat))
    page.get_by_label("Ergebnis").select_option(index=0)
    page.get_by_role("button", name="Abschließen").click()
    expect(page.locator("#rating")).to_have_text("noch keine")
    wait_text(fake, chat, RATING_WORDS, after=n, timeout=30)
    settle(fake, chat)
    question = last_with_buttons(fake, chat)
    assert RATING_WORDS in shown(question)
    assert [t[0] for t, _ in buttons(question)] == ["1", "2", "3", "4", "5"]
    n = len(fake.sent_messages(chat))
    tap(fake, chat, "4")
    wait_text(fake, chat, COMMENT_WORDS, after=n, timeout=40)  # asked for a comment: the rating is stored

    page.reload()
    expect(page.locator("#rating")).to_contain_text("4 von 5")
