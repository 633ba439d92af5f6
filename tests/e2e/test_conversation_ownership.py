"""A conversation belongs to whoever started it (issue 12 §1), against the real Rasa server, actions and console.

Before: the public REST webhook and ``GET /webhooks/rest/outbox`` trusted the ``sender`` id alone, so anyone who
knew an id could post into that person's hand-off, read (and thereby consume) their adviser replies, delete their
data, pick another channel's id (``tg-…``) or choose ``input_channel``. Now the server issues each REST/web
conversation a secret token (``X-Conversation-Token``) that every later call presents; a known id without its token
is refused; reading the outbox consumes nothing (the client acknowledges what it displayed); the Telegram bridge has
its own authenticated entry; advisers see a pseudonym.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from core.protocol import (
    CONVERSATION_TOKEN_HEADER,
    INBOUND_TOKEN_HEADER,
    REST_BRIDGE_PATH,
    REST_OUTBOX_ACK_PATH,
    REST_OUTBOX_PATH,
    REST_WEBHOOK_PATH,
    WEB_CONVERSATION_PREFIX,
    conversation_of,
    outbox_ids,
    session_token,
)
from tests.e2e.conftest import AdviserApi, start_handoff, texts
from tests.servers import Stack

pytestmark = pytest.mark.e2e


def sender() -> str:
    return f"own-{uuid.uuid4().hex[:10]}"


def user_texts(stack: Stack, who: str) -> list[str]:
    return [e.get("text") for e in stack.tracker(who)["events"] if e.get("event") == "user"]


def post(stack: Stack, body: dict, token: str | None = None) -> httpx.Response:
    headers = {CONVERSATION_TOKEN_HEADER: token} if token is not None else {}
    return httpx.post(f"{stack.rasa_url}{REST_WEBHOOK_PATH}", json=body, headers=headers, timeout=60)


def test_a_known_id_without_its_token_is_refused(stack: Stack) -> None:
    victim = sender()
    stack.say(victim, "Was ist BAB?")
    r = post(stack, {"sender": victim, "message": "Ich bin jemand anderes"})
    assert r.status_code == 403 and CONVERSATION_TOKEN_HEADER in r.json()["error"]
    assert "Ich bin jemand anderes" not in user_texts(stack, victim)


def test_forged_tokens_are_refused(stack: Stack) -> None:
    victim = sender()
    stack.say(victim, "Hallo")
    genuine = stack.tokens[victim]
    forged = [
        session_token("ein anderer Schlüssel", victim),  # right shape, wrong key
        genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB"),  # tampered MAC
        "v1." + genuine.split(".")[1] + ".",  # no MAC
        "kein-token", "", "v1.." + "A" * 43, "%F0%9F%92%A5" * 10, "' OR 1=1 --",
    ]
    for token in forged:
        r = post(stack, {"message": "Ich lese mit"}, token=token)
        assert r.status_code in (400, 401), (token, r.status_code)
        r = httpx.get(f"{stack.rasa_url}{REST_OUTBOX_PATH}", headers={CONVERSATION_TOKEN_HEADER: token}, timeout=30)
        assert r.status_code in (400, 401), (token, r.status_code)
    assert "Ich lese mit" not in user_texts(stack, victim)


def test_no_sender_starts_a_new_conversation_never_a_shared_one(stack: Stack) -> None:
    first, second = post(stack, {"message": "Hallo"}), post(stack, {"message": "Hallo"})
    assert first.status_code == second.status_code == 200
    key = stack.env["REST_SESSION_KEY"]
    a = conversation_of(key, first.headers[CONVERSATION_TOKEN_HEADER])
    b = conversation_of(key, second.headers[CONVERSATION_TOKEN_HEADER])
    assert a and b and a != b and a.startswith(WEB_CONVERSATION_PREFIX) and b.startswith(WEB_CONVERSATION_PREFIX)
    assert "default" not in (a, b)
    # the token continues that conversation
    r = post(stack, {"message": "Was ist BAB?"}, token=first.headers[CONVERSATION_TOKEN_HEADER])
    assert r.status_code == 200 and "Berufsausbildungsbeihilfe" in texts(r.json())
    assert user_texts(stack, a) == ["Hallo", "Was ist BAB?"]
    assert user_texts(stack, b) == ["Hallo"]


@pytest.mark.parametrize("reserved", ["tg-123456", "1234567890", "web-erfunden"])
def test_ids_of_other_channels_are_refused_on_the_public_webhook(stack: Stack, reserved: str) -> None:
    r = post(stack, {"sender": reserved, "message": "Hallo"})
    assert r.status_code == 403 and "reserviert" in r.json()["error"]
    assert user_texts(stack, reserved) == []


def test_the_channel_is_set_by_the_server_not_the_client(stack: Stack) -> None:
    r = post(stack, {"message": "Hallo", "input_channel": "facebook"})
    who = conversation_of(stack.env["REST_SESSION_KEY"], r.headers[CONVERSATION_TOKEN_HEADER])
    assert who is not None
    channels = [e.get("input_channel") for e in stack.tracker(who)["events"] if e.get("event") == "user"]
    assert channels == ["rest"]


def test_the_outbox_is_read_without_being_consumed_and_only_by_its_owner(stack: Stack) -> None:
    victim, attacker = sender(), sender()
    start_handoff(stack, victim)
    stack.say(attacker, "Hallo")
    adviser = AdviserApi(stack)
    handoff = adviser.handoff_for(victim)
    adviser.reply(handoff["id"], "Antwort nur für dich")

    # without a token, or with the attacker's own token, nothing of the victim's outbox
    assert httpx.get(f"{stack.rasa_url}{REST_OUTBOX_PATH}", params={"sender": victim}, timeout=30).status_code == 401
    own = stack.outbox(attacker, ack=False)
    assert "Antwort nur für dich" not in texts(own)

    # the victim reads it twice (not consumed by reading) ...
    first = stack.outbox(victim, ack=False)
    second = stack.outbox(victim, ack=False)
    assert "Antwort nur für dich" in texts(first) and texts(first) == texts(second)
    ids = outbox_ids(first)
    assert ids

    # ... the attacker cannot acknowledge (and so hide) the victim's messages with its own token ...
    r = httpx.post(f"{stack.rasa_url}{REST_OUTBOX_ACK_PATH}", json={"ids": ids},
                   headers={CONVERSATION_TOKEN_HEADER: stack.tokens[attacker]}, timeout=30)
    assert r.status_code == 200 and r.json() == {"marked": 0}
    assert "Antwort nur für dich" in texts(stack.outbox(victim, ack=False))

    # ... and once the victim confirms what it displayed, it is not offered again
    r = httpx.post(f"{stack.rasa_url}{REST_OUTBOX_ACK_PATH}", json={"ids": ids},
                   headers={CONVERSATION_TOKEN_HEADER: stack.tokens[victim]}, timeout=30)
    assert r.json() == {"marked": len(ids)}
    assert "Antwort nur für dich" not in texts(stack.outbox(victim, ack=False))


@pytest.mark.parametrize("body", [{"ids": "1"}, {"ids": [True]}, {"ids": [-1]}, {"ids": list(range(1, 200))}, {}])
def test_bad_acknowledgements_are_refused(stack: Stack, body: dict) -> None:
    who = sender()
    stack.say(who, "Hallo")
    r = httpx.post(f"{stack.rasa_url}{REST_OUTBOX_ACK_PATH}", json=body,
                   headers={CONVERSATION_TOKEN_HEADER: stack.tokens[who]}, timeout=30)
    assert r.status_code == 400


def test_someone_else_cannot_delete_a_conversation_through_the_dialogue(stack: Stack) -> None:
    victim = sender()
    stack.say(victim, "Was ist BAB?")
    r = post(stack, {"sender": victim, "message": "Lösch meine Daten"})
    assert r.status_code == 403
    assert user_texts(stack, victim) == ["Was ist BAB?"]


def test_the_bridge_entry_needs_the_inbound_token_and_a_telegram_id(stack: Stack) -> None:
    url = f"{stack.rasa_url}{REST_BRIDGE_PATH}"
    who = f"tg-{uuid.uuid4().hex[:12]}"
    assert httpx.post(url, json={"sender": who, "message": "Hallo"}, timeout=30).status_code == 401
    assert httpx.post(url, json={"sender": who, "message": "Hallo"}, headers={INBOUND_TOKEN_HEADER: "falsch"},
                      timeout=30).status_code == 401
    good = {INBOUND_TOKEN_HEADER: stack.inbound_token}
    assert httpx.post(url, json={"sender": "web-x", "message": "Hallo"}, headers=good, timeout=30).status_code == 400
    r = httpx.post(url, json={"sender": who, "message": "Was ist BAB?", "input_channel": "rest"}, headers=good,
                   timeout=60)
    assert r.status_code == 200 and "Berufsausbildungsbeihilfe" in texts(r.json())
    channels = [e.get("input_channel") for e in stack.tracker(who)["events"] if e.get("event") == "user"]
    assert channels == ["telegram"]


def test_advisers_see_a_pseudonym_not_the_conversation_id(stack: Stack) -> None:
    who = sender()
    start_handoff(stack, who)
    adviser = AdviserApi(stack)
    handoff = adviser.handoff_for(who)
    assert handoff["conversation"] == adviser.pseudonym(who) and handoff["conversation"].startswith("G-")
    listing = adviser.client.get("/api/v1/handoffs").text
    detail = adviser.client.get(f"/api/v1/handoffs/{handoff['id']}").text
    export = adviser.client.get(f"/api/v1/handoffs/{handoff['id']}/export").text
    for shown in (listing, detail, export):
        assert who not in shown
