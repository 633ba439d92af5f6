"""Privacy through the real stack (Rasa + action server + console, tests/servers.py): "Was passiert mit meinen
Daten?" gives the true text with the configured operator; "Meine Daten" gives the user's own export (messages,
slots, the hand-off with thread and notes) and nothing of another conversation."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from core.protocol import EXPORT_FORMAT, INBOUND_TOKEN_HEADER, export_of
from tests.e2e.conftest import AdviserApi, start_handoff, texts
from tests.servers import TEST_OPERATOR, Stack


def sender() -> str:
    return f"privacy-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def adviser(stack: Stack) -> AdviserApi:
    return AdviserApi(stack)


def exports(messages: list[dict]) -> list[dict]:
    return [e for e in (export_of(m) for m in messages) if e is not None]


def test_privacy_question_gives_the_true_text_with_the_operator(stack: Stack) -> None:
    reply = stack.say(sender(), "Was passiert mit meinen Daten?")
    text = texts(reply)
    for value in TEST_OPERATOR.values():
        assert value in text, text
    assert "90 Tage nach der letzten Nachricht" in text and "180 Tage" in text
    assert "Beratungsteams" in text and "Meta" in text
    assert "Der Hessische Beauftragte für Datenschutz und Informationsfreiheit" in text
    assert "noch nicht eingetragen" not in text
    assert all(len(m.get("text", "")) <= 2000 for m in reply)  # fits Messenger
    buttons = [b["payload"] for m in reply for b in m.get("buttons", [])]
    assert "/request_data_export" in buttons and "/request_data_deletion" in buttons


def test_meine_daten_exports_own_messages_and_handoff_only(stack: Stack, adviser: AdviserApi) -> None:
    who, other = sender(), sender()
    stack.say(other, "Ich heiße FREMDER-NAME und suche eine Ausbildung als Tischler in Kassel")
    stack.say(who, "Wie lange dauert die Ausbildung zum Kfz-Mechatroniker?")
    start_handoff(stack, who, "Mein Betrieb zahlt nicht")
    handoff = adviser.handoff_for(who)
    stack.say(who, "Hallo, ist jemand da? MEINE-NACHRICHT")
    adviser.reply(handoff["id"], "Hallo, hier ist die Beratung. BERATER-ANTWORT")
    r = adviser.client.post(f"/api/v1/handoffs/{handoff['id']}/notes", json={"text": "Interne Notiz NOTIZ-XY"})
    r.raise_for_status()
    closed = adviser.close(handoff["id"], "an die Kammer verwiesen")
    assert closed["resume"]["resumed"] is True, closed

    reply = stack.say(who, "Meine Daten")
    assert "Datei" in texts(reply), reply
    [export] = exports(reply)
    assert export["format"] == EXPORT_FORMAT and export["conversation"]["id"] == who
    dump = json.dumps(export, ensure_ascii=False)
    user = [e["text"] for e in export["events"] if e["type"] == "user"]
    assert "Wie lange dauert die Ausbildung zum Kfz-Mechatroniker?" in user
    assert "Meine Daten" in user  # the request itself is stored, so it is in the copy
    bot = " ".join(e.get("text") or "" for e in export["events"] if e["type"] == "bot")
    assert "42 Monate" in bot  # the bot's answer
    assert any(e["type"] == "slot" for e in export["events"])
    assert all(e["time"] for e in export["events"] if e["type"] in ("user", "bot"))
    assert export["handoffs_complete"] is True and len(export["handoffs"]) == 1
    [h] = export["handoffs"]
    assert h["topic"] == "Mein Betrieb zahlt nicht" and h["status"] == "closed"
    thread = " ".join(m["text"] for m in h["thread"])
    assert "MEINE-NACHRICHT" in thread and "BERATER-ANTWORT" in thread
    assert [n["text"] for n in h["notes"]] == ["Interne Notiz NOTIZ-XY"]
    assert stack.adviser_user not in dump  # advisers' names stay out
    assert "FREMDER-NAME" not in dump and other not in dump

    # the other conversation's export has only its own data
    [foreign] = exports(stack.say(other, "Meine Daten"))
    foreign_dump = json.dumps(foreign, ensure_ascii=False)
    assert "FREMDER-NAME" in foreign_dump and foreign["handoffs"] == []
    assert "MEINE-NACHRICHT" not in foreign_dump and "NOTIZ-XY" not in foreign_dump and who not in foreign_dump


def test_console_export_endpoint_needs_the_inbound_token(stack: Stack) -> None:
    url = f"{stack.console_url}/api/export/some-conversation"
    assert httpx.get(url, timeout=30).status_code == 401
    assert httpx.get(url, headers={INBOUND_TOKEN_HEADER: "wrong"}, timeout=30).status_code == 401
    ok = httpx.get(url, headers={INBOUND_TOKEN_HEADER: stack.inbound_token}, timeout=30)
    assert ok.status_code == 200 and ok.json() == {"handoffs": []}
