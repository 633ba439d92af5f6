"""The JSON API (/api/v1) with personal bearer tokens."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from channels.console.accounts import issue_token
from core.db import session_scope
from handoff.models import Adviser, AuditEntry, OutboxMessage
from tests.console.conftest import BACK_TEXT, RASA_TOKEN, XSS, FakeRasa, add_adviser, add_handoff, free_port


@pytest.fixture
def token(factory: sessionmaker[Session]) -> str:
    add_adviser(factory, "berta")
    with session_scope(factory) as s:
        return issue_token(s, "berta")


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def actions(factory: sessionmaker[Session], handoff_id: int) -> list[str]:
    with session_scope(factory) as s:
        return list(s.scalars(select(AuditEntry.action).where(AuditEntry.handoff_id == handoff_id)
                              .order_by(AuditEntry.id)))


def test_token_is_required(client: TestClient, token: str, factory: sessionmaker[Session]) -> None:
    hid = add_handoff(factory)
    for method, path in (("get", "/api/v1/handoffs"), ("get", f"/api/v1/handoffs/{hid}"),
                         ("post", f"/api/v1/handoffs/{hid}/assign"), ("get", f"/api/v1/handoffs/{hid}/export")):
        assert getattr(client, method)(path).status_code == 401
        r = getattr(client, method)(path, headers=auth("bo_falsch"))
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/v1/handoffs", headers=auth(token)).status_code == 200
    with session_scope(factory) as s:
        stored = s.scalar(select(Adviser.api_token_hash).where(Adviser.username == "berta"))
    assert stored and token not in stored and len(stored) == 64  # only the sha256 is stored


def test_inactive_account_token_is_refused(client: TestClient, token: str, factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as s:
        s.scalar(select(Adviser).where(Adviser.username == "berta")).active = False
    assert client.get("/api/v1/handoffs", headers=auth(token)).status_code == 401


def test_session_cookie_does_not_open_the_api(adviser_client: TestClient) -> None:
    assert adviser_client.get("/api/v1/handoffs").status_code == 401


def test_list_and_filters(client: TestClient, token: str, factory: sessionmaker[Session]) -> None:
    old = add_handoff(factory, "a", topic="Pflege", minutes_ago=40)
    new = add_handoff(factory, "b", topic="IT", minutes_ago=1)
    closed = add_handoff(factory, "c", topic="IT", status="closed", assigned_to="berta")
    ids = lambda **p: [h["id"] for h in client.get("/api/v1/handoffs", params=p, headers=auth(token)).json()]  # noqa: E731
    assert ids() == [old, new]
    assert ids(topic="it") == [new]
    assert ids(min_wait_minutes=30) == [old]
    assert ids(status="closed") == [closed]
    first = client.get("/api/v1/handoffs", headers=auth(token)).json()[0]
    assert first["persona"] == "du" and first["waiting_minutes"] >= 40 and first["status"] == "waiting"
    assert client.get("/api/v1/handoffs", params={"status": "weg"}, headers=auth(token)).status_code == 422


def test_detail_reply_note_assign_export(client: TestClient, token: str, factory: sessionmaker[Session]) -> None:
    hid = add_handoff(factory, "conv-api", channel="web", topic=XSS)
    detail = client.get(f"/api/v1/handoffs/{hid}", headers=auth(token)).json()
    assert detail["topic"] == XSS and detail["summary"]["place"] == "Kassel" and detail["thread"] == []
    assert detail["transcript"][1]["text"] == "Gern! Wo suchst du?" and detail["bot_resumed"] is None

    r = client.post(f"/api/v1/handoffs/{hid}/reply", json={"text": "Hallo aus der API"}, headers=auth(token))
    assert r.status_code == 201 and r.json()["adviser"] == "berta" and r.json()["role"] == "adviser"
    with session_scope(factory) as s:
        assert [(o.channel, o.payload) for o in s.scalars(select(OutboxMessage))] == [
            ("web", {"text": "Hallo aus der API", "custom": {"from": "adviser"}})
        ]
    assert client.post(f"/api/v1/handoffs/{hid}/reply", json={"text": ""}, headers=auth(token)).status_code == 422
    r = client.post(f"/api/v1/handoffs/{hid}/notes", json={"text": "intern"}, headers=auth(token))
    assert r.status_code == 201 and r.json()["text"] == "intern"
    r = client.post(f"/api/v1/handoffs/{hid}/assign", headers=auth(token))
    assert r.status_code == 200 and r.json()["assigned_to"] == "berta" and r.json()["status"] == "assigned"

    detail = client.get(f"/api/v1/handoffs/{hid}", headers=auth(token)).json()
    assert [m["text"] for m in detail["thread"]] == ["Hallo aus der API"] and detail["notes"][0]["text"] == "intern"
    export = client.get(f"/api/v1/handoffs/{hid}/export", headers=auth(token)).json()
    assert export["id"] == hid and export["thread"][0]["adviser"] == "berta"
    assert actions(factory, hid) == ["read", "assign", "reply", "note", "assign", "export"]
    assert client.get("/api/v1/handoffs/999", headers=auth(token)).status_code == 404
    for action, body in (("reply", {"text": "x"}), ("notes", {"text": "x"}), ("assign", None), ("close", {})):
        r = client.post(f"/api/v1/handoffs/999/{action}", json=body, headers=auth(token))
        assert r.status_code == 404, action


def test_close_resumes_and_conflicts_after(client: TestClient, token: str, factory: sessionmaker[Session],
                                          fake_rasa: FakeRasa) -> None:
    hid = add_handoff(factory, "conv-api-close")
    r = client.post(f"/api/v1/handoffs/{hid}/close", json={"outcome": "Frage beantwortet"}, headers=auth(token))
    assert r.status_code == 200
    body = r.json()
    assert body["handoff"]["status"] == "closed" and body["handoff"]["outcome"] == "Frage beantwortet"
    assert body["resume"] == {"resumed": True, "bot_messages": [{"text": BACK_TEXT}], "error": None}
    assert [c["query"]["token"] for c in fake_rasa.calls] == [RASA_TOKEN, RASA_TOKEN, RASA_TOKEN]
    assert client.get(f"/api/v1/handoffs/{hid}", headers=auth(token)).json()["bot_resumed"] is True
    again = client.post(f"/api/v1/handoffs/{hid}/reply", json={"text": "x"}, headers=auth(token))
    assert again.status_code == 409 and "abgeschlossen" in again.json()["detail"]
    assert client.post(f"/api/v1/handoffs/{hid}/close", json={}, headers=auth(token)).status_code == 409


def test_close_with_rasa_down_and_resume(client: TestClient, token: str, factory: sessionmaker[Session]) -> None:
    up = client.app.state.settings
    client.app.state.settings = up.model_copy(update={"rasa_url": f"http://127.0.0.1:{free_port()}"})
    hid = add_handoff(factory, "conv-api-down")
    body = client.post(f"/api/v1/handoffs/{hid}/close", json={}, headers=auth(token)).json()
    assert body["handoff"]["status"] == "closed" and body["handoff"]["outcome"] == "ohne Angabe"
    assert body["resume"]["resumed"] is False and "Rasa nicht erreichbar" in body["resume"]["error"]
    assert client.get(f"/api/v1/handoffs/{hid}", headers=auth(token)).json()["bot_resumed"] is False
    client.app.state.settings = up
    r = client.post(f"/api/v1/handoffs/{hid}/resume", headers=auth(token))
    assert r.json() == {"resumed": True, "bot_messages": [{"text": BACK_TEXT}], "error": None}
    open_one = add_handoff(factory, "conv-api-open")
    assert client.post(f"/api/v1/handoffs/{open_one}/resume", headers=auth(token)).status_code == 409


def test_openapi_documents_the_api(adviser_client: TestClient) -> None:
    client = adviser_client  # the documentation is for logged-in advisers only (test_account_security.py)
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in ("/api/v1/handoffs", "/api/v1/handoffs/{handoff_id}", "/api/v1/handoffs/{handoff_id}/reply",
                 "/api/v1/handoffs/{handoff_id}/notes", "/api/v1/handoffs/{handoff_id}/assign",
                 "/api/v1/handoffs/{handoff_id}/close", "/api/v1/handoffs/{handoff_id}/export",
                 "/api/inbound", "/api/outbox/{conversation_id}"):
        assert path in paths, path
    assert "/login" not in paths and "/" not in paths
    assert "HTTPBearer" in schema["components"]["securitySchemes"]
    assert client.get("/docs").status_code == 200
