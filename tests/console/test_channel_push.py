"""Push channels (the Telegram bridge runs in its own process): adviser replies are pushed over HTTP; what a
push missed stays pending for the channel to collect; a user's deletion request removes the hand-offs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from channels.console.app import create_app
from channels.push.http import http_pusher
from channels.push.messenger import graph_pusher
from core.db import session_scope
from core.settings import ConsoleSettings
from handoff import outbox, service
from handoff.models import AuditEntry, Handoff, OutboxMessage
from tests.console.conftest import INBOUND_TOKEN, add_adviser, add_handoff, free_port
from tests.console.test_api import auth
from tests.http_json import JsonHandler

HEADERS = {"X-Inbound-Token": INBOUND_TOKEN}


class PushReceiver:
    """A real HTTP server standing in for the bridge's /internal/push endpoint."""

    def __init__(self, delivered: bool = True) -> None:
        self.received: list[tuple[dict[str, Any], str | None]] = []
        self.paths: list[str] = []
        self.delivered = delivered
        receiver = self

        class Handler(JsonHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                receiver.received.append((self.read_json(), self.headers.get("X-Inbound-Token")))
                receiver.paths.append(self.path)
                self.send_json(200, {"delivered": receiver.delivered})

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/internal/push"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[PushReceiver]:
    r = PushReceiver()
    yield r
    r.stop()


@pytest.fixture
def push_client(settings: ConsoleSettings, receiver: PushReceiver) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"telegram_push_url": receiver.url}))
    try:
        with TestClient(app) as c:
            yield c
    finally:
        outbox.unregister_pusher("telegram")


def api_token(factory: sessionmaker[Session]) -> str:
    from channels.console.accounts import issue_token

    add_adviser(factory, "berta")
    with session_scope(factory) as s:
        return issue_token(s, "berta")


def outbox_rows(factory: sessionmaker[Session], conversation_id: str) -> list[OutboxMessage]:
    with session_scope(factory) as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.conversation_id == conversation_id)))


def test_adviser_reply_is_pushed_to_the_channel(push_client: TestClient, receiver: PushReceiver,
                                                factory: sessionmaker[Session]) -> None:
    hid = add_handoff(factory, "tg-abc", channel="telegram")
    token = api_token(factory)
    r = push_client.post(f"/api/v1/handoffs/{hid}/reply", json={"text": "Hallo, hier ist Berta."},
                         headers=auth(token))
    assert r.status_code == 201
    rows = outbox_rows(factory, "tg-abc")
    assert [row.delivered_at is not None for row in rows] == [True]
    # the outbox id travels with the message: the bridge shows each id once (push and collector may race)
    assert receiver.received == [({"conversation_id": "tg-abc",
                                   "message": {"text": "Hallo, hier ist Berta.",
                                               "custom": {"from": "adviser", "outbox_id": rows[0].id}}},
                                  INBOUND_TOKEN)]


def test_a_missed_push_stays_pending_until_the_channel_confirms(
    push_client: TestClient, receiver: PushReceiver, factory: sessionmaker[Session]
) -> None:
    receiver.delivered = False  # e.g. Telegram unreachable
    hid = add_handoff(factory, "tg-late", channel="telegram")
    add_handoff(factory, "web-1", channel="rest")
    token = api_token(factory)
    push_client.post(f"/api/v1/handoffs/{hid}/reply", json={"text": "Später"}, headers=auth(token))
    with session_scope(factory) as s:
        outbox.dispatch(s, "web-1", "rest", {"text": "nicht für Telegram"})

    assert push_client.get("/api/outbox-pending", params={"channel": "telegram"}).status_code == 401
    pending = push_client.get("/api/outbox-pending", params={"channel": "telegram"}, headers=HEADERS).json()
    assert [(m["conversation_id"], m["message"]["text"]) for m in pending["messages"]] == [("tg-late", "Später")]
    assert [m["message"]["custom"]["outbox_id"] for m in pending["messages"]] == [m["id"] for m in pending["messages"]]
    assert receiver.received[0][0]["message"] == pending["messages"][0]["message"]  # the same id as the push
    again = push_client.get("/api/outbox-pending", params={"channel": "telegram"}, headers=HEADERS).json()
    assert again == pending  # reading does not mark anything

    ids = [m["id"] for m in pending["messages"]]
    assert push_client.post("/api/outbox-delivered", json={"ids": ids}, headers=HEADERS).json() == {"marked": 1}
    assert push_client.post("/api/outbox-delivered", json={"ids": ids}, headers=HEADERS).json() == {"marked": 0}
    empty = push_client.get("/api/outbox-pending", params={"channel": "telegram"}, headers=HEADERS).json()
    assert empty == {"messages": []}


def test_deletion_removes_handoffs_thread_notes_and_outbox(client: TestClient,
                                                          factory: sessionmaker[Session]) -> None:
    hid = add_handoff(factory, "web-del", channel="rest")
    other = add_handoff(factory, "web-keep", channel="rest")
    adviser = add_adviser(factory, "carla")
    with session_scope(factory) as s:
        me = s.get(service.Adviser, adviser)
        service.add_adviser_reply(s, hid, me, "Persönliche Antwort")
        service.add_note(s, hid, me, "Notiz mit Details")
        service.close(s, hid, me, "Termin vereinbart mit Frau X")
    assert client.delete("/api/conversations/web-del").status_code == 401
    r = client.delete("/api/conversations/web-del", headers=HEADERS)
    assert r.json() == {"deleted_handoffs": 1}
    with session_scope(factory) as s:
        assert s.scalar(select(func.count()).select_from(Handoff).where(Handoff.conversation_id == "web-del")) == 0
        assert s.get(Handoff, other) is not None
        details = list(s.scalars(select(AuditEntry.detail)))
        assert not any("Frau X" in d for d in details)  # free text about the person is gone
        assert s.scalar(select(func.count()).select_from(AuditEntry)
                        .where(AuditEntry.action == "delete_on_request")) == 1
    assert outbox_rows(factory, "web-del") == []
    assert client.delete("/api/conversations/web-del", headers=HEADERS).json() == {"deleted_handoffs": 0}


def test_messenger_push_uses_the_send_api_with_the_human_agent_tag(receiver: PushReceiver) -> None:
    graph_url = receiver.url.removesuffix("/internal/push") + "/v19.0"
    push = graph_pusher("PAGE-TOKEN", graph_url)
    text = " ".join(["Ausbildung"] * 420)  # 4,619 characters: Messenger takes at most 2,000 per message
    assert push("psid-1", {"text": text, "custom": {"from": "adviser"}})
    bodies = [body for body, _ in receiver.received]
    assert len(bodies) == 3 and all(len(b["message"]["text"]) <= 2000 for b in bodies)
    assert bodies[0]["message"]["text"].startswith("Beratung: Ausbildung")
    assert {(b["recipient"]["id"], b["messaging_type"], b["tag"]) for b in bodies} == {
        ("psid-1", "MESSAGE_TAG", "HUMAN_AGENT")}
    assert receiver.paths[0] == "/v19.0/me/messages?access_token=PAGE-TOKEN"
    assert push("psid-1", {"custom": {"conversation_deleted": True}})  # nothing to show: counts as delivered
    assert len(receiver.received) == 3
    receiver.stop()
    assert not push("psid-1", {"text": "Hallo"})  # Graph API unreachable: stays in the outbox


def test_a_reply_is_pushed_only_after_the_commit(db_url: str, factory: sessionmaker[Session],
                                                 receiver: PushReceiver) -> None:
    """The push runs after the transaction committed (no lock held while the channel is called) and marks the
    message delivered in a transaction of its own; a rolled-back reply never reaches the user."""
    outbox.register_pusher("telegram", http_pusher(receiver.url, INBOUND_TOKEN))
    try:
        hid = add_handoff(factory, "tg-commit", channel="telegram")
        adviser = add_adviser(factory, "dora")
        with factory() as s:
            service.add_adviser_reply(s, hid, s.get(service.Adviser, adviser), "Erst nach dem Commit")
            assert receiver.received == []  # written, not committed: nothing has left the process
            s.commit()
        assert [body["message"]["text"] for body, _ in receiver.received] == ["Erst nach dem Commit"]
        assert [row.delivered_at is not None for row in outbox_rows(factory, "tg-commit")] == [True]

        with factory() as s:
            service.add_adviser_reply(s, hid, s.get(service.Adviser, adviser), "Wird zurückgerollt")
            s.rollback()
            s.commit()  # a later commit of the same session does not push the rolled-back reply either
        assert len(receiver.received) == 1
        assert [r.payload["text"] for r in outbox_rows(factory, "tg-commit")] == ["Erst nach dem Commit"]
    finally:
        outbox.unregister_pusher("telegram")


def test_a_failed_push_after_commit_stays_pending(factory: sessionmaker[Session], receiver: PushReceiver) -> None:
    receiver.delivered = False
    outbox.register_pusher("telegram", http_pusher(receiver.url, INBOUND_TOKEN))
    try:
        hid = add_handoff(factory, "tg-fail", channel="telegram")
        adviser = add_adviser(factory, "emil")
        with session_scope(factory) as s:
            service.add_adviser_reply(s, hid, s.get(service.Adviser, adviser), "Kommt später an")
        assert len(receiver.received) == 1
        assert [row.delivered_at for row in outbox_rows(factory, "tg-fail")] == [None]
    finally:
        outbox.unregister_pusher("telegram")
