"""The console's side of issue 14 part C: usage reports from Rasa's REST channel, the page /verpasst with review
and YAML export, and the satisfaction rating after closing a case."""

from __future__ import annotations

import datetime as dt

import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from channels.push.messenger import graph_pusher
from core.db import session_scope
from core.protocol import CONSOLE_CONVERSATIONS_PATH, CONSOLE_USAGE_PATH, INBOUND_TOKEN_HEADER, pseudonym
from core.settings import ConsoleSettings
from handoff import feedback
from handoff.feedback_models import MissedMessage
from handoff.models import AuditEntry, OutboxMessage
from tests.console.conftest import CSRF_RE, INBOUND_TOKEN, XSS, add_handoff, csrf_of
from tests.console.test_channel_push import PushReceiver, receiver  # noqa: F401, F811  (fixture)

P = pseudonym("k", "conv-1")


def report(client: TestClient, token: str | None = INBOUND_TOKEN, **body: object) -> int:
    payload = {"pseudonym": P, "channel": "rest", "intent": "nlu_fallback", "confidence": 0.4, "missed": True,
               "text": "Was kostet ein Führerschein?", **body}
    headers = {INBOUND_TOKEN_HEADER: token} if token else {}
    return client.post(CONSOLE_USAGE_PATH, json=payload, headers=headers).status_code


def test_usage_report_needs_the_inbound_token(client: TestClient, factory: sessionmaker[Session]) -> None:
    assert report(client, token=None) == 401
    assert report(client, token="falsch") == 401
    assert report(client, pseudonym="conv-1") == 422  # a raw conversation id is refused
    assert report(client) == 204
    assert report(client, missed=False, intent="ask_funding", confidence=0.95, text=None) == 204
    with session_scope(factory) as s:
        assert [m.text for m in s.scalars(select(MissedMessage))] == ["Was kostet ein Führerschein?"]
        summary = feedback.missed_summary(s, dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
                                          dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
        assert (summary.conversations_total, summary.conversations_with_missed) == (1, 1)


def test_missed_page_escapes_groups_and_labels(adviser_client: TestClient, factory: sessionmaker[Session]) -> None:
    assert report(adviser_client, text=XSS) == 204
    assert report(adviser_client, text="Wie viel Geld bekomme ich?") == 204
    assert report(adviser_client, text="wie viel geld bekomme ich", intent="ask_training_pay") == 204
    page = adviser_client.get("/verpasst")
    assert page.status_code == 200
    assert XSS not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "0 von 2" in page.text and 'href="/verpasst" aria-current="page"' in page.text
    token = CSRF_RE.search(page.text).group(1)  # type: ignore[union-attr]

    def label(normalized: str, value: str) -> object:
        return adviser_client.post("/verpasst/label", data={"csrf_token": token, "normalized": normalized,
                                                            "label": value}, follow_redirects=False)

    assert label("wie viel geld bekomme ich", "intent:gibt_es_nicht").status_code == 400
    assert label("wie viel geld bekomme ich", "intent:ask_training_pay\nnlu:").status_code == 400
    assert label("nicht da", "out_of_scope").status_code == 404
    assert adviser_client.post("/verpasst/label", data={"normalized": "x", "label": "out_of_scope"}).status_code == 403
    r = label("wie viel geld bekomme ich", "intent:ask_training_pay")
    assert r.status_code == 303 and r.headers["location"] == "/verpasst?ok=saved"
    page = adviser_client.get("/verpasst?ok=saved").text
    assert "1 von 2" in page and "Gespeichert." in page and "geprüft: Intent: ask_training_pay" in page
    assert "Wie viel Geld" not in adviser_client.get("/verpasst?offen=1").text

    export = adviser_client.get("/verpasst/export.yml")
    assert export.status_code == 200 and "attachment" in export.headers["content-disposition"]
    data = yaml.safe_load(export.text)
    assert data["nlu"] == [{"intent": "ask_training_pay",
                            "examples": "- Wie viel Geld bekomme ich?\n- wie viel geld bekomme ich\n"}]
    with session_scope(factory) as s:
        actions = [a.action for a in s.scalars(select(AuditEntry))]
        assert "missed_review" in actions and "missed_export" in actions
        assert all("Geld" not in a.detail for a in s.scalars(select(AuditEntry)))  # no user text in the audit log


def test_missed_page_needs_a_login(client: TestClient) -> None:
    r = client.get("/verpasst", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert client.get("/verpasst/export.yml", follow_redirects=False).status_code == 303


def test_closing_asks_once_and_the_case_page_shows_the_rating(adviser_client: TestClient,
                                                              factory: sessionmaker[Session]) -> None:
    hid = add_handoff(factory, "conv-rate", summary={"persona": "parent"})
    token = csrf_of(adviser_client, f"/handoffs/{hid}")
    adviser_client.post(f"/handoffs/{hid}/close", data={"csrf_token": token, "outcome": "Frage beantwortet"})
    adviser_client.post(f"/handoffs/{hid}/resume", data={"csrf_token": token})  # already resumed: no 2nd question
    with session_scope(factory) as s:
        payloads = [r.payload for r in s.scalars(select(OutboxMessage).where(OutboxMessage.conversation_id == "conv-rate"))]
    questions = [p for p in payloads if p.get("buttons")]
    assert len(questions) == 1 and "Wie zufrieden waren Sie" in questions[0]["text"]
    assert questions[0]["buttons"][4]["payload"] == '/rate_handoff{"handoff_rating":"5"}'
    assert "noch keine" in adviser_client.get(f"/handoffs/{hid}").text
    with session_scope(factory) as s:
        assert feedback.rate_latest(s, "conv-rate", 4) is not None
        assert feedback.add_comment(s, "conv-rate", XSS)
    page = adviser_client.get(f"/handoffs/{hid}").text
    assert "4 von 5" in page and XSS not in page and "&lt;script&gt;" in page


def test_messenger_gets_the_rating_buttons_as_quick_replies(receiver: PushReceiver) -> None:  # noqa: F811
    push = graph_pusher("PAGE-TOKEN", receiver.url.removesuffix("/internal/push") + "/v19.0")
    assert push("psid-1", dict(feedback.rating_question(None)))
    (body, _), = receiver.received
    replies = body["message"]["quick_replies"]
    assert [r["payload"] for r in replies] == [feedback.rating_payload(n) for n in range(1, 6)]
    assert all(r["content_type"] == "text" and len(r["title"]) <= 20 for r in replies)


def test_deleting_a_conversation_deletes_its_missed_messages(client: TestClient, factory: sessionmaker[Session],
                                                              settings: ConsoleSettings) -> None:
    mine = settings.pseudonym("conv-del")
    assert report(client, pseudonym=mine, text="meine Frage") == 204
    assert report(client, pseudonym=settings.pseudonym("conv-other"), text="andere Frage") == 204
    r = client.delete(f"{CONSOLE_CONVERSATIONS_PATH}/conv-del", headers={INBOUND_TOKEN_HEADER: INBOUND_TOKEN})
    assert r.status_code == 200
    with session_scope(factory) as s:
        assert [m.text for m in s.scalars(select(MissedMessage))] == ["andere Frage"]
