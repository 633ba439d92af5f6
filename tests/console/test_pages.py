"""The adviser pages: inbox filters, conversation view (escaped), reply, note, assign, close + resume, export."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db import session_scope
from handoff.models import AuditEntry, HandoffMessage, HandoffNote, OutboxMessage
from tests.console.conftest import (
    BACK_TEXT,
    RASA_TOKEN,
    XSS,
    FakeRasa,
    add_adviser,
    add_handoff,
    adviser_id,
    csrf_of,
    free_port,
    load,
    login,
)

ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def outbox(factory: sessionmaker[Session], conversation_id: str) -> list[dict]:
    with session_scope(factory) as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.conversation_id == conversation_id))
        return [{"channel": r.channel, **r.payload} for r in rows]


def audits(factory: sessionmaker[Session], handoff_id: int) -> list[str]:
    with session_scope(factory) as s:
        return list(s.scalars(select(AuditEntry.action).where(AuditEntry.handoff_id == handoff_id)
                              .order_by(AuditEntry.id)))


def post(client: TestClient, handoff_id: int, action: str, data: dict | None = None):  # type: ignore[no-untyped-def]
    token = csrf_of(client, f"/handoffs/{handoff_id}")
    return client.post(f"/handoffs/{handoff_id}/{action}", data={"csrf_token": token, **(data or {})},
                       follow_redirects=False)


def test_inbox_lists_open_handoffs_with_filters(adviser_client: TestClient, factory: sessionmaker[Session]) -> None:
    old = add_handoff(factory, "c-old", topic="Ausbildung Pflege", minutes_ago=45, channel="telegram")
    new = add_handoff(factory, "c-new", topic="Studium oder Ausbildung", minutes_ago=2, reason="fallback")
    done = add_handoff(factory, "c-done", topic="Pflege", status="closed", assigned_to="berta")
    page = adviser_client.get("/").text
    assert f"Übergabe #{old}" in page and f"Übergabe #{new}" in page and f"Übergabe #{done}" not in page
    assert page.index(f"Übergabe #{old}") < page.index(f"Übergabe #{new}")  # longest waiting first
    assert "Bot kam nicht weiter" in page and "telegram" in page and "45 Min." in page
    assert "2 Übergaben offen" in page

    pflege = adviser_client.get("/", params={"topic": "pflege"}).text
    assert f"Übergabe #{old}" in pflege and f"Übergabe #{new}" not in pflege
    waited = adviser_client.get("/", params={"min_wait": "30"}).text
    assert f"Übergabe #{old}" in waited and f"Übergabe #{new}" not in waited
    closed = adviser_client.get("/", params={"status": "closed"}).text
    assert f"Übergabe #{done}" in closed and f"Übergabe #{old}" not in closed
    bad = adviser_client.get("/", params={"min_wait": "abc", "status": "weg"})
    assert bad.status_code == 200 and "ganze Zahl" in bad.text and f"Übergabe #{old}" in bad.text


def test_inbox_shows_assignee_and_escapes(adviser_client: TestClient, factory: sessionmaker[Session]) -> None:
    add_handoff(factory, "c1", topic=XSS, summary={"persona": XSS})
    page = adviser_client.get("/").text
    assert ESCAPED in page and "<script>alert" not in page


def test_conversation_view_escapes_user_text(adviser_client: TestClient, factory: sessionmaker[Session]) -> None:
    hid = add_handoff(
        factory, "c-xss", topic=XSS, contact=XSS,
        transcript=[{"role": "user", "text": XSS, "at": "2026-11-24T10:00:00"},
                    {"role": XSS, "text": "Antwort", "at": 1764000000}],
        summary={"persona": "Sie", "occupation": XSS, "slots": {"ort": XSS}, "intents": [XSS], XSS: XSS},
    )
    with session_scope(factory) as s:
        s.add(HandoffMessage(handoff_id=hid, role="user", text=XSS))
        s.add(HandoffNote(handoff_id=hid, text=XSS))
    page = adviser_client.get(f"/handoffs/{hid}")
    assert page.status_code == 200
    assert ESCAPED in page.text
    assert "<script>alert" not in page.text
    assert page.text.count(ESCAPED) >= 8
    assert "Zusammenfassung" in page.text and "Gespräch mit dem Bot vor der Übergabe" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"


def test_conversation_view_is_audited_as_read(adviser_client: TestClient, factory: sessionmaker[Session]) -> None:
    hid = add_handoff(factory)
    page = adviser_client.get(f"/handoffs/{hid}").text
    assert "Mechatroniker/in" in page and "Kassel" in page and "Ich will Mechatroniker werden" in page
    adviser_client.get(f"/handoffs/{hid}")  # a reload within minutes is not logged twice
    assert audits(factory, hid) == ["read"]
    assert adviser_client.get("/handoffs/999").status_code == 404
    token = csrf_of(adviser_client, "/")
    missing = adviser_client.post("/handoffs/999/reply", data={"csrf_token": token, "text": "x"})
    assert missing.status_code == 404 and "gibt es nicht" in missing.text


def test_reply_reaches_outbox_thread_and_audit(adviser_client: TestClient, factory: sessionmaker[Session]) -> None:
    hid = add_handoff(factory, "conv-reply", channel="web")
    r = post(adviser_client, hid, "reply", {"text": "Hallo, hier ist Berta. " + XSS})
    assert r.status_code == 303 and r.headers["location"].startswith(f"/handoffs/{hid}?ok=reply")
    assert outbox(factory, "conv-reply") == [
        {"channel": "web", "text": "Hallo, hier ist Berta. " + XSS, "custom": {"from": "adviser"}}
    ]
    h = load(factory, hid)
    assert [(m.role, m.adviser_id) for m in h.messages] == [("adviser", adviser_id(factory, "berta"))]
    assert h.status == "assigned"
    assert "reply" in audits(factory, hid)
    page = adviser_client.get(r.headers["location"]).text
    assert "Ihre Antwort wurde gesendet." in page and "Hallo, hier ist Berta. " + ESCAPED in page


def test_forms_without_valid_csrf_change_nothing(adviser_client: TestClient, factory: sessionmaker[Session]) -> None:
    hid = add_handoff(factory, "conv-csrf")
    for action, data in (("reply", {"text": "x"}), ("notes", {"text": "x"}), ("assign", {}),
                         ("close", {"outcome": "Sonstiges"}), ("resume", {})):
        for token in (None, "falsch"):
            form = dict(data, **({"csrf_token": token} if token else {}))
            r = adviser_client.post(f"/handoffs/{hid}/{action}", data=form, follow_redirects=False)
            assert r.status_code == 403, action
            assert "Schutz vor gefälschten Anfragen" in r.text
    h = load(factory, hid)
    assert h.status == "waiting" and h.messages == [] and h.notes == []
    assert outbox(factory, "conv-csrf") == []
    assert audits(factory, hid) == []


def test_note(adviser_client: TestClient, factory: sessionmaker[Session]) -> None:
    hid = add_handoff(factory)
    r = post(adviser_client, hid, "notes", {"text": "Rückruf morgen " + XSS})
    assert r.status_code == 303
    h = load(factory, hid)
    assert [n.text for n in h.notes] == ["Rückruf morgen " + XSS]
    assert h.status == "waiting" and outbox(factory, "conv-1") == []
    assert "note" in audits(factory, hid)
    assert "Rückruf morgen " + ESCAPED in adviser_client.get(f"/handoffs/{hid}").text


def test_assign_to_me(adviser_client: TestClient, factory: sessionmaker[Session]) -> None:
    hid = add_handoff(factory)
    assert "Mir zuweisen" in adviser_client.get(f"/handoffs/{hid}").text
    assert post(adviser_client, hid, "assign").status_code == 303
    h = load(factory, hid)
    assert h.status == "assigned" and h.assigned_to == adviser_id(factory, "berta")
    page = adviser_client.get(f"/handoffs/{hid}").text
    assert "Mir zuweisen" not in page and "(Sie)" in page
    assert "assign" in audits(factory, hid)


def test_close_resumes_the_bot(adviser_client: TestClient, factory: sessionmaker[Session], fake_rasa: FakeRasa) -> None:
    hid = add_handoff(factory, "conv/1 ä", channel="rest")
    r = post(adviser_client, hid, "close", {"outcome": "Termin vereinbart", "comment": "Do 10 Uhr"})
    assert r.status_code == 303 and "ok=closed" in r.headers["location"]
    h = load(factory, hid)
    assert h.status == "closed" and h.outcome == "Termin vereinbart: Do 10 Uhr" and h.closed_at is not None
    assert [(c["path"], c["query"], c["body"]) for c in fake_rasa.calls] == [
        ("/conversations/conv/1 ä/tracker/events", {"token": RASA_TOKEN}, [{"event": "resume"}]),
        ("/conversations/conv/1 ä/execute", {"token": RASA_TOKEN}, {"name": "utter_handoff_back"}),
        ("/conversations/conv/1 ä/tracker/events", {"token": RASA_TOKEN}, [{"event": "action", "name": "action_listen"}]),
    ]
    assert fake_rasa.calls[0]["raw_path"].startswith("/conversations/conv%2F1%20%C3%A4/")
    back, question = outbox(factory, "conv/1 ä")  # "I'm back", then the satisfaction question (handoff/feedback)
    assert back == {"channel": "rest", "text": BACK_TEXT}
    assert question["text"].startswith("Wie zufrieden warst du") and len(question["buttons"]) == 5
    assert audits(factory, hid)[-2:] == ["close", "resume"]
    page = adviser_client.get(r.headers["location"]).text
    assert "der Bot ist wieder aktiv" in page and "Erneut versuchen" not in page
    assert "Antwort senden" not in page  # no reply form on a closed hand-off
    again = post(adviser_client, hid, "reply", {"text": "noch was"})
    assert again.status_code == 409 and "schon abgeschlossen" in again.text


def test_close_while_rasa_is_down_then_retry(adviser_client: TestClient, factory: sessionmaker[Session],
                                             fake_rasa: FakeRasa) -> None:
    app = adviser_client.app
    up = app.state.settings
    app.state.settings = up.model_copy(update={"rasa_url": f"http://127.0.0.1:{free_port()}"})
    hid = add_handoff(factory, "conv-down")
    r = post(adviser_client, hid, "close", {"outcome": "Frage beantwortet"})
    assert r.status_code == 303 and "ok=" not in r.headers["location"]
    assert load(factory, hid).status == "closed"
    page = adviser_client.get(r.headers["location"]).text
    assert "der Bot konnte noch nicht fortgesetzt werden" in page and "Erneut versuchen" in page
    assert outbox(factory, "conv-down") == []
    assert audits(factory, hid)[-1] == "resume_failed"

    fake_rasa.status = 500  # reachable but failing: still not resumed
    assert "ok=" not in post(adviser_client, hid, "resume").headers["location"]
    app.state.settings = up
    assert "Erneut versuchen" in adviser_client.get(f"/handoffs/{hid}").text

    fake_rasa.status = 200
    r = post(adviser_client, hid, "resume")
    assert r.status_code == 303 and "ok=resumed" in r.headers["location"]
    assert outbox(factory, "conv-down")[0] == {"channel": "rest", "text": BACK_TEXT}  # then the rating question
    page = adviser_client.get(f"/handoffs/{hid}").text
    assert "Erneut versuchen" not in page
    calls = len(fake_rasa.calls)
    post(adviser_client, hid, "resume")  # already resumed: Rasa is not asked again, nothing sent twice
    assert len(fake_rasa.calls) == calls and len(outbox(factory, "conv-down")) == 2  # not asked again


def test_resume_waits_for_a_newer_open_handoff(adviser_client: TestClient, factory: sessionmaker[Session],
                                               fake_rasa: FakeRasa) -> None:
    fake_rasa.status = 500
    hid = add_handoff(factory, "conv-again")
    post(adviser_client, hid, "close", {"outcome": "Sonstiges"})
    newer = add_handoff(factory, "conv-again")
    fake_rasa.status = 200
    calls = len(fake_rasa.calls)
    post(adviser_client, hid, "resume")
    assert len(fake_rasa.calls) == calls  # the bot stays paused for the newer hand-off
    assert load(factory, newer).status == "waiting"


def test_export_json(adviser_client: TestClient, factory: sessionmaker[Session]) -> None:
    hid = add_handoff(factory, "conv-export", topic=XSS)
    post(adviser_client, hid, "reply", {"text": "Antwort"})
    post(adviser_client, hid, "notes", {"text": "Notiz"})
    r = adviser_client.get(f"/handoffs/{hid}/export.json")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.headers["content-disposition"] == f'attachment; filename="uebergabe-{hid}.json"'
    data = json.loads(r.content)
    assert data["id"] == hid and data["topic"] == XSS and data["status"] == "assigned"
    assert [m["text"] for m in data["thread"]] == ["Antwort"] and data["notes"][0]["text"] == "Notiz"
    assert data["transcript"][0]["text"] == "Ich will Mechatroniker werden"
    assert data["summary"]["occupation"] == "Mechatroniker/in"
    assert "export" in audits(factory, hid)


def test_an_admin_can_take_over(client: TestClient, factory: sessionmaker[Session]) -> None:
    add_adviser(factory, "berta")
    add_adviser(factory, "carla")
    add_adviser(factory, "chefin", role="admin")
    hid = add_handoff(factory)
    login(client, "berta")
    post(client, hid, "assign")
    client.cookies.clear()
    login(client, "carla")  # need-to-know: another adviser's case is not even shown to carla
    assert client.get(f"/handoffs/{hid}").status_code == 404
    client.cookies.clear()
    login(client, "chefin")
    assert "Mir zuweisen" in client.get(f"/handoffs/{hid}").text
    post(client, hid, "assign")
    assert load(factory, hid).assigned_to == adviser_id(factory, "chefin")


def test_static_files_and_health(client: TestClient) -> None:
    assert client.get("/static/console.css").status_code == 200
    js = client.get("/static/console.js")
    assert js.status_code == 200 and "location.reload" in js.text
    assert client.get("/healthz").json() == {"status": "ok"}
    missing = client.get("/gibt-es-nicht")
    assert missing.status_code == 404 and "Diese Seite gibt es nicht." in missing.text
