"""Satisfaction and missed questions in a real browser (issue 14, part C), with a real REST conversation.

A hand-off through the REST channel; the adviser closes it in the console; the REST client gets the rating
question with the buttons 1–5, rates 4 and writes a comment; the case page shows both. A message the bot does not
understand appears on /verpasst (reported by the REST channel after the turn), is labelled with the keyboard, and
the YAML export contains it.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import yaml

from tests.browser.test_console_browser import login
from tests.e2e.conftest import BACK_WORDS, start_handoff, texts
from tests.servers import Stack

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

RATING_WORDS = "Wie zufrieden warst du"  # handoff.feedback.rating_question
COMMENT_WORDS = "was gut war"  # utter_ask_handoff_rating_comment
THANKS_WORDS = "Rückmeldung hilft"  # utter_handoff_rating_thanks


def wait_for_outbox(stack: Stack, who: str, words: str, timeout: float = 30) -> list[dict]:
    deadline = time.monotonic() + timeout
    seen: list[dict] = []
    while time.monotonic() < deadline:
        seen += stack.outbox(who)
        if words in texts(seen):
            return seen
        time.sleep(0.5)
    raise AssertionError(f"{words!r} not in {texts(seen)!r}")


def test_rating_after_closing_and_a_missed_question(page: Any, stack: Stack) -> None:
    from playwright.sync_api import expect

    who = f"feedback-{uuid.uuid4().hex[:8]}"
    topic = f"Frage zur Bewerbung ({who})"
    start_handoff(stack, who, topic)

    # the adviser closes the case in the console
    login(page, stack)
    page.get_by_role("row").filter(has_text=topic).get_by_role("link").first.click()
    page.get_by_label("Ergebnis").select_option(index=0)
    page.get_by_role("button", name="Abschließen").click()
    expect(page.locator("#rating")).to_have_text("noch keine")  # shown once the case is closed

    # the REST client gets "I'm back" and the rating question, once
    messages = wait_for_outbox(stack, who, RATING_WORDS)
    assert BACK_WORDS in texts(messages)
    questions = [m for m in messages if RATING_WORDS in m.get("text", "")]
    assert len(questions) == 1
    buttons = questions[0]["buttons"]
    assert [b["title"][0] for b in buttons] == ["1", "2", "3", "4", "5"]

    # rates 4 (the button's payload) and writes a comment with markup
    assert COMMENT_WORDS in texts(stack.say(who, buttons[3]["payload"]))
    comment = f"Sehr nett, <b>danke</b>! ({who})"
    assert THANKS_WORDS in texts(stack.say(who, comment))
    page.reload()  # (page.goto to the same URL with its #fragment would not load it again)
    expect(page.locator("#rating")).to_contain_text("4 von 5")
    expect(page.locator("#rating")).to_contain_text(comment)  # as text, not markup
    assert page.locator("#rating b").count() == 0

    # a message the bot does not understand → /verpasst (the report is sent after the reply: poll)
    # Invented words get some intent, often with a confidence above the fallback threshold, and which one depends
    # on the training run: take the first candidate the trained model really does not understand.
    candidates = ("blorp snark wibble", "foo bar baz", "qwrtz plomb fnargel", "zzkx vrumm dolp", "gnarf wubb zonk")
    nonsense = next((c for c in candidates if stack.parse(c)["intent"]["name"] == "nlu_fallback"), None)
    assert nonsense is not None, "none of the candidates is nlu_fallback for this model: add another"
    stack.say(who, nonsense)
    row = page.locator("tr.missed-group").filter(has_text=nonsense)
    deadline = time.monotonic() + 30
    while True:
        page.goto(f"{stack.console_url}/verpasst")
        if row.count() == 1 or time.monotonic() > deadline:
            break
        time.sleep(1)
    expect(row).to_have_count(1)
    counter = page.locator("#review-count").inner_text()

    # label it with the keyboard: focus the select, type to choose "nicht unser Thema", Tab to the button, Enter
    row.get_by_role("combobox").focus()
    page.keyboard.type("nicht unser")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Gespeichert.")).to_be_visible()
    expect(row).to_contain_text("geprüft: nicht unser Thema")
    assert page.locator("#review-count").inner_text() != counter

    export = page.request.get(f"{stack.console_url}/verpasst/export.yml")
    assert export.ok
    data = yaml.safe_load(export.text())
    examples = {item["intent"]: item["examples"] for item in data["nlu"]}
    assert nonsense in examples["out_of_scope"]
