"""Where the web chat keeps the conversation (chromium; the page served in a thread, Rasa's answers faked by
request interception): by default only in this tab (sessionStorage: a reload keeps it, a new tab or browser does
not); "Auf diesem Gerät merken" moves it to localStorage (a new tab continues it); unticking wipes localStorage.
Also "Meine Daten": the export in a reply becomes a JSON download."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_webchat_browser import LoneChat, lone_chat, open_chat, say  # noqa: F401 - fixture

pytestmark = pytest.mark.browser

SESSION_KEY = "bo-hessen-webchat-session"
HISTORY_KEY = "bo-hessen-webchat-history"
REMEMBER_KEY = "bo-hessen-webchat-remember"
TOKEN_HEADER = "X-Conversation-Token"


def fake_rasa(page: Any, token: str, extra: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """A Rasa that issues ``token`` for a new conversation and answers "Antwort auf …"."""
    received: list[dict[str, Any]] = []
    headers = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": TOKEN_HEADER,
               TOKEN_HEADER: token}

    def webhook(route: Any) -> None:
        body = json.loads(route.request.post_data or "{}")
        received.append({"body": body, "token": route.request.headers.get(TOKEN_HEADER.lower())})
        route.fulfill(status=200, headers=headers,
                      json=[{"text": f"Antwort auf {body.get('message')}"}, *(extra or [])])

    def preflight_or_poll(route: Any) -> None:
        route.fulfill(status=200, json=[], headers={**headers, "Access-Control-Allow-Headers": "*"})

    page.route(re.compile(r"/webhooks/rest/webhook$"), webhook)
    page.route(re.compile(r"/webhooks/rest/outbox"), preflight_or_poll)
    return received


def storage(page: Any, area: str) -> dict[str, str]:
    return dict(page.evaluate(f"Object.fromEntries(Object.entries(window.{area}))"))


def new_token() -> str:
    return f"v1.{secrets.token_urlsafe(12)}.{secrets.token_urlsafe(32)}"


def test_by_default_only_this_tab_keeps_the_conversation(page: Any, lone_chat: LoneChat) -> None:  # noqa: F811
    from playwright.sync_api import expect

    token = new_token()
    fake_rasa(page, token)
    open_chat(page, lone_chat.url)
    expect(page.get_by_label("Auf diesem Gerät merken")).not_to_be_checked()
    say(page, "Hallo MERKMAL")
    assert storage(page, "sessionStorage")[SESSION_KEY] == token
    assert "Hallo MERKMAL" in storage(page, "sessionStorage")[HISTORY_KEY]
    assert storage(page, "localStorage") == {}  # nothing on the device

    page.reload()  # same tab: the conversation is still there
    open_chat(page, lone_chat.url)
    expect(page.get_by_role("log")).to_contain_text("Hallo MERKMAL")

    other = page.context.new_page()  # a new tab of the same browser: a new conversation
    fake_rasa(other, new_token())
    open_chat(other, lone_chat.url)
    expect(other.locator(".msg")).to_have_count(0)
    other.close()


def test_remember_on_this_device_and_unticking_wipes_it(page: Any, lone_chat: LoneChat) -> None:  # noqa: F811
    from playwright.sync_api import expect

    token = new_token()
    received = fake_rasa(page, token)
    open_chat(page, lone_chat.url)
    say(page, "Hallo GERÄT")
    box = page.get_by_label("Auf diesem Gerät merken")
    box.check()
    expect(page.get_by_role("status")).to_contain_text("auf diesem Gerät")
    local = storage(page, "localStorage")
    assert local[REMEMBER_KEY] == "1" and local[SESSION_KEY] == token and "Hallo GERÄT" in local[HISTORY_KEY]
    assert SESSION_KEY not in storage(page, "sessionStorage")

    tab = page.context.new_page()  # a new tab continues the remembered conversation with its token
    tab_received = fake_rasa(tab, new_token())
    open_chat(tab, lone_chat.url)
    expect(tab.get_by_role("log")).to_contain_text("Hallo GERÄT")
    expect(tab.get_by_label("Auf diesem Gerät merken")).to_be_checked()
    say(tab, "weiter")
    assert tab_received[-1]["token"] == token
    tab.close()

    box.uncheck()  # unticking: nothing of the conversation stays in localStorage
    expect(page.get_by_role("status")).to_contain_text("nur in diesem Tab")
    assert storage(page, "localStorage") == {}
    assert storage(page, "sessionStorage")[SESSION_KEY] == token  # this tab goes on
    say(page, "noch da?")
    assert received[-1]["token"] == token
    fresh = page.context.new_page()
    fake_rasa(fresh, new_token())
    open_chat(fresh, lone_chat.url)
    expect(fresh.locator(".msg")).to_have_count(0)
    fresh.close()


def test_export_in_a_reply_is_offered_as_a_json_download(page: Any, lone_chat: LoneChat,  # noqa: F811
                                                         tmp_path: Path) -> None:
    from playwright.sync_api import expect

    export = {"format": "bo-hessen-export/1", "events": [{"type": "user", "text": "<b>Meine Daten</b>"}]}
    fake_rasa(page, new_token(), extra=[{"custom": {"data_export": export}}])
    open_chat(page, lone_chat.url)
    say(page, "Meine Daten")
    link = page.get_by_role("link", name="Meine Daten herunterladen (JSON-Datei)")
    expect(link).to_be_visible()
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "meine-daten.json"
    target = tmp_path / "export.json"
    download.save_as(target)
    assert json.loads(target.read_text(encoding="utf-8")) == export
    assert "data_export" not in storage(page, "sessionStorage")[HISTORY_KEY]  # not kept in the history
    expect(page.get_by_role("log").locator("b")).to_have_count(0)
