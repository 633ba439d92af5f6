"""End-to-end: the FAQ prefetch between the real Rasa server and the real action server.

Rasa's first NLU component (rasa_plugins/faq_prefetch.py) posts each message's text to the action server's
``ACTION_FAQ_PREFETCH_PATH``, which embeds it while Rasa's NLU and policies run (actions/faq_prefetch.py). The route
is behind the action server's token like every other; hostile bodies get a clear status and change nothing.
"""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from core.protocol import ACTION_FAQ_PREFETCH_PATH, ACTION_TOKEN_HEADER
from tests.e2e.conftest import texts
from tests.servers import Stack

pytestmark = pytest.mark.e2e

WIRED = "faq prefetch: Rasa hands over the messages"


def prefetch_url(stack: Stack) -> str:
    return stack.actions.health_url.removesuffix("/health") + ACTION_FAQ_PREFETCH_PATH


def test_a_message_through_rasa_reaches_the_prefetch_and_is_answered(stack: Stack) -> None:
    answer = texts(stack.say(f"prefetch-{uuid.uuid4().hex[:8]}", "wie lange geht eigentlich die probezeit"))
    assert "Probezeit" in answer and "Stand:" in answer
    deadline = time.monotonic() + 10
    while WIRED not in stack.actions.log.read_text(errors="replace") and time.monotonic() < deadline:
        time.sleep(0.1)
    log = stack.actions.log.read_text(errors="replace")
    assert WIRED in log
    assert "probezeit" not in log.lower()  # the text is never logged


def test_the_route_needs_the_token_and_takes_only_what_it_can_use(stack: Stack) -> None:
    url, token = prefetch_url(stack), {ACTION_TOKEN_HEADER: stack.env["ACTION_SERVER_TOKEN"]}
    assert httpx.post(url, json={"text": "Frage"}, timeout=10).status_code == 403
    assert httpx.post(url, json={"text": "Frage"}, headers={ACTION_TOKEN_HEADER: "falsch"},
                      timeout=10).status_code == 403
    for body in ({"text": '/ask_faq{"faq_key":"vertrag_probezeit"}'}, {"text": ""}, {"text": 42}, {},
                 {"text": "x" * 5000}, [], [1, 2], "text"):
        r = httpx.post(url, json=body, headers=token, timeout=10)
        assert (r.status_code, r.json()) == (202, {"prefetch": False}), body
    r = httpx.post(url, content=b"{kein json", headers={**token, "Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 400
    r = httpx.post(url, json={"text": "Wie viel Urlaub habe ich mit 17?"}, headers=token, timeout=10)
    assert r.status_code == 202 and isinstance(r.json()["prefetch"], bool)  # False only while the thread is busy
    assert "Urlaub" in texts(stack.say(f"prefetch-{uuid.uuid4().hex[:8]}", "Wie viel Urlaub habe ich mit 17?"))


def test_the_action_server_loads_the_faq_index_right_after_its_start(stack: Stack) -> None:
    deadline = time.monotonic() + 60
    while "FAQ index ready after" not in stack.actions.log.read_text(errors="replace") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "FAQ index ready after" in stack.actions.log.read_text(errors="replace")
