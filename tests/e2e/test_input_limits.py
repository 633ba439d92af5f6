"""End-to-end: the limits inside the real Rasa server and action server (Sanic).

* A message longer than ``MAX_MESSAGE_LENGTH`` characters is not processed; the user is told (du/Sie) in the
  normal JSON list with HTTP 200.
* Request bodies larger than ``RASA_REQUEST_MAX_SIZE`` / ``ACTION_REQUEST_MAX_SIZE``
  (``SANIC_REQUEST_MAX_SIZE`` per process, as ``make run`` sets it) are refused by their Content-Length alone
  (413; rasa_sdk's catch-all error handler turns it into a 500 with Sanic's message).
* Sender ids that the tracker store cannot hold are 400, unstorable characters in a message become U+FFFD, odd
  ``metadata``/``input_channel`` are ignored — one request with the sender ``"\ud800"`` used to stop Rasa.
* ``POST /webhooks/rest/delete`` checks ``X-Inbound-Token`` before it reads the body: a wrong token is 401
  whatever the body (malformed, larger than the route's own limit, or declaring more than Sanic accepts at
  all).
"""

from __future__ import annotations

import socket
import uuid
from urllib.parse import urlsplit

import httpx
import pytest

from core.protocol import (
    ACTION_TOKEN_HEADER,
    CONVERSATION_TOKEN_HEADER,
    INBOUND_TOKEN_HEADER,
    MAX_MESSAGE_LENGTH,
    REST_DELETE_PATH,
    REST_WEBHOOK_PATH,
)
from core.settings import StackSettings
from tests.e2e.conftest import texts
from tests.servers import Stack

pytestmark = pytest.mark.e2e

LIMITS = StackSettings()
TOO_LONG_WORDS = f"über {MAX_MESSAGE_LENGTH:,} Zeichen".replace(",", ".")


def sender() -> str:
    return f"limits-{uuid.uuid4().hex[:8]}"


def user_texts(stack: Stack, who: str) -> list[str]:
    return [e.get("text") or "" for e in stack.tracker(who)["events"] if e.get("event") == "user"]


def answer_to_declared_body(url: str, path: str, length: int,
                            headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """Send a POST whose headers declare ``length`` body bytes, but only the first kilobyte of the body; return
    status and raw answer of the server (a server that wanted the whole body would time out here)."""
    parts = urlsplit(url)
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    head = (f"POST {path} HTTP/1.1\r\nHost: {parts.hostname}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\n{extra}Connection: close\r\n\r\n")
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=30) as conn:
        conn.sendall(head.encode("latin-1") + b"[" * min(length, 1024))
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1]), answer


def test_a_message_over_the_limit_is_not_processed_and_the_user_is_told(stack: Stack) -> None:
    who = sender()
    long_text = ("Ich möchte eine Ausbildung machen. " * 200)[: MAX_MESSAGE_LENGTH + 1]
    r = httpx.post(f"{stack.rasa_url}{REST_WEBHOOK_PATH}", json={"sender": who, "message": long_text},
                   timeout=60)
    assert r.status_code == 200
    reply = r.json()
    assert len(reply) == 1, reply
    assert TOO_LONG_WORDS in reply[0]["text"] and "kürzeren Teilen" in reply[0]["text"], reply
    assert reply[0]["text"].startswith("Deine Nachricht")
    assert long_text not in user_texts(stack, who)  # not processed, not stored
    stack.tokens[who] = r.headers[CONVERSATION_TOKEN_HEADER]  # the conversation's token came with the answer
    assert "Hi" in texts(stack.say(who, "Hallo"))  # the conversation goes on normally


def test_a_message_of_exactly_the_limit_is_processed(stack: Stack) -> None:
    who = sender()
    text = ("Was ist BAB? " * 400)[:MAX_MESSAGE_LENGTH]
    reply = texts(stack.say(who, text, timeout=60))
    assert TOO_LONG_WORDS not in reply
    assert text in user_texts(stack, who)


def test_parents_are_told_with_sie(stack: Stack) -> None:
    who = sender()
    stack.say(who, "Ich bin Mutter und habe Fragen für meinen Sohn")
    reply = texts(stack.say(who, "x" * (MAX_MESSAGE_LENGTH + 500)))
    assert reply.startswith("Ihre Nachricht") and "schicken Sie" in reply, reply


def test_rasa_refuses_a_body_over_its_limit(stack: Stack) -> None:
    too_large = LIMITS.rasa_request_max_size + 1
    assert answer_to_declared_body(stack.rasa_url, REST_WEBHOOK_PATH, too_large)[0] == 413
    # a body below the limit but with a message far over MAX_MESSAGE_LENGTH: the normal answer, HTTP 200
    r = httpx.post(f"{stack.rasa_url}{REST_WEBHOOK_PATH}",
                   json={"sender": sender(), "message": "ü" * 200_000}, timeout=60)
    assert r.status_code == 200 and TOO_LONG_WORDS in r.json()[0]["text"]


def test_the_action_server_refuses_a_body_over_its_limit(stack: Stack) -> None:
    action_url = stack.actions.health_url.removesuffix("/health")
    status, answer = answer_to_declared_body(action_url, "/webhook", LIMITS.action_request_max_size + 1,
                                             {ACTION_TOKEN_HEADER: stack.env["ACTION_SERVER_TOKEN"]})
    # Sanic refuses the body (413) before reading it; rasa_sdk's catch-all error handler reports that as 500
    assert status in (413, 500) and b"exceeds the size limit" in answer, answer[:500]
    # normal turns (Rasa → action server) still work
    assert "Berufsausbildungsbeihilfe" in texts(stack.say(sender(), "Was ist BAB?"))


@pytest.mark.parametrize(
    "body",
    [b"{kein json", b"\xff\xfe\x00\x01", b"[" * 100_000, b'{"sender": "' + b"x" * 200_000 + b'"}',
     b"x" * 600_000],
    ids=["malformed", "binary", "deeply nested", "oversized sender", "large"],
)
@pytest.mark.parametrize("token", ["falsch", "", "ä-ümlaut"], ids=["wrong", "empty", "non-ascii"])
def test_delete_checks_the_token_before_the_body(stack: Stack, body: bytes, token: str) -> None:
    headers = {"Content-Type": "application/json", INBOUND_TOKEN_HEADER: token.encode("utf-8")}
    r = httpx.post(f"{stack.rasa_url}{REST_DELETE_PATH}", content=body, headers=headers, timeout=60)
    assert r.status_code == 401, (r.status_code, r.text[:200])


def test_delete_with_a_wrong_token_is_401_even_when_the_body_is_over_sanics_limit(stack: Stack) -> None:
    status, _ = answer_to_declared_body(stack.rasa_url, REST_DELETE_PATH, LIMITS.rasa_request_max_size * 2,
                                        {INBOUND_TOKEN_HEADER: "falsch"})
    assert status == 401


def test_delete_with_the_right_token_refuses_an_oversized_or_malformed_body(stack: Stack) -> None:
    headers = {"Content-Type": "application/json", INBOUND_TOKEN_HEADER: stack.inbound_token}
    url = f"{stack.rasa_url}{REST_DELETE_PATH}"
    assert httpx.post(url, content=b" " * 100_000 + b'{"sender": "x"}', headers=headers).status_code == 413
    assert httpx.post(url, content=b"[" * 10_000, headers=headers).status_code == 400
    assert httpx.post(url, content=b"{kein json", headers=headers).status_code == 400
    who = sender()
    stack.say(who, "Was ist BAB?")
    r = httpx.post(url, json={"sender": who}, headers=headers, timeout=60)
    assert r.status_code == 200 and r.json()["deleted"] is True
    assert user_texts(stack, who) == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"sender": "\\ud800", "message": "Hallo"}', 400),  # this one request stopped the whole Rasa server
        (b'{"sender": "a\\u0000b", "message": "Hallo"}', 400),
        (b'{"sender": "SENDER", "message": "/\\ud800"}', 200),
        (b'{"sender": "SENDER", "message": "Hallo \\u0000 \\udfff"}', 200),
        (b'{"sender": "SENDER", "message": "Hallo", "metadata": [1, 2]}', 200),
        (b'{"sender": "SENDER", "message": "Hallo", "metadata": true}', 200),
        (b'{"sender": "SENDER", "message": "Hallo", "input_channel": {"x": 1}}', 200),
    ],
    ids=["surrogate sender", "NUL sender", "surrogate intent", "surrogate and NUL text", "list metadata",
         "bool metadata", "object input_channel"],
)
def test_odd_values_are_refused_or_cleaned_and_rasa_keeps_running(stack: Stack, body: bytes, status: int) -> None:
    content = body.replace(b"SENDER", sender().encode())
    r = httpx.post(f"{stack.rasa_url}{REST_WEBHOOK_PATH}", content=content,
                   headers={"Content-Type": "application/json"}, timeout=60)
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert isinstance(r.json(), list if status == 200 else dict)
    assert "Hi" in texts(stack.say(sender(), "Hallo"))  # the server is still there
