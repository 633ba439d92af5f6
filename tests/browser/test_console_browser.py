"""The adviser console in a real browser, with a hand-off created by a real REST conversation.

Log in, find the waiting hand-off in the inbox, open it (summary, transcript, the user's message rendered as
text even when it looks like HTML), reply, see the reply reach the user's REST client, close with an outcome,
and the bot answers the user again.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from tests.e2e.conftest import BACK_WORDS, WAITING_WORDS, AdviserApi, start_handoff, texts
from tests.servers import Stack

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

XSS = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>Hilfe!"


def login(page: Any, stack: Stack) -> None:
    page.goto(f"{stack.console_url}/")
    assert "/login" in page.url  # not logged in → the login page
    page.get_by_label("Benutzername").fill(stack.adviser_user)
    page.get_by_label("Passwort").fill(stack.adviser_password)
    page.get_by_role("button", name="Anmelden").click()
    page.get_by_role("heading", name="Eingang").wait_for()


def test_adviser_answers_a_waiting_handoff_in_the_browser(page: Any, stack: Stack) -> None:
    from playwright.sync_api import expect

    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    who = f"browser-{uuid.uuid4().hex[:8]}"
    topic = f"Ärger mit meinem Chef ({who})"
    assert "Berufsausbildungsbeihilfe" in texts(stack.say(who, "Was ist BAB?"))
    start_handoff(stack, who, topic)
    assert WAITING_WORDS in texts(stack.say(who, XSS))

    login(page, stack)
    row = page.get_by_role("row").filter(has_text=topic)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("wartet", ignore_case=True)
    row.get_by_role("link").first.click()

    # the hand-off page: summary, transcript before the hand-off, the thread with the user's message as text
    expect(page.get_by_role("heading", level=1)).to_contain_text(topic)
    expect(page.get_by_role("heading", name="Zusammenfassung")).to_be_visible()
    expect(page.locator("section", has=page.get_by_role("heading", name="Zusammenfassung"))).to_contain_text(topic)
    transcript = page.locator("section", has=page.get_by_role("heading", name=re.compile("vor der Übergabe")))
    expect(transcript).to_contain_text("Was ist BAB?")
    expect(transcript).to_contain_text("Berufsausbildungsbeihilfe")
    expect(page.get_by_text(XSS, exact=True)).to_be_visible()
    assert page.locator("img[src='x']").count() == 0
    assert page.title() != "pwned" and not dialogs

    # reply → it reaches the user's REST client
    answer = f"Hallo, hier ist die Beratung ({who}). Was ist passiert?"
    page.get_by_label("Antwort an die Person").fill(answer)
    page.get_by_role("button", name="Antwort senden").click()
    expect(page.get_by_text(answer, exact=True)).to_be_visible()
    assert [m["text"] for m in stack.outbox(who)] == [answer]

    # close with an outcome → the bot is back
    outcome = page.get_by_label("Ergebnis")
    outcome.select_option(index=0)
    chosen = outcome.input_value()
    page.get_by_label("Kommentar").fill("Browsertest")
    page.get_by_role("button", name="Abschließen").click()
    expect(page.locator("dl.facts").first).to_contain_text("abgeschlossen")
    expect(page.get_by_role("alert")).to_have_count(0)  # no "bot could not be resumed" warning
    handoff = AdviserApi(stack).handoff_for(who, status="closed")
    assert handoff["outcome"] and chosen in handoff["outcome"]

    reply = texts(stack.say(who, "Was ist BAB?"))
    assert BACK_WORDS in reply and "Berufsausbildungsbeihilfe" in reply
    assert page.title() != "pwned" and not dialogs


def test_wrong_password_is_refused(page: Any, stack: Stack) -> None:
    from playwright.sync_api import expect

    page.goto(f"{stack.console_url}/login")
    page.get_by_label("Benutzername").fill(stack.adviser_user)
    page.get_by_label("Passwort").fill("falsch-falsch-falsch")
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert "/login" in page.url
