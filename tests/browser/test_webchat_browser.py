"""The web chat page (channels/webchat) in Debian's chromium.

With the real stack (Rasa + action server + console, the page served by ``python -m channels.webchat``): ask a
question, use the bot's buttons with the keyboard, reload and keep the conversation, a phone-sized screen, and
a hand-off whose adviser reply arrives by polling, labelled "Beratung".

Without the stack (the page served in a thread, pointed at a port where no Rasa listens; replies faked with
Playwright's request interception): Rasa unreachable → German error, typed text kept; text that looks like
HTML stays text; links; the server's deletion marker; "Neues Gespräch"; the length limit.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn

from channels.webchat.app import create_app
from core.protocol import conversation_of
from core.settings import WebchatSettings
from tests.e2e.conftest import (
    BACK_WORDS,
    CONSENT_WORD,
    CONTACT_WORDS,
    HANDOFF_REQUEST,
    STARTED_WORD,
    TOPIC_WORDS,
    WAITING_WORDS,
    AdviserApi,
)
from tests.servers import Stack, free_port

pytestmark = pytest.mark.browser

SESSION_KEY = "bo-hessen-webchat-session"
HISTORY_KEY = "bo-hessen-webchat-history"
TOKEN = re.compile(r"v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{20,}")  # the server-issued X-Conversation-Token
UNREACHABLE = "Der Assistent ist gerade nicht erreichbar. Bitte versuch es gleich noch einmal."


# --- helpers ---------------------------------------------------------------------------------------------


def open_chat(page: Any, url: str) -> None:
    from playwright.sync_api import expect

    page.goto(url)
    expect(page.get_by_label("Deine Nachricht")).to_be_enabled()  # the script is running


def say(page: Any, text: str) -> list[str]:
    """Type a message, press Enter, wait for the answer; returns the texts of the new bot/adviser messages."""
    before = page.locator(".msg").count()
    box = page.get_by_label("Deine Nachricht")
    box.fill(text)
    box.press("Enter")
    return wait_for_answer(page, before, expect_empty_input=True)


def click_button(page: Any, name: str) -> list[str]:
    before = page.locator(".msg").count()
    page.get_by_role("button", name=name, exact=True).click()
    return wait_for_answer(page, before)


def wait_for_answer(page: Any, before: int, expect_empty_input: bool = False) -> list[str]:
    from playwright.sync_api import expect

    expect(page.locator("#send")).to_be_enabled(timeout=60_000)
    expect(page.get_by_role("alert")).to_be_hidden()
    if expect_empty_input:
        expect(page.get_by_label("Deine Nachricht")).to_have_value("")
    new = page.locator(".msg").evaluate_all(
        "(all, before) => all.slice(before).filter(m => !m.classList.contains('msg-user')).map(m => m.innerText)",
        before,
    )
    return [str(text) for text in new]


# sessionStorage (this tab) unless "Auf diesem Gerät merken" is ticked (tests/browser/test_webchat_storage.py)
STORE = "(window.localStorage.getItem('bo-hessen-webchat-remember') === '1' ? window.localStorage : window.sessionStorage)"


def session_id(page: Any) -> str:
    """The stored conversation token ("" before the first answer: the page never invents an id)."""
    return str(page.evaluate(f"{STORE}.getItem({SESSION_KEY!r})") or "")


def conversation_id(page: Any) -> str:
    """The conversation id inside the stored token (the fake Rasa below and the real one encode it the same)."""
    token = session_id(page)
    if not token:
        return ""
    encoded = token.split(".")[1]
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")


def stored_history(page: Any) -> dict[str, Any]:
    return json.loads(page.evaluate(f"{STORE}.getItem({HISTORY_KEY!r})") or "{}")


# --- with the real stack ---------------------------------------------------------------------------------


@pytest.mark.e2e
def test_question_buttons_and_reload(page: Any, stack: Stack) -> None:
    from playwright.sync_api import expect

    open_chat(page, stack.webchat_url)
    assert page.locator("html").get_attribute("lang") == "de"
    expect(page.get_by_role("heading", level=1)).to_have_text("Berufsorientierungs-Assistent Hessen")
    expect(page.locator(".intro")).to_contain_text("Lösch meine Daten")
    expect(page.get_by_label("Deine Nachricht")).to_have_attribute("placeholder", "Schreib deine Frage …")
    assert session_id(page) == ""  # no conversation until the first message; the page never chooses an id
    log = page.get_by_role("log")
    expect(log.locator(".msg")).to_have_count(0)  # nothing is sent automatically

    # a question → the answer, its source as a safe link; the server issued the conversation's token
    answer = "\n".join(say(page, "Was ist BAB?"))
    token = session_id(page)
    assert TOKEN.fullmatch(token), token
    who = conversation_of(stack.env["REST_SESSION_KEY"], token)
    assert who and who.startswith("web-"), who
    assert "Berufsausbildungsbeihilfe" in answer and "Quelle:" in answer
    expect(log.locator(".msg-user")).to_have_text(["Du: Was ist BAB?"])
    source = log.locator(".msg-bot a").first
    assert re.match(r"https?://", source.get_attribute("href") or "")
    assert source.get_attribute("target") == "_blank" and "noopener" in (source.get_attribute("rel") or "")

    # a greeting offers buttons; Shift+Tab from the input reaches them, Enter sends the payload
    say(page, "Hallo")
    offered = log.locator(".msg-buttons button")
    expect(offered.first).to_be_visible()
    page.get_by_label("Deine Nachricht").focus()
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.closest('.msg-buttons') !== null")
    funding = page.get_by_role("button", name="Geld & Förderung")
    funding.focus()
    before = page.locator(".msg").count()
    page.keyboard.press("Enter")
    answer = "\n".join(wait_for_answer(page, before))
    assert "Förderungen" in answer, answer
    expect(log.locator(".msg-user").last).to_have_text("Du: Geld & Förderung")  # the title, not the payload
    expect(log).not_to_contain_text("/ask_funding")
    expect(page.get_by_role("button", name="Berufe entdecken")).to_have_count(0)  # answered buttons go away
    expect(offered.first).to_be_visible()  # the funding overview offers its own
    assert "/ask_funding" in [e.get("text") for e in stack.tracker(who)["events"] if e.get("event") == "user"]

    # reload: same conversation, same session, the latest buttons still work
    shown = log.inner_text()
    page.reload()
    open_chat(page, stack.webchat_url)
    assert session_id(page) == token
    expect(log).to_have_text(shown, use_inner_text=True)
    assert [m["who"] for m in stored_history(page)["messages"]][:2] == ["user", "bot"]
    title = offered.first.inner_text()
    answer = "\n".join(click_button(page, title))
    assert answer and "technisch" not in answer
    expect(log.locator(".msg-user").last).to_have_text(f"Du: {title}")


@pytest.mark.e2e
@pytest.mark.parametrize(("width", "height"), [(375, 700), (360, 640)])
def test_usable_on_a_phone(page: Any, stack: Stack, width: int, height: int) -> None:
    from playwright.sync_api import expect

    page.set_viewport_size({"width": width, "height": height})
    open_chat(page, stack.webchat_url)
    say(page, "Was ist BAB?")
    say(page, "Wie lange dauert die Ausbildung zum Kfz-Mechatroniker?")
    expect(page.get_by_role("log")).to_contain_text("42 Monate")
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
    for control in (page.get_by_label("Deine Nachricht"), page.get_by_role("button", name="Senden"),
                    page.get_by_role("button", name="Neues Gespräch")):
        box = control.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, box
        assert box["y"] >= 0 and box["y"] + box["height"] <= height, box  # visible without scrolling the page
        assert box["height"] >= 40  # big enough to tap
    last = page.locator(".msg").last
    last.scroll_into_view_if_needed()
    expect(last).to_be_in_viewport()


@pytest.mark.e2e
def test_adviser_reply_arrives_by_polling_labelled_beratung(page: Any, stack: Stack) -> None:
    from playwright.sync_api import expect

    open_chat(page, stack.webchat_url)
    topic = f"Ärger im Betrieb ({uuid.uuid4().hex[:6]})"
    assert CONSENT_WORD in "\n".join(say(page, HANDOFF_REQUEST))
    who = conversation_of(stack.env["REST_SESSION_KEY"], session_id(page))
    assert who
    assert TOPIC_WORDS in "\n".join(click_button(page, "Ja, einverstanden"))
    reply = "\n".join(say(page, topic))
    if CONTACT_WORDS in reply:  # outside office hours
        reply = "\n".join(click_button(page, "Nein, danke"))
    assert STARTED_WORD in reply, reply
    assert WAITING_WORDS in "\n".join(say(page, "Hallo, ist da jemand?"))

    adviser = AdviserApi(stack)
    handoff = adviser.handoff_for(who)
    assert handoff["topic"] == topic and handoff["channel"] == "rest"
    text = f"Hallo, hier ist die Beratung ({who[-6:]}). Was ist passiert?"
    adviser.reply(handoff["id"], text)

    # no user action: the page polls the outbox and shows the reply, visibly and audibly labelled
    message = page.locator(".msg").filter(has_text=text)
    expect(message).to_have_count(1, timeout=30_000)
    expect(message).to_have_class(re.compile(r"\bmsg-adviser\b"))
    expect(message.locator(".msg-label")).to_have_text("Beratung")
    expect(message).to_have_text(re.compile(r"^Beratung"))
    assert "msg-adviser" not in (page.locator(".msg-bot").last.get_attribute("class") or "")

    # it stays after a reload, still labelled
    page.reload()
    open_chat(page, stack.webchat_url)
    expect(page.locator(".msg-adviser").filter(has_text=text).locator(".msg-label")).to_have_text("Beratung")

    # the adviser closes: the bot's "I'm back" arrives by polling too, as a bot message
    adviser.close(handoff["id"], "Gespräch geführt")
    expect(page.locator(".msg-bot").filter(has_text=BACK_WORDS)).to_have_count(1, timeout=30_000)
    assert "Berufsausbildungsbeihilfe" in "\n".join(say(page, "Was ist BAB?"))
    expect(page.locator(".msg").filter(has_text=text)).to_have_count(1)  # delivered once


@pytest.mark.e2e
def test_deleting_the_data_starts_a_new_session(page: Any, stack: Stack) -> None:
    """rasa_plugins/rest_channel.py answers the deletion with ``{"custom": {"conversation_deleted": true}}``."""
    from playwright.sync_api import expect

    open_chat(page, stack.webchat_url)
    say(page, "Was ist BAB?")
    first = conversation_of(stack.env["REST_SESSION_KEY"], session_id(page))
    assert first
    assert "löschen" in "\n".join(say(page, "Bitte lösch meine Daten"))
    click_button(page, "Ja, löschen")  # (the page is emptied, so the helper sees no new message)
    log = page.get_by_role("log")
    expect(log).not_to_contain_text("Was ist BAB?")  # the old conversation is gone from the page …
    expect(log).to_contain_text("gelöscht")  # … the confirmation stays
    assert session_id(page) == ""  # the next message starts a new conversation with a new token
    assert [m["who"] for m in stored_history(page)["messages"]] == ["bot"]
    assert not [e for e in stack.tracker(first)["events"] if e.get("event") == "user"]
    page.reload()
    open_chat(page, stack.webchat_url)
    assert session_id(page) == ""
    expect(log).not_to_contain_text("Was ist BAB?")


# --- without the stack: the page served in a thread, Rasa faked or unreachable ---------------------------


@dataclass
class LoneChat:
    url: str
    rasa_url: str  # nothing listens here


@pytest.fixture(scope="module")
def lone_chat() -> Iterator[LoneChat]:
    rasa_url = f"http://127.0.0.1:{free_port()}"
    port = free_port()
    app = create_app(WebchatSettings(rasa_url=rasa_url, poll_seconds=1))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web chat did not start in its thread")
        time.sleep(0.05)
    yield LoneChat(f"http://127.0.0.1:{port}", rasa_url)
    server.should_exit = True
    thread.join(timeout=10)


Reply = Callable[[dict[str, Any]], list[dict[str, Any]]]


def fake_rasa(page: Any, reply: Reply, outbox: list[list[dict[str, Any]]] | None = None) -> list[dict[str, Any]]:
    """Answer the page's Rasa requests in the browser; returns the list of webhook bodies received.
    ``outbox`` holds the answers of the next polls (then empty lists)."""
    received: list[dict[str, Any]] = []
    cors = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "*",
            "Access-Control-Expose-Headers": "X-Conversation-Token"}
    started = [0]

    def token_for(conversation: str) -> str:
        encoded = base64.urlsafe_b64encode(conversation.encode()).decode().rstrip("=")
        return f"v1.{encoded}.{'m' * 43}"

    def conversation(route: Any) -> str:
        """Like the real channel: the token's conversation, or a new one when there is no token."""
        token = route.request.headers.get("x-conversation-token")
        if token:
            encoded = token.split(".")[1]
            return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        started[0] += 1
        return f"web-fake-{started[0]}"

    def webhook(route: Any) -> None:
        if route.request.method == "OPTIONS":
            route.fulfill(status=204, headers=cors)
            return
        body = {**json.loads(route.request.post_data or "{}")}
        assert "sender" not in body  # the page never chooses the conversation
        body["sender"] = conversation(route)
        received.append(body)
        route.fulfill(status=200, json=reply(body), headers={**cors, "X-Conversation-Token": token_for(body["sender"])})

    def poll(route: Any) -> None:
        if route.request.method == "OPTIONS":
            route.fulfill(status=204, headers=cors)
            return
        route.fulfill(status=200, json=outbox.pop(0) if outbox else [], headers=cors)

    def ack(route: Any) -> None:
        if route.request.method == "OPTIONS":
            route.fulfill(status=204, headers=cors)
            return
        route.fulfill(status=200, json={"marked": len(json.loads(route.request.post_data or "{}").get("ids", []))},
                      headers=cors)

    page.route(re.compile(r"/webhooks/rest/webhook$"), webhook)
    page.route(re.compile(r"/webhooks/rest/outbox$"), poll)
    page.route(re.compile(r"/webhooks/rest/outbox/ack$"), ack)
    return received


def test_unreachable_rasa_shows_a_german_error_and_keeps_the_text(page: Any, lone_chat: LoneChat) -> None:
    from playwright.sync_api import expect

    open_chat(page, lone_chat.url)
    box = page.get_by_label("Deine Nachricht")
    box.fill("Was ist BAB?")
    box.press("Enter")
    expect(page.get_by_role("alert")).to_have_text(UNREACHABLE, timeout=30_000)
    expect(box).to_have_value("Was ist BAB?")  # nothing lost
    expect(box).to_be_editable()
    expect(page.get_by_role("button", name="Senden")).to_be_enabled()
    expect(page.locator(".msg")).to_have_count(0)  # not shown as sent
    assert stored_history(page).get("messages", []) == []

    # Rasa is back: the same text is sent with the next Enter, the error goes away
    received = fake_rasa(page, lambda body: [{"recipient_id": body["sender"], "text": "BAB heißt …"}])
    box.press("Enter")
    expect(page.get_by_role("log")).to_contain_text("BAB heißt …")
    expect(page.get_by_role("alert")).to_be_hidden()
    expect(box).to_have_value("")
    assert received == [{"sender": conversation_id(page), "message": "Was ist BAB?"}]


def test_bot_text_is_shown_as_text_with_safe_links(page: Any, lone_chat: LoneChat) -> None:
    from playwright.sync_api import expect

    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    evil = "<img src=x onerror=\"alert('pwned')\"><b>fett</b>"
    text = f"{evil}\nMehr: https://www.arbeitsagentur.de/bab. Nicht: javascript:alert(1) und (https://hessen.de/x)"
    fake_rasa(page, lambda body: [
        {"recipient_id": body["sender"], "text": text, "custom": {"something": "else"}},
        {"recipient_id": body["sender"], "custom": {"ignored": True}},
    ])
    open_chat(page, lone_chat.url)
    say(page, evil)
    log = page.get_by_role("log")
    expect(log.locator(".msg-user")).to_have_text(f"Du: {evil}")
    expect(log.locator(".msg-bot")).to_have_count(1)  # the custom-only message is ignored
    expect(log.locator(".msg-bot .msg-text")).to_have_text(text)
    assert page.locator("img[src='x'], .msg b").count() == 0 and not dialogs
    links = log.locator(".msg-bot a")
    expect(links).to_have_count(2)
    assert [links.nth(i).get_attribute("href") for i in range(2)] == [
        "https://www.arbeitsagentur.de/bab", "https://hessen.de/x"]
    for i in range(2):
        assert links.nth(i).get_attribute("target") == "_blank"
        assert "noopener" in (links.nth(i).get_attribute("rel") or "")


def test_adviser_messages_from_polling_are_labelled(page: Any, lone_chat: LoneChat) -> None:
    from playwright.sync_api import expect

    adviser = {"recipient_id": "x", "text": "Hier ist Frau Berger.", "custom": {"from": "adviser"}}
    fake_rasa(page, lambda body: [{"recipient_id": body["sender"], "text": "Ich verbinde dich."}],
              outbox=[[], [adviser]])
    open_chat(page, lone_chat.url)
    say(page, "Ich möchte mit einem Menschen sprechen")
    message = page.locator(".msg-adviser")
    expect(message).to_have_count(1, timeout=15_000)
    expect(message).to_have_text("Beratung: Hier ist Frau Berger.")
    expect(message.locator(".msg-label")).to_have_text("Beratung")
    expect(message.locator(".msg-label")).to_be_visible()
    assert message.evaluate("e => getComputedStyle(e).backgroundColor") != page.locator(".msg-bot").evaluate(
        "e => getComputedStyle(e).backgroundColor")


def test_deletion_by_the_server_starts_a_new_session(page: Any, lone_chat: LoneChat) -> None:
    from playwright.sync_api import expect

    confirmation = "Erledigt: Der Verlauf dieses Chats wird jetzt gelöscht."

    def reply(body: dict[str, Any]) -> list[dict[str, Any]]:
        if body["message"] == "/affirm":
            return [{"recipient_id": body["sender"], "text": confirmation},
                    {"recipient_id": body["sender"], "custom": {"conversation_deleted": True}}]
        return [{"recipient_id": body["sender"], "text": "Soll ich löschen?",
                 "buttons": [{"title": "Ja, löschen", "payload": "/affirm"}]}]

    received = fake_rasa(page, reply)
    open_chat(page, lone_chat.url)
    say(page, "Lösch meine Daten")
    first = conversation_id(page)
    click_button(page, "Ja, löschen")
    log = page.get_by_role("log")
    expect(log.locator(".msg")).to_have_count(1)
    expect(log).to_have_text(f"Assistent: {confirmation}")
    expect(page.get_by_role("status")).to_contain_text("gelöscht")
    assert session_id(page) == ""  # forgotten: the next message starts a new conversation
    assert stored_history(page) == {"sender": "", "messages": [
        {"who": "bot", "text": confirmation, "buttons": [], "image": ""}]}
    assert [b["sender"] for b in received] == [first, first]
    say(page, "Hallo")
    assert received[-1]["sender"] not in ("", first) and received[-1]["sender"] == conversation_id(page)


def test_new_conversation_needs_a_second_step(page: Any, lone_chat: LoneChat) -> None:
    from playwright.sync_api import expect

    fake_rasa(page, lambda body: [{"recipient_id": body["sender"], "text": "Antwort"}])
    open_chat(page, lone_chat.url)
    say(page, "Hallo")
    first = session_id(page)
    new = page.get_by_role("button", name="Neues Gespräch")
    new.click()
    expect(new).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("button", name="Ja, neu anfangen")).to_be_focused()
    page.keyboard.press("Escape")  # cancel: nothing changes
    expect(page.get_by_role("button", name="Ja, neu anfangen")).to_be_hidden()
    expect(new).to_be_focused()
    assert session_id(page) == first
    expect(page.locator(".msg")).to_have_count(2)

    new.press("Enter")
    page.get_by_role("button", name="Ja, neu anfangen").press("Enter")
    expect(page.locator(".msg")).to_have_count(0)
    expect(page.get_by_role("status")).to_have_text("Neues Gespräch gestartet.")
    expect(page.get_by_label("Deine Nachricht")).to_be_focused()
    assert session_id(page) != first and stored_history(page)["messages"] == []
    page.reload()
    expect(page.locator(".msg")).to_have_count(0)


def test_length_limit_is_explained_and_nothing_is_sent(page: Any, lone_chat: LoneChat) -> None:
    from playwright.sync_api import expect

    received = fake_rasa(page, lambda body: [{"recipient_id": body["sender"], "text": "Antwort"}])
    open_chat(page, lone_chat.url)
    box = page.get_by_label("Deine Nachricht")
    box.fill("ä" * 2001)
    expect(page.locator("#message-counter")).to_have_text("2001 von 2000 Zeichen – zu lang")
    expect(box).to_have_attribute("aria-invalid", "true")
    box.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("höchstens 2000 Zeichen")
    expect(box).to_have_value("ä" * 2001)
    assert received == []
    box.fill("ä" * 2000)
    expect(page.locator("#message-counter")).to_have_text("2000 von 2000 Zeichen")
    box.press("Shift+Enter")  # a new line, not sent
    assert received == []
    box.fill("Kurz")
    box.press("Enter")
    expect(page.get_by_role("log")).to_contain_text("Antwort")
    assert [b["message"] for b in received] == ["Kurz"]


def test_reduced_motion_and_focus_styles(page: Any, lone_chat: LoneChat) -> None:
    page.emulate_media(reduced_motion="reduce")
    open_chat(page, lone_chat.url)
    assert page.evaluate("getComputedStyle(document.querySelector('.conversation')).scrollBehavior") == "auto"
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Neues Gespräch"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
