"""Console 2.0 with FastAPI's TestClient: dashboard and /api/v1/stats, urgency in the inbox, inbox summary,
canned replies (admin pages, CSRF, escaping, search with placeholders), article search, e-mail notifications
against a local SMTP server (aiosmtpd)."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from channels.console import notify
from channels.console.accounts import issue_token
from core.db import session_scope
from core.settings import ConsoleSettings
from handoff import notifications
from handoff.models import Handoff, HandoffMessage, utcnow
from knowledge_base.models import Article
from tests.console.conftest import XSS, add_adviser, add_handoff, adviser_id, csrf_of, free_port

ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def always_open(monkeypatch: pytest.MonkeyPatch) -> None:
    """Office hours around the clock, so waiting times do not depend on when the test runs."""
    monkeypatch.setenv("HANDOFF_OFFICE_HOURS", "Mo-So 00:00-24:00")


def token_for(factory: sessionmaker[Session], username: str) -> dict[str, str]:
    with session_scope(factory) as s:
        return {"Authorization": f"Bearer {issue_token(s, username)}"}


def reply_in(factory: sessionmaker[Session], handoff_id: int, minutes_after: int) -> None:
    with session_scope(factory) as s:
        handoff = s.get(Handoff, handoff_id)
        assert handoff is not None
        s.add(HandoffMessage(handoff_id=handoff_id, role="adviser", text="Hallo",
                             created_at=handoff.created_at + dt.timedelta(minutes=minutes_after)))


# --- dashboard ---------------------------------------------------------------------------------------------------

def test_dashboard_page_charts_tables_and_escaping(always_open: None, adviser_client: TestClient,
                                                 factory: sessionmaker[Session]) -> None:
    a = add_handoff(factory, "d1", topic=XSS, channel="telegram", minutes_ago=30)
    add_handoff(factory, "d2", topic=XSS, channel="rest", reason="fallback", minutes_ago=20)
    add_handoff(factory, "d3", topic="Einmaliges Thema von Max", minutes_ago=10)
    reply_in(factory, a, 12)
    page = adviser_client.get("/dashboard")
    assert page.status_code == 200
    html = page.text
    assert 'aria-current="page">Dashboard' in html
    assert html.count("<svg") == 3 and "<title" in html and "<desc" in html
    assert "Übergaben pro Tag nach Kanal" in html and "telegram" in html and "Bot kam nicht weiter" in html
    assert ESCAPED in html and "<script>alert" not in html  # a topic named twice is listed, escaped
    assert "Einmaliges Thema von Max" not in html  # named once: not shown
    assert re.search(r"Übergaben</dt><dd>3</dd>", html)
    assert "12 Min." in html  # median of the single first reply
    bad = adviser_client.get("/dashboard", params={"from": "gestern", "to": "2026-11-01"})
    assert bad.status_code == 200 and "JJJJ-MM-TT" in bad.text
    backwards = adviser_client.get("/dashboard", params={"from": "2026-11-10", "to": "2026-11-01"})
    assert "vor seinem Anfang" in backwards.text


def test_dashboard_needs_login(client: TestClient) -> None:
    r = client.get("/dashboard", follow_redirects=False)
    assert r.status_code == 303 and "/login" in r.headers["location"]


def test_stats_json_with_token_or_session(always_open: None, adviser_client: TestClient,
                                          factory: sessionmaker[Session]) -> None:
    add_handoff(factory, "s1", channel="telegram")
    today = dt.datetime.now(ZoneInfo("Europe/Berlin")).date()
    params = {"from": (today - dt.timedelta(days=2)).isoformat(), "to": today.isoformat()}
    by_cookie = adviser_client.get("/api/v1/stats", params=params)
    assert by_cookie.status_code == 200
    data = by_cookie.json()
    assert data["total"] == 1 and len(data["per_day"]) == 3 and data["per_day"][-1]["by_channel"] == {"telegram": 1}
    assert data["first_reply"]["target_minutes"] == 60
    # the slots of satisfaction and missed messages, filled by handoff.feedback (issue 14, part C)
    assert data["ratings"]["count"] == 0 and data["missed"]["conversations_total"] == 0
    assert data["missed"]["questions"] == []

    adviser_client.cookies.clear()
    assert adviser_client.get("/api/v1/stats").status_code == 401
    headers = token_for(factory, "berta")
    assert adviser_client.get("/api/v1/stats", params=params, headers=headers).json()["total"] == 1
    assert adviser_client.get("/api/v1/stats", params={"from": "x"}, headers=headers).status_code == 422
    assert adviser_client.get("/api/v1/stats", params={"from": "2020-01-01", "to": "2026-01-01"},
                              headers=headers).status_code == 422


# --- response targets in the inbox ----------------------------------------------------------------------------

def test_inbox_sorts_by_urgency_with_text_labels(always_open: None, adviser_client: TestClient,
                                                 factory: sessionmaker[Session]) -> None:
    fresh = add_handoff(factory, "u-fresh", topic="frisch", minutes_ago=5)
    soon = add_handoff(factory, "u-soon", topic="bald", minutes_ago=50)
    late = add_handoff(factory, "u-late", topic="spät", minutes_ago=90)
    berta = adviser_id(factory, "berta")
    answered = add_handoff(factory, "u-answered", topic="beantwortet", minutes_ago=300, status="assigned",
                           assigned_to="berta")
    reply_in(factory, answered, 3)
    assert berta
    html = adviser_client.get("/").text
    order = [html.index(f"Übergabe #{i}<") for i in (late, soon, fresh, answered)]
    assert order == sorted(order)
    assert "dringendste zuerst" in html
    for level, label in (("overdue", "überfällig"), ("soon", "bald fällig"), ("ok", "im Zeitziel")):
        assert f'data-urgency="{level}">{label}</span>' in html
    assert "90 von 60 Min. in der Sprechzeit" in html
    assert 'data-urgency="answered">beantwortet' in html


def test_target_setting_changes_levels(always_open: None, settings: ConsoleSettings,
                                       factory: sessionmaker[Session]) -> None:
    from channels.console.app import create_app
    from tests.console.conftest import login

    add_adviser(factory, "berta")
    add_handoff(factory, "t1", minutes_ago=50)
    with TestClient(create_app(settings.model_copy(update={"first_reply_target_minutes": 30})),
                    base_url="http://localhost") as c:
        assert login(c, "berta").status_code == 303
        assert 'data-urgency="overdue"' in c.get("/").text


def test_inbox_summary_counts_without_content(always_open: None, adviser_client: TestClient,
                                              factory: sessionmaker[Session]) -> None:
    add_handoff(factory, "n1", topic=XSS, minutes_ago=120)
    newest = add_handoff(factory, "n2", topic="Geheimes Thema", minutes_ago=1)
    add_handoff(factory, "n3", status="assigned", assigned_to="berta")
    r = adviser_client.get("/api/v1/inbox/summary")
    assert r.status_code == 200
    assert r.json() == {"open": 3, "waiting": 2, "mine": 1, "overdue": 1, "newest_waiting_id": newest}
    assert "Geheim" not in r.text and "script" not in r.text and "n2" not in r.text
    adviser_client.cookies.clear()
    assert adviser_client.get("/api/v1/inbox/summary").status_code == 401


# --- canned replies -------------------------------------------------------------------------------------------------

def test_textbausteine_admin_only(adviser_client: TestClient) -> None:
    assert adviser_client.get("/textbausteine").status_code == 403
    assert 'href="/textbausteine"' not in adviser_client.get("/").text


def test_textbausteine_create_edit_delete(admin_client: TestClient, factory: sessionmaker[Session]) -> None:
    assert 'href="/textbausteine"' in admin_client.get("/").text
    no_csrf = admin_client.post("/textbausteine", data={"title": "X", "text": "Y"}, follow_redirects=False)
    assert no_csrf.status_code == 403
    token = csrf_of(admin_client, "/textbausteine")
    r = admin_client.post("/textbausteine", data={"csrf_token": token, "title": XSS,
                                                  "text": f"Hallo, hier ist {{berater_name}}. {{foo}} {XSS}"},
                          follow_redirects=False)
    assert r.status_code == 303
    page = admin_client.get(r.headers["location"]).text
    assert "Der Textbaustein wurde angelegt." in page
    assert ESCAPED in page and "<script>alert" not in page
    assert "Unbekannte Platzhalter: <code>{foo}</code>" in page
    reply_id = int(re.search(r'href="/textbausteine/(\d+)"', page).group(1))  # type: ignore[union-attr]

    dup = admin_client.post("/textbausteine", data={"csrf_token": token, "title": XSS, "text": "x"})
    assert dup.status_code == 400 and "gibt es schon" in dup.text

    edit = admin_client.get(f"/textbausteine/{reply_id}")
    assert edit.status_code == 200 and ESCAPED in edit.text
    saved = admin_client.post(f"/textbausteine/{reply_id}", data={"csrf_token": token, "title": "Begrüßung",
                                                                  "text": "Hallo, ich bin {berater_name}."},
                              follow_redirects=False)
    assert saved.status_code == 303
    assert "Begrüßung" in admin_client.get("/textbausteine").text
    assert admin_client.get("/textbausteine/999").status_code == 404

    found = admin_client.get("/api/v1/textbausteine", params={"q": "begr"}).json()
    assert found == [{"kind": "textbaustein", "id": reply_id, "title": "Begrüßung",
                      "text": "Hallo, ich bin Chefin.", "source_url": None, "stand": None}]

    gone = admin_client.post(f"/textbausteine/{reply_id}/delete", data={"csrf_token": token},
                             follow_redirects=False)
    assert gone.status_code == 303
    assert admin_client.get("/api/v1/textbausteine", params={"q": "begr"}).json() == []
    audit = admin_client.get("/audit").text
    assert "Textbaustein" in audit


def test_search_fills_placeholders_for_the_adviser(always_open: None, adviser_client: TestClient,
                                                   factory: sessionmaker[Session]) -> None:
    from handoff import canned

    with session_scope(factory) as s:
        canned.create(s, "Sprechzeiten", "{berater_name}: wir sind {sprechzeiten} da, {unklar}.", None)
    found = adviser_client.get("/api/v1/textbausteine", params={"q": "sprech"}).json()
    assert found[0]["text"] == "Berta Beraterin: wir sind Mo–So 0–24 Uhr da, {unklar}."
    assert adviser_client.get("/api/v1/textbausteine", params={"q": "x" * 101}).status_code == 422


def test_article_search_inserts_short_text_source_and_stand(adviser_client: TestClient,
                                                            factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as s:
        s.add(Article(key="teilzeit", topic="faq", title="Ausbildung in Teilzeit", summary="Eine Ausbildung geht "
                      "auch in Teilzeit.", body="Lang …", source_name="§ 7a BBiG",
                      source_url="https://www.gesetze-im-internet.de/bbig_2005/__7a.html",
                      stand=dt.date(2026, 11, 1)))
    r = adviser_client.get("/api/v1/articles", params={"q": "teilzeit"})
    assert r.status_code == 200
    [article] = r.json()
    assert article["title"] == "Ausbildung in Teilzeit" and article["stand"] == "2026-11-01"
    assert article["text"] == ("Eine Ausbildung geht auch in Teilzeit.\n\nQuelle: § 7a BBiG – "
                               "https://www.gesetze-im-internet.de/bbig_2005/__7a.html (Stand: 01.11.2026)")
    assert adviser_client.get("/api/v1/articles", params={"q": "zzz-nichts"}).json() == []


def test_reply_box_has_the_search_field(adviser_client: TestClient, factory: sessionmaker[Session]) -> None:
    hid = add_handoff(factory, "r1")
    html = adviser_client.get(f"/handoffs/{hid}").text
    assert 'role="combobox"' in html and 'aria-controls="snippet-list"' in html
    assert '<script src="/static/console2.js" defer></script>' in html
    assert adviser_client.get("/static/console2.js").status_code == 200


# --- e-mail notifications ---------------------------------------------------------------------------------------

class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def mail_settings(settings: ConsoleSettings, port: int) -> ConsoleSettings:
    return settings.model_copy(update={
        "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False,
        "notify_email": "team@example.org, leitung@example.org", "public_url": "https://konsole.example.org/",
    })


def test_email_per_new_handoff_with_link_only(settings: ConsoleSettings, factory: sessionmaker[Session],
                                              smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    hid = add_handoff(factory, "mail-1", topic="Geheimes Thema", contact="0170 1234567")
    add_handoff(factory, "mail-old", minutes_ago=3 * 24 * 60)  # older than a day: not mailed
    cfg = mail_settings(settings, port)
    assert notify.send_due(cfg, factory) == 1
    assert notify.send_due(cfg, factory) == 0  # once per hand-off
    [(to, content)] = inbox.messages
    assert to == ["team@example.org", "leitung@example.org"]
    assert f"https://konsole.example.org/handoffs/{hid}" in content and f"#{hid}" in content
    for secret in ("Geheim", "0170", "mail-1", "Mechatroniker", "Kassel"):
        assert secret not in content


def test_email_failure_is_logged_without_content_and_retried(
        settings: ConsoleSettings, factory: sessionmaker[Session], smtp: tuple[Inbox, int],
        caplog: pytest.LogCaptureFixture) -> None:
    inbox, port = smtp
    hid = add_handoff(factory, "mail-2", topic="Geheimes Thema")
    down = mail_settings(settings, free_port())  # nobody listens there
    with caplog.at_level(logging.WARNING):
        assert notify.send_due(down, factory) == 0
    assert f"hand-off #{hid} failed" in caplog.text and "Geheim" not in caplog.text and "mail-2" not in caplog.text
    assert notify.send_due(mail_settings(settings, port), factory) == 0  # not before the pause
    later = utcnow() + notifications.backoff(1) + dt.timedelta(seconds=1)
    assert notify.send_due(mail_settings(settings, port), factory, now=later) == 1
    assert len(inbox.messages) == 1


def test_no_recipient_no_claim(settings: ConsoleSettings, factory: sessionmaker[Session],
                               smtp: tuple[Inbox, int]) -> None:
    _, port = smtp
    hid = add_handoff(factory, "mail-3")
    cfg = mail_settings(settings, port).model_copy(update={"notify_email": ""})
    assert notify.send_due(cfg, factory) == 0
    with factory() as s:
        assert notifications.state(s, hid) is None  # nothing used up: sent once an address is configured


def test_email_goes_to_the_routed_teams_address(settings: ConsoleSettings, factory: sessionmaker[Session],
                                                smtp: tuple[Inbox, int]) -> None:
    from handoff.teams import Team

    inbox, port = smtp
    routed = add_handoff(factory, "mail-team")
    unrouted = add_handoff(factory, "mail-fallback")
    with session_scope(factory) as s:
        team = Team(name="OloV Kassel", region=[], topics=[], email="kassel@example.org")
        s.add(team)
        s.flush()
        handoff = s.get(Handoff, routed)
        assert handoff is not None
        handoff.team_id = team.id
    assert notify.send_due(mail_settings(settings, port), factory) == 2
    to = {content.split("/handoffs/")[1].split()[0]: rcpt for rcpt, content in inbox.messages}
    assert to[str(routed)] == ["kassel@example.org"]
    assert to[str(unrouted)] == ["team@example.org", "leitung@example.org"]
