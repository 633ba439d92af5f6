"""Fuzzing Rasa's REST channel (``rasa_plugins/rest_channel.py``) in the real Rasa server with hypothesis.

Random JSON bodies — objects with odd ``sender`` and ``message`` values (random unicode with control
characters and lone surrogates, nulls, numbers, lists, objects, strings of up to 10,000 characters), extra
fields such as ``input_channel`` and ``metadata``, and bodies that are not objects at all — go to the webhook;
the outbox and the delete endpoint get random parameters, headers and bodies. Every answer must be below 500
and JSON, and the Rasa log must show no traceback or exception caused by them. Bounded and reproducible:
``derandomize=True``, a fixed number of examples, no example database.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.protocol import INBOUND_TOKEN_HEADER, REST_DELETE_PATH, REST_OUTBOX_PATH, REST_WEBHOOK_PATH
from tests.servers import Stack

pytestmark = pytest.mark.e2e

FUZZ = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PROBLEM = re.compile(r"Traceback|Exception|\bERROR\b")

# any code point but lone surrogates (they come as JSON escapes below): control characters, emoji, RTL marks …
ANY_CHAR = st.characters(exclude_categories=["Cs"])
ODD_TEXT = st.one_of(
    st.text(ANY_CHAR, max_size=120),
    st.builds(lambda c, n: c * n,
              st.sampled_from(["x", "ä", "😀", "\x00", " ", "\n", "(", "a@", "1 ", "\u202e"]),
              st.integers(0, 10_000)),
    st.sampled_from(["\ud800", "a\udfffb", "/restart", "/greet{\"x\": [1, 2]}", "/", "/affirm{",
                     "<script>x</script>", "'; DROP TABLE events; --", "{{name}}", "%s%s%n",
                     "\r\n\r\nHTTP/1.1 200 OK"]),
)
JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(),
                      st.floats(allow_nan=False, allow_infinity=False), ODD_TEXT)


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4))


JSON_VALUE = st.recursive(JSON_LEAF, _containers, max_leaves=12)
BODY = st.one_of(
    st.fixed_dictionaries(
        {"sender": st.one_of(ODD_TEXT, JSON_VALUE, st.text("abcdef0123456789-", min_size=1, max_size=40)),
         "message": st.one_of(ODD_TEXT, JSON_VALUE)},
        optional={"input_channel": JSON_VALUE, "metadata": JSON_VALUE, "extra": JSON_VALUE},
    ),
    JSON_VALUE,
)


def encode(body: Any) -> bytes:
    """JSON with every non-ASCII character escaped, so lone surrogates travel as ``\\ud800``."""
    return json.dumps(body, ensure_ascii=True).encode("ascii")


def log_from(stack: Stack, offset: int) -> str:
    return stack.rasa.log.read_bytes()[offset:].decode("utf-8", errors="replace")


def assert_json_below_500(r: httpx.Response) -> None:
    assert r.status_code < 500, (r.status_code, r.text[:300])
    r.json()  # always a JSON answer


def test_the_webhook_answers_random_json_without_a_server_error(stack: Stack) -> None:
    offset = stack.rasa.log.stat().st_size
    client = httpx.Client(base_url=stack.rasa_url, timeout=60)

    @FUZZ
    @given(body=BODY)
    def post(body: Any) -> None:
        r = client.post(REST_WEBHOOK_PATH, content=encode(body), headers={"Content-Type": "application/json"})
        assert_json_below_500(r)
        if r.status_code == 200:
            assert isinstance(r.json(), list)

    post()
    problems = [line for line in log_from(stack, offset).splitlines() if PROBLEM.search(line)]
    assert problems == [], "\n".join(problems[:40])


def test_outbox_and_delete_answer_random_input_without_a_server_error(stack: Stack) -> None:
    offset = stack.rasa.log.stat().st_size
    client = httpx.Client(base_url=stack.rasa_url, timeout=60)
    header_value = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=60)

    @FUZZ
    # no lone surrogates (a URL cannot carry them); a request head over 8 KB gets Sanic's own 413 (plain text)
    @given(sender=ODD_TEXT.filter(lambda s: "\ud800" not in s and "\udfff" not in s and len(s.encode()) <= 600))
    def outbox(sender: str) -> None:
        assert_json_below_500(client.get(REST_OUTBOX_PATH, params={"sender": sender}))

    @FUZZ
    @given(token=st.one_of(st.just(stack.inbound_token), header_value), body=BODY,
           raw=st.one_of(st.none(), st.binary(max_size=300)))
    def delete(token: str, body: Any, raw: bytes | None) -> None:
        content = raw if raw is not None else encode(body)
        headers = {"Content-Type": "application/json", INBOUND_TOKEN_HEADER: token.encode("latin-1")}
        r = client.post(REST_DELETE_PATH, content=content, headers=headers)
        assert_json_below_500(r)
        if token != stack.inbound_token:
            assert r.status_code == 401

    outbox()
    delete()
    problems = [line for line in log_from(stack, offset).splitlines() if PROBLEM.search(line)]
    assert problems == [], "\n".join(problems[:40])
