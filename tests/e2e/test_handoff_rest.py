"""End-to-end human hand-off over Rasa's REST channel: the real Rasa server, action server and adviser console.

The user asks for a human and consents; the bot pauses; the user's messages while waiting reach the console
(acknowledged, never silent); adviser replies reach the user (with the next REST reply or by polling
``/webhooks/rest/outbox``); closing resumes the bot, which says it is back and answers normally again.
"""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from core.protocol import DELETE_CANCELLED_PAYLOAD, DELETE_CONFIRMED_PAYLOAD, export_of, is_deleted_notice
from tests.e2e.conftest import BACK_WORDS, WAITING_WORDS, AdviserApi, start_handoff, texts
from tests.servers import Stack

pytestmark = pytest.mark.e2e


def sender() -> str:
    return f"handoff-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def adviser(stack: Stack) -> AdviserApi:
    return AdviserApi(stack)


def user_texts(tracker: dict) -> list[str]:
    return [e.get("text") for e in tracker["events"] if e.get("event") == "user"]


def thread(adviser: AdviserApi, handoff_id: int, role: str) -> list[str]:
    return [m["text"] for m in adviser.detail(handoff_id)["thread"] if m["role"] == role]


def test_handoff_round_trip(stack: Stack, adviser: AdviserApi) -> None:
    who, plain = sender(), sender()
    assert "Berufsausbildungsbeihilfe" in texts(stack.say(who, "Was ist BAB?"))
    start_handoff(stack, who, "Ärger mit meinem Chef")

    # the hand-off exists, waiting, with topic and transcript; the bot is paused
    handoff = adviser.handoff_for(who)
    assert handoff["status"] == "waiting" and handoff["topic"] == "Ärger mit meinem Chef"
    assert handoff["channel"] == "rest" and handoff["reason"] == "request"
    detail = adviser.detail(handoff["id"])
    assert "Was ist BAB?" in [line["text"] for line in detail["transcript"] if line["role"] == "user"]
    assert stack.tracker(who)["paused"] is True

    # waiting: no bot answer, an acknowledgement; the message is in the thread and in Rasa's tracker
    reply = stack.say(who, "Hallo?")
    assert WAITING_WORDS in texts(reply) and "technisch" not in texts(reply), reply
    assert thread(adviser, handoff["id"], "user") == ["Hallo?"]
    assert "Hallo?" in user_texts(stack.tracker(who))
    assert stack.outbox(who) == []

    # adviser reply → the user's client polls it (once)
    first = "Hallo, hier ist Frau Berger aus der Beratung. Was ist mit deinem Chef los?"
    adviser.reply(handoff["id"], first)
    assert adviser.handoff_for(who)["status"] == "assigned"
    polled = stack.outbox(who)
    assert [m["text"] for m in polled] == [first] and polled[0]["recipient_id"] == who
    assert stack.outbox(who) == []

    # adviser reply → arrives with the user's next REST message (no acknowledgement then)
    second = "Das klingt belastend. Magst du erzählen, was genau passiert ist?"
    adviser.reply(handoff["id"], second)
    reply = stack.say(who, "Er schreit mich jeden Tag an.")
    assert texts(reply) == second, reply
    assert thread(adviser, handoff["id"], "user") == ["Hallo?", "Er schreit mich jeden Tag an."]

    # closing resumes the bot: "I'm back" with the next reply, before the bot's answer; then all normal
    closed = adviser.close(handoff["id"], "an die Ausbildungsberatung der Kammer verwiesen")
    assert closed["handoff"]["status"] == "closed"
    assert closed["resume"]["resumed"] is True, closed
    assert BACK_WORDS in texts(closed["resume"]["bot_messages"])
    assert stack.tracker(who)["paused"] is False
    reply = texts(stack.say(who, "Was ist BAB?"))
    assert BACK_WORDS in reply and "Berufsausbildungsbeihilfe" in reply, reply
    assert reply.index(BACK_WORDS) < reply.index("Berufsausbildungsbeihilfe")
    reply = texts(stack.say(who, "Was ist BAB?"))
    assert BACK_WORDS not in reply and "Berufsausbildungsbeihilfe" in reply

    # a conversation that never had a hand-off costs no call to the console
    assert "Berufsausbildungsbeihilfe" in texts(stack.say(plain, "Was ist BAB?"))
    assert stack.outbox(plain) == []
    assert stack.console is not None
    console_log = stack.console.log.read_text(errors="replace")
    assert f"/api/outbox/{adviser.pseudonym(who)}" in console_log  # the access log shows the calls (pseudonym) …
    assert plain not in console_log  # … and none for the plain conversation


def test_nothing_is_lost_when_rasa_restarts_during_a_handoff(stack: Stack, adviser: AdviserApi) -> None:
    """One restart of Rasa (a model load costs a minute or two on CI) for both kinds of conversation: one waiting
    for an adviser, and an ordinary one whose slots (a parent: "Sie") must survive too."""
    who, parent = sender(), sender()
    start_handoff(stack, who, "Ich will meine Ausbildung abbrechen")
    assert WAITING_WORDS in texts(stack.say(who, "Hallo, ist da jemand?"))
    handoff = adviser.handoff_for(who)
    stack.say(parent, "Ich bin Vater und habe Fragen für meine Tochter")

    stack.rasa.stop()
    stack.rasa.start()

    assert "beantragen Sie" in texts(stack.say(parent, "Was ist BAB?"))
    assert stack.tracker(who)["paused"] is True
    adviser.reply(handoff["id"], "Ja, ich bin da. Lass uns in Ruhe darüber sprechen.")
    reply = texts(stack.say(who, "Danke, dass Sie da sind"))
    assert "Lass uns in Ruhe darüber sprechen" in reply and WAITING_WORDS not in reply
    assert thread(adviser, handoff["id"], "user") == ["Hallo, ist da jemand?", "Danke, dass Sie da sind"]
    assert {"Hallo, ist da jemand?", "Danke, dass Sie da sind"} <= set(user_texts(stack.tracker(who)))

    adviser.close(handoff["id"], "Gespräch geführt")
    reply = texts(stack.say(who, "Was ist BAB?"))
    assert BACK_WORDS in reply and "Berufsausbildungsbeihilfe" in reply


def test_console_down_while_waiting_still_acknowledges_and_keeps_the_message(
    stack: Stack, adviser: AdviserApi
) -> None:
    who = sender()
    start_handoff(stack, who, "Stress in der Berufsschule")
    handoff = adviser.handoff_for(who)
    assert stack.console is not None
    stack.console.stop()
    try:
        reply = stack.say(who, "Meine Nachricht, während die Konsole weg ist")
        assert WAITING_WORDS in texts(reply), reply
        assert "Meine Nachricht, während die Konsole weg ist" in user_texts(stack.tracker(who))
        poll = httpx.get(f"{stack.rasa_url}/webhooks/rest/outbox", headers={"X-Conversation-Token": stack.tokens[who]},
                         timeout=30)
        assert poll.status_code == 503 and "error" in poll.json()
    finally:
        stack.console.start(timeout=60)
    rasa_log = stack.rasa.log.read_text(errors="replace")
    assert "adviser console unreachable" in rasa_log
    assert "während die Konsole weg ist" not in rasa_log  # no message content in the log

    assert WAITING_WORDS in texts(stack.say(who, "Jetzt wieder?"))
    assert thread(adviser, handoff["id"], "user") == ["Jetzt wieder?"]
    adviser.close(handoff["id"], "Test")
    assert BACK_WORDS in texts(stack.outbox(who))


def test_outbox_poll_needs_the_conversation_token(stack: Stack) -> None:
    r = httpx.get(f"{stack.rasa_url}/webhooks/rest/outbox", timeout=30)
    assert r.status_code == 401 and "X-Conversation-Token" in r.json()["error"]


def test_rasa_http_api_needs_the_token(stack: Stack) -> None:
    assert httpx.get(f"{stack.rasa_url}/conversations/x/tracker", timeout=30).status_code == 401
    assert httpx.get(f"{stack.rasa_url}/conversations/x/tracker", params=stack.api, timeout=30).status_code == 200


def test_delete_endpoint_needs_the_token_and_removes_tracker_and_handoff(stack: Stack) -> None:
    """``POST /webhooks/rest/delete`` (used by Telegram's /loeschen) works while an adviser has the conversation."""
    who = f"del-{uuid.uuid4().hex[:10]}"
    start_handoff(stack, who)
    adviser = AdviserApi(stack)
    assert adviser.handoff_for(who)["status"] == "waiting"
    url = f"{stack.rasa_url}/webhooks/rest/delete"
    assert httpx.post(url, json={"sender": who}, timeout=30).status_code == 401
    assert httpx.post(url, json={"sender": who}, headers={"X-Inbound-Token": "falsch"}, timeout=30).status_code == 401
    assert httpx.post(url, json={}, headers={"X-Inbound-Token": stack.inbound_token}, timeout=30).status_code == 400
    r = httpx.post(url, json={"sender": who}, headers={"X-Inbound-Token": stack.inbound_token}, timeout=30)
    assert r.json() == {"deleted": True, "complete": True, "handoffs_deleted": 1}
    assert [e for e in stack.tracker(who)["events"] if e.get("event") == "user"] == []
    listed = adviser.client.get("/api/v1/handoffs").json()
    assert adviser.pseudonym(who) not in [h["conversation"] for h in listed]
    assert "BAB" in texts(stack.say(who, "Was ist BAB?"))  # a fresh conversation, not paused any more


def test_deletion_and_export_work_while_an_adviser_has_the_conversation(stack: Stack, adviser: AdviserApi) -> None:
    """Rasa runs no dialogue while paused; the REST channel itself answers "Meine Daten" and "Lösch meine Daten"
    (with a confirmation) instead of passing them to the adviser."""
    who = sender()
    start_handoff(stack, who, "Ich will hier raus")
    handoff = adviser.handoff_for(who)
    adviser.reply(handoff["id"], "Ich bin da.")

    [export] = [export_of(m) for m in stack.say(who, "Meine Daten") if export_of(m)]
    assert "Ich will hier raus" in json.dumps(export, ensure_ascii=False)
    assert "Ich bin da." in json.dumps(export, ensure_ascii=False)

    ask = stack.say(who, "Lösch meine Daten")
    buttons = {b["title"]: b["payload"] for m in ask for b in m.get("buttons", [])}
    assert buttons == {"Ja, löschen": DELETE_CONFIRMED_PAYLOAD, "Nein, behalten": DELETE_CANCELLED_PAYLOAD}
    assert not [t for t in thread(adviser, handoff["id"], "user") if "lösch" in t.lower()]  # not for the adviser
    assert "nichts" in texts(stack.say(who, DELETE_CANCELLED_PAYLOAD))
    assert adviser.handoff_for(who)["status"] in ("waiting", "assigned")  # cancelled: nothing deleted

    stack.say(who, "Lösch meine Daten")
    done = stack.say(who, DELETE_CONFIRMED_PAYLOAD)
    assert "gelöscht" in texts(done) and any(is_deleted_notice(m) for m in done)
    assert [e for e in stack.tracker(who)["events"] if e.get("event") == "user"] == []
    listed = adviser.client.get("/api/v1/handoffs").json()
    assert adviser.pseudonym(who) not in [h["conversation"] for h in listed]
