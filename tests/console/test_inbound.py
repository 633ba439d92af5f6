"""The channel endpoints: user messages during a hand-off and the outbox (X-Inbound-Token)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from channels.console.app import create_app
from core.db import session_scope
from core.settings import ConsoleSettings
from handoff import outbox
from tests.console.conftest import INBOUND_TOKEN, add_handoff, load

HEADERS = {"X-Inbound-Token": INBOUND_TOKEN}


def test_token_is_checked(client: TestClient) -> None:
    body = {"conversation_id": "c", "text": "hallo", "channel": "rest"}
    assert client.post("/api/inbound", json=body).status_code == 401
    assert client.post("/api/inbound", json=body, headers={"X-Inbound-Token": "falsch"}).status_code == 401
    assert client.get("/api/outbox/c", headers={"X-Inbound-Token": INBOUND_TOKEN + "x"}).status_code == 401
    assert client.get("/api/outbox/c", headers=HEADERS).status_code == 200


def test_without_configured_token_the_endpoints_are_off(settings: ConsoleSettings) -> None:
    with TestClient(create_app(settings.model_copy(update={"inbound_token": None}))) as c:
        r = c.get("/api/outbox/c", headers={"X-Inbound-Token": ""})
        assert r.status_code == 503


def test_user_message_is_stored_and_pending_replies_returned(client: TestClient,
                                                             factory: sessionmaker[Session]) -> None:
    hid = add_handoff(factory, "conv-in")
    with session_scope(factory) as s:
        outbox.dispatch(s, "conv-in", "rest", {"text": "Antwort der Beraterin"})
        outbox.dispatch(s, "other", "rest", {"text": "nicht für dich"})
    r = client.post("/api/inbound", json={"conversation_id": "conv-in", "text": "Danke!", "channel": "rest"},
                    headers=HEADERS)
    assert r.status_code == 200
    assert r.json() == {"stored": True,
                        "messages": [{"recipient_id": "conv-in", "text": "Antwort der Beraterin"}]}
    assert [(m.role, m.text) for m in load(factory, hid).messages] == [("user", "Danke!")]
    again = client.post("/api/inbound", json={"conversation_id": "conv-in", "text": "   "}, headers=HEADERS)
    assert again.json() == {"stored": False, "messages": []}  # delivered once; blank text not stored
    assert len(load(factory, hid).messages) == 1


def test_no_open_handoff(client: TestClient) -> None:
    r = client.post("/api/inbound", json={"conversation_id": "nobody", "text": "hallo"}, headers=HEADERS)
    assert r.json() == {"stored": False, "messages": []}
    bad = client.post("/api/inbound", json={"conversation_id": "", "text": "x"}, headers=HEADERS)
    assert bad.status_code == 422


def test_outbox_is_taken_once(client: TestClient, factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as s:
        outbox.dispatch(s, "web/1", "web", {"text": "eins"})
        outbox.dispatch(s, "web/1", "web", {"text": "zwei", "buttons": [{"title": "OK", "payload": "/ok"}]})
    r = client.get("/api/outbox/web%2F1", headers=HEADERS)
    assert r.json() == {"messages": [
        {"recipient_id": "web/1", "text": "eins"},
        {"recipient_id": "web/1", "text": "zwei", "buttons": [{"title": "OK", "payload": "/ok"}]},
    ]}
    assert client.get("/api/outbox/web%2F1", headers=HEADERS).json() == {"messages": []}
