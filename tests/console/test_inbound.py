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
    assert r.json()["stored"] is True
    [pending] = r.json()["messages"]
    assert pending["recipient_id"] == "conv-in" and pending["text"] == "Antwort der Beraterin"
    assert [(m.role, m.text) for m in load(factory, hid).messages] == [("user", "Danke!")]
    again = client.post("/api/inbound", json={"conversation_id": "conv-in", "text": "   "}, headers=HEADERS)
    assert again.json() == {"stored": False, "messages": [pending]}  # still pending until acknowledged; blank text not stored
    assert len(load(factory, hid).messages) == 1
    ack = client.post("/api/outbox-ack", json={"conversation_id": "conv-in", "ids": [pending["custom"]["outbox_id"]]},
                      headers=HEADERS)
    assert ack.json() == {"marked": 1}
    assert client.post("/api/inbound", json={"conversation_id": "conv-in", "text": "x"},
                       headers=HEADERS).json()["messages"] == []


def test_no_open_handoff(client: TestClient) -> None:
    r = client.post("/api/inbound", json={"conversation_id": "nobody", "text": "hallo"}, headers=HEADERS)
    assert r.json() == {"stored": False, "messages": []}
    bad = client.post("/api/inbound", json={"conversation_id": "", "text": "x"}, headers=HEADERS)
    assert bad.status_code == 422


def test_outbox_is_read_until_its_own_conversation_acknowledges_it(client: TestClient,
                                                                    factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as s:
        first = outbox.dispatch(s, "web/1", "web", {"text": "eins"})
        second = outbox.dispatch(s, "web/1", "web", {"text": "zwei", "buttons": [{"title": "OK", "payload": "/ok"}]})
        s.flush()
        ids = [first.id, second.id]
    expected = {"messages": [
        {"recipient_id": "web/1", "text": "eins", "custom": {"outbox_id": ids[0]}},
        {"recipient_id": "web/1", "text": "zwei", "buttons": [{"title": "OK", "payload": "/ok"}],
         "custom": {"outbox_id": ids[1]}},
    ]}
    assert client.get("/api/outbox/web%2F1", headers=HEADERS).json() == expected
    assert client.get("/api/outbox/web%2F1", headers=HEADERS).json() == expected  # reading consumes nothing
    foreign = client.post("/api/outbox-ack", json={"conversation_id": "web/2", "ids": ids}, headers=HEADERS)
    assert foreign.json() == {"marked": 0}  # another conversation cannot acknowledge them
    own = client.post("/api/outbox-ack", json={"conversation_id": "web/1", "ids": ids[:1]}, headers=HEADERS)
    assert own.json() == {"marked": 1}
    assert client.get("/api/outbox/web%2F1", headers=HEADERS).json() == {"messages": expected["messages"][1:]}
