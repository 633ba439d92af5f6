"""Console 2.0 in chromium against the real stack, with hand-offs created by real REST conversations: urgency
colours and labels in the inbox, the dashboard (screenshots in results/screenshots/; with UPDATE_DOCS_SCREENSHOTS=1
the README's docs/img/console-inbox.png and docs/img/console-dashboard.png), a canned reply and a knowledge-base article inserted by keyboard only, and the
notification opt-in (permission granted in the browser context) announcing a new hand-off."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from core.db import make_engine, make_session_factory, session_scope
from handoff.models import Handoff
from tests.e2e.conftest import start_handoff
from tests.servers import Stack, console_cli

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
ROOT = Path(__file__).resolve().parents[2]
# the README's screenshots are rewritten only on request (UPDATE_DOCS_SCREENSHOTS=1); a plain `make test` leaves the
# tracked files alone and puts its screenshots into results/screenshots/ (ignored by git)
DOCS_IMG = ROOT / "docs" / "img" if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1" else ROOT / "results" / "screenshots"

# Records every notification the page shows (the real one is shown too; headless chromium just has no screen).
RECORD_NOTIFICATIONS = """
(() => {
  const Real = window.Notification;
  if (!Real) { return; }
  window.__notes = [];
  function Recording(title, options) { window.__notes.push({title: title, body: (options || {}).body || ""});
                                       return new Real(title, options); }
  Recording.requestPermission = (...args) => Real.requestPermission(...args);
  Object.defineProperty(Recording, "permission", {get: () => Real.permission});
  window.Notification = Recording;
})();
"""


@pytest.fixture(scope="module")
def admin(stack: Stack) -> tuple[str, str]:
    name, password = f"e2e-chefin-{secrets.token_hex(3)}", secrets.token_urlsafe(16)
    console_cli(stack.env, "create-user", name, "--role", "admin", "--password-stdin", stdin=password + "\n")
    return name, password


def login(page: Any, stack: Stack, user: str | None = None, password: str | None = None) -> None:
    page.goto(f"{stack.console_url}/login")
    page.get_by_label("Benutzername").fill(user or stack.adviser_user)
    page.get_by_label("Passwort").fill(password or stack.adviser_password)
    page.get_by_role("button", name="Anmelden").click()
    page.get_by_role("heading", name="Eingang").wait_for()


def wait_until(page: Any, expression: str, seconds: float) -> None:
    """Poll a page expression (``wait_for_function`` would need 'unsafe-eval', which the console's CSP forbids)."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"not true after {seconds} s: {expression}"
        time.sleep(0.25)


def backdate(kb_url: str, topic: str, days: int) -> None:
    """Let a hand-off have waited ``days`` (long enough to be overdue whatever the office hours)."""
    with session_scope(make_session_factory(make_engine(kb_url))) as s:
        hid = s.scalar(select(Handoff.id).where(Handoff.topic == topic))
        assert hid is not None
        s.execute(update(Handoff).where(Handoff.id == hid)
                  .values(created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=days)))


def test_inbox_urgency_and_dashboard(browser: Any, stack: Stack, kb_url: str) -> None:
    from playwright.sync_api import expect

    tag = uuid.uuid4().hex[:6]
    old_topic, new_topic = f"Alte Frage ({tag})", f"Teilzeit mit Kind ({tag})"
    start_handoff(stack, f"c2-old-{tag}", old_topic)
    start_handoff(stack, f"c2-new-{tag}", new_topic)
    start_handoff(stack, f"c2-two-{tag}", new_topic)  # the same topic twice: it appears on the dashboard
    backdate(kb_url, old_topic, days=10)

    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        login(page, stack)
        overdue = page.get_by_role("row").filter(has_text=old_topic)
        fresh = page.get_by_role("row").filter(has_text=new_topic).first
        expect(overdue.locator(".urgency")).to_have_text("überfällig")  # text label, not colour alone
        expect(fresh.locator(".urgency")).to_have_text("im Zeitziel")
        red = overdue.locator(".urgency").evaluate("e => getComputedStyle(e).backgroundColor")
        green = fresh.locator(".urgency").evaluate("e => getComputedStyle(e).backgroundColor")
        assert red == "rgb(160, 25, 25)" and green != red
        rows = page.locator("tbody tr").all_inner_texts()
        first_mine = next(i for i, r in enumerate(rows) if tag in r)
        assert old_topic in rows[first_mine]  # the overdue one comes before the fresh ones
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_IMG / "console-inbox.png"))

        page.get_by_role("link", name="Dashboard").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
        charts = page.locator("svg.chart")
        expect(charts).to_have_count(3)
        expect(page.get_by_role("img", name="Übergaben pro Tag nach Kanal")).to_be_visible()
        expect(page.locator("section", has=page.get_by_role("heading", name="Häufigste Themen"))).to_contain_text(
            new_topic)
        page.get_by_text("Als Tabelle").first.click()  # the numbers as a table, reachable by keyboard too
        expect(page.get_by_role("table", name="Übergaben pro Tag nach Kanal")).to_be_visible()
        page.get_by_text("Als Tabelle").first.click()
        page.get_by_label("Von").fill((dt.date.today() - dt.timedelta(days=13)).isoformat())
        page.get_by_role("button", name="Anzeigen").click()
        expect(page.locator("p.muted").first).to_contain_text("Zeitraum")
        page.screenshot(path=str(DOCS_IMG / "console-dashboard.png"), full_page=True)
    finally:
        context.close()


def test_canned_reply_and_article_inserted_by_keyboard(page: Any, stack: Stack, admin: tuple[str, str]) -> None:
    from playwright.sync_api import expect

    tag = uuid.uuid4().hex[:6]
    who = f"c2-reply-{tag}"
    topic = f"Frage zur Teilzeit ({tag})"
    start_handoff(stack, who, topic)

    # an admin writes a Textbaustein with placeholders (the title is shown as text, never as HTML)
    login(page, stack, *admin)
    page.get_by_role("link", name="Textbausteine").click()
    title = f"Begrüßung {tag} <b>"
    page.get_by_label("Titel", exact=True).fill(title)
    page.get_by_label("Text", exact=True).fill("Hallo, hier ist {berater_name}. Wir sind {sprechzeiten} da. {offen}")
    page.get_by_role("button", name="Textbaustein anlegen").click()
    expect(page.locator(".alert.ok")).to_contain_text("angelegt")
    expect(page.get_by_role("cell", name=title, exact=True)).to_be_visible()

    # open the case, keyboard only in the reply box
    page.goto(f"{stack.console_url}/")
    page.get_by_role("row").filter(has_text=topic).get_by_role("link").first.click()
    search = page.get_by_role("combobox", name="Textbaustein oder Artikel einfügen")
    search.focus()
    page.keyboard.type(f"Begrüßung {tag}")
    expect(page.locator("#snippet-list").get_by_role("option").first).to_contain_text(title)
    page.keyboard.press("Enter")
    reply = page.get_by_label("Antwort an die Person")
    expect(reply).to_be_focused()
    text = reply.input_value()
    assert text.startswith(f"Hallo, hier ist {admin[0]}. Wir sind ") and "Uhr da. {offen}" in text

    search.focus()
    page.keyboard.type("Ausbildung in Teilzeit")
    option = page.locator("#snippet-list").get_by_role("option").filter(has_text="Ausbildung in Teilzeit").first
    expect(option).to_be_visible()
    expect(option).to_contain_text("Artikel")
    while option.get_attribute("aria-selected") != "true":
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    text = reply.input_value()
    assert "Teilzeit" in text and "Quelle:" in text and "https://" in text and "(Stand: " in text
    assert text.index("Hallo, hier ist") < text.index("Quelle:")  # inserted after the greeting

    reply.fill(text.replace("{offen}", "Bis gleich!"))
    page.get_by_role("button", name="Antwort senden").click()
    sent = [m["text"] for m in stack.outbox(who)]
    assert len(sent) == 1 and "Quelle:" in sent[0] and "Bis gleich!" in sent[0] and "<b>" not in sent[0]


def test_notification_opt_in_announces_a_new_handoff(browser: Any, stack: Stack) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(locale="de-DE")
    context.grant_permissions(["notifications"], origin=stack.console_url)
    context.add_init_script(RECORD_NOTIFICATIONS)
    page = context.new_page()
    try:
        login(page, stack)
        button = page.get_by_role("button", name="Benachrichtigungen einschalten")
        expect(button).to_be_visible()
        button.focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("button", name="Benachrichtigungen an")).to_have_attribute("aria-pressed", "true")
        assert page.evaluate("localStorage.getItem('console-notify')") == "on"
        wait_until(page, "localStorage.getItem('console-notify-last') !== null", 15)

        tag = uuid.uuid4().hex[:6]
        start_handoff(stack, f"c2-notify-{tag}", f"Neue Frage ({tag})")
        wait_until(page, "window.__notes ? window.__notes.length : 0", 45)
        notes = page.evaluate("window.__notes")
        assert notes[0]["title"] == "Neue Übergabe in der Beratungskonsole"
        assert "Übergabe #" in notes[0]["body"] and tag not in notes[0]["body"]  # number only, no content
        expect(page.locator("#notify-status")).to_contain_text("Neue Übergabe")

        page.reload()  # the choice is remembered
        expect(page.get_by_role("button", name="Benachrichtigungen an")).to_be_visible()
    finally:
        context.close()
