"""Facebook Messenger through Rasa's built-in connector (bot/credentials.yml, values from the environment):
the webhook answers Meta's verification challenge only with the verify token and processes a message only
when its X-Hub-Signature is the HMAC of the body with the app secret; the answer goes to the Graph API (a local
fake, tests/e2e/fake_graph_api.py). During a hand-off messages reach the adviser console and adviser replies are
pushed through the Graph API. Own stack, because Rasa and the console need the fake's proxy settings."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import CONSENT_WORD, STARTED_WORD, TOPIC_WORDS, WAITING_WORDS, AdviserApi
from tests.e2e.fake_graph_api import FakeGraphApi
from tests.rasa_cli import MODEL
from tests.servers import Stack, start_stack

PAGE_TOKEN = "EAAtestpagetoken" + secrets.token_hex(8)


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeGraphApi]:
    fake = FakeGraphApi(tmp_path_factory.mktemp("graph"))
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def stack(kb_url: str, graph: FakeGraphApi, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not MODEL.exists():
        pytest.fail("no trained model: run the suite through `make test`")
    workdir: Path = tmp_path_factory.mktemp("messenger")
    running = start_stack(workdir, kb_url, FACEBOOK_VERIFY_TOKEN=secrets.token_urlsafe(12),
                          FACEBOOK_SECRET=secrets.token_hex(16), FACEBOOK_PAGE_ACCESS_TOKEN=PAGE_TOKEN,
                          **graph.env())
    yield running
    running.stop()


def event(sender: str, text: str) -> bytes:
    body = {"object": "page", "entry": [{"id": "page-1", "time": 1764000000000, "messaging": [{
        "sender": {"id": sender}, "recipient": {"id": "page-1"}, "timestamp": 1764000000000,
        "message": {"mid": "m-" + secrets.token_hex(6), "text": text},
    }]}]}
    return json.dumps(body).encode()


def post(stack: Stack, body: bytes, signature: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature"] = signature
    return httpx.post(f"{stack.rasa_url}/webhooks/facebook/webhook", content=body, headers=headers, timeout=60)


def sign(secret: str, body: bytes) -> str:
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def user_texts(stack: Stack, sender: str) -> list[str]:
    events = stack.tracker(sender)["events"]
    return [e["text"] for e in events if e.get("event") == "user"]


def test_verification_challenge_needs_the_verify_token(stack: Stack) -> None:
    url = f"{stack.rasa_url}/webhooks/facebook/webhook"
    params = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}
    good = httpx.get(url, params={**params, "hub.verify_token": stack.env["FACEBOOK_VERIFY_TOKEN"]}, timeout=30)
    assert good.text == "1158201444"
    bad = httpx.get(url, params={**params, "hub.verify_token": "falsch"}, timeout=30)
    assert bad.text != "1158201444" and "invalid" in bad.text


def test_wrongly_signed_or_unsigned_messages_are_rejected(stack: Stack, graph: FakeGraphApi) -> None:
    sender = "fb-" + secrets.token_hex(6)
    body = event(sender, "Was ist BAB?")
    for signature in (None, "sha1=" + "0" * 40, sign("not-the-secret", body),
                      sign(stack.env["FACEBOOK_SECRET"], body + b" ")):
        assert post(stack, body, signature).text == "not validated"
    assert user_texts(stack, sender) == []  # nothing reached the bot …
    assert graph.messages_to(sender) == []  # … and nothing was sent


def test_a_correctly_signed_message_is_answered_through_the_graph_api(stack: Stack, graph: FakeGraphApi) -> None:
    sender = "fb-" + secrets.token_hex(6)
    body = event(sender, "Was ist BAB?")
    assert post(stack, body, sign(stack.env["FACEBOOK_SECRET"], body)).text == "success"
    assert user_texts(stack, sender) == ["Was ist BAB?"]
    answer = graph.wait_for_text(sender, containing="BAB")
    assert any("BAB" in text for text in answer), answer
    assert {r["access_token"] for r in graph.requests} == {PAGE_TOKEN}  # sent with the page token


def say(stack: Stack, graph: FakeGraphApi, sender: str, text: str, expect: str) -> list[str]:
    """A signed Messenger message; returns the texts sent to the user once one contains ``expect``."""
    before = len(graph.texts_to(sender))
    body = event(sender, text)
    assert post(stack, body, sign(stack.env["FACEBOOK_SECRET"], body)).text == "success"
    texts = graph.wait_for_text(sender, containing=expect)[before:]
    assert any(expect in t for t in texts), texts
    return texts


def test_handoff_from_messenger_reaches_the_console_and_adviser_replies_reach_messenger(
    stack: Stack, graph: FakeGraphApi
) -> None:
    sender = "fb-" + secrets.token_hex(6)
    say(stack, graph, sender, "Ich möchte mit einem Menschen sprechen", CONSENT_WORD)
    say(stack, graph, sender, "ja", TOPIC_WORDS)
    body = event(sender, "Ärger mit meinem Ausbilder")
    assert post(stack, body, sign(stack.env["FACEBOOK_SECRET"], body)).text == "success"
    if not any(STARTED_WORD in t for t in graph.wait_for_text(sender, containing=STARTED_WORD, timeout=10)):
        say(stack, graph, sender, "/skip", STARTED_WORD)  # outside office hours: no contact details

    adviser = AdviserApi(stack)
    handoff = adviser.handoff_for(sender)
    assert handoff["channel"] == "facebook"
    say(stack, graph, sender, "Hallo, ist da jemand?", WAITING_WORDS)
    thread = [m["text"] for m in adviser.detail(handoff["id"])["thread"] if m["role"] == "user"]
    assert thread == ["Hallo, ist da jemand?"]

    adviser.reply(handoff["id"], "Hallo, hier ist Frau Berg von der Beratung.")
    pushed = [m for m in graph.messages_to(sender) if "Frau Berg" in m.get("message", {}).get("text", "")]
    assert len(pushed) == 1
    assert pushed[0]["message"]["text"] == "Beratung: Hallo, hier ist Frau Berg von der Beratung."
    assert pushed[0]["messaging_type"] == "MESSAGE_TAG" and pushed[0]["tag"] == "HUMAN_AGENT"
    adviser.close(handoff["id"], "geklärt")
    assert any("Ich bin wieder da" in t for t in graph.wait_for_text(sender, containing="Ich bin wieder da"))
    assert any("BAB" in t for t in say(stack, graph, sender, "Was ist BAB?", "BAB"))  # the bot answers again


def test_deletion_through_the_dialogue_deletes_the_conversation(stack: Stack, graph: FakeGraphApi) -> None:
    sender = "fb-" + secrets.token_hex(6)
    say(stack, graph, sender, "Was ist BAB?", "BAB")
    say(stack, graph, sender, "Bitte lösch meine Daten", "löschen")
    say(stack, graph, sender, "/affirm", "gelöscht")
    assert user_texts(stack, sender) == []
    sent = [json.dumps(m) for m in graph.messages_to(sender)]
    assert not any("delete_conversation" in m for m in sent)  # the marker is not sent to Messenger


def test_meine_daten_on_messenger_sends_a_summary_not_the_marker(stack: Stack, graph: FakeGraphApi) -> None:
    sender = "fb-" + secrets.token_hex(6)
    say(stack, graph, sender, "Was ist BAB?", "BAB")
    texts = say(stack, graph, sender, "Meine Daten", "Gespeichert zu diesem Chat")
    joined = "\n".join(texts)
    assert "keine Datei" in joined and "Kennung G-" in joined
    assert "2 eigene Nachricht(en)" in joined  # "Was ist BAB?" and "Meine Daten"
    sent = [json.dumps(m) for m in graph.messages_to(sender)]
    assert not any("export_conversation" in m or "data_export" in m for m in sent)
