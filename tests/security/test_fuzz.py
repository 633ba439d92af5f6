"""Fuzzing the HTTP entries of the application processes with hypothesis (in process, FastAPI's TestClient).

* Adviser console: every operation of its OpenAPI description (JSON API ``/api/v1`` and the channel endpoints)
  with bodies, path and query parameters generated from the operation's schema — valid ones, out-of-range ones
  (huge and negative integers, long strings, control characters) and random JSON — and with right, wrong or
  missing credentials; plus random paths and methods, including the HTML pages. No answer may be a 5xx and no
  exception may escape (the TestClient raises server exceptions).
* Telegram bridge: random update dicts, shaped like Telegram's (messages, commands, button presses, odd chat
  types, missing or mistyped fields) and random JSON, go through ``telegram.Update.de_json`` and the real
  handlers of ``channels/telegram/handlers.py`` via the bridge's webhook endpoint (``create_server`` in
  webhook mode, a real python-telegram-bot ``Application`` talking to the fake Bot API of ``tests/telegram``);
  the push endpoint gets random bodies. The webhook answers 200, 400 or 403 — a 500 would make Telegram send
  the update again and again.

The channel side inside Rasa is fuzzed in ``tests/e2e/test_fuzz_rest.py``. Every test is bounded and
reproducible (``max_examples``, ``derandomize=True``, no example database).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker
from telegram.ext import ApplicationBuilder

from channels.console.accounts import issue_token
from channels.console.app import create_app
from channels.telegram.handlers import DELETE_NO, DELETE_YES, add_handlers
from channels.telegram.server import SECRET_HEADER, create_server
from core import protocol
from core.db import make_engine, make_session_factory, session_scope
from core.migrate import upgrade
from core.settings import ConsoleSettings, TelegramSettings
from tests.console.conftest import INBOUND_TOKEN, add_adviser, add_handoff, login
from tests.telegram.fake_bot_api import FakeTelegram

FUZZ = hypothesis_settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])

ANY_CHAR = st.characters(exclude_categories=["Cs"])
ODD_TEXT = st.one_of(
    st.text(ANY_CHAR, max_size=80),
    st.builds(lambda c, n: c * n, st.sampled_from(["x", "ä", "😀", "\x00", "/", "%", "..", "{", "'"]),
              st.integers(0, 5_000)),
)
INTEGER = st.one_of(st.integers(-5, 20), st.integers(), st.sampled_from([2**31, 2**63, -(2**63) - 1, 10**30]))
JSON_LEAF = st.one_of(st.none(), st.booleans(), INTEGER, st.floats(), ODD_TEXT)


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4))


JSON_VALUE = st.recursive(JSON_LEAF, _containers, max_leaves=12)
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80)


# --- strategies from the OpenAPI schema ---------------------------------------------------------------------

def from_schema(schema: dict[str, Any], components: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Values that fit ``schema`` most of the time, and odd ones at its edges (a small, hand-written subset
    of JSON Schema: what FastAPI writes for our models)."""
    if "$ref" in schema:
        return from_schema(components[schema["$ref"].rsplit("/", 1)[-1]], components, depth)
    if "anyOf" in schema:
        return st.one_of(*(from_schema(s, components, depth) for s in schema["anyOf"]))
    kind = schema.get("type")
    if kind == "string":
        if "pattern" in schema:
            return st.one_of(st.from_regex(schema["pattern"], fullmatch=True), ODD_TEXT)
        longest = int(schema.get("maxLength", 60))
        return st.one_of(st.text(ANY_CHAR, max_size=min(longest, 200)), st.just("x" * (longest + 1)),
                         ODD_TEXT)
    if kind == "integer":
        return INTEGER
    if kind == "number":
        return st.floats()
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array" and depth < 3:
        items = from_schema(schema.get("items", {}), components, depth + 1)
        return st.lists(items, max_size=min(int(schema.get("maxItems", 5)), 5) + 1)
    if kind == "object" and depth < 3:
        properties = {name: from_schema(s, components, depth + 1)
                      for name, s in schema.get("properties", {}).items()}
        required = set(schema.get("required", []))
        return st.fixed_dictionaries({k: v for k, v in properties.items() if k in required},
                                     optional={k: v for k, v in properties.items() if k not in required})
    return JSON_VALUE


def operations(app: Any) -> list[tuple[str, str, dict[str, Any]]]:
    spec = app.openapi()
    return [(method.upper(), path, op) for path, item in spec["paths"].items() for method, op in item.items()]


def request_for(op: dict[str, Any], path: str,
                components: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """path (with parameters), query parameters and JSON body of one call of the operation."""
    params = op.get("parameters", [])
    path_values = st.fixed_dictionaries({p["name"]: from_schema(p.get("schema", {}), components)
                                         for p in params if p["in"] == "path"})
    query = st.fixed_dictionaries({}, optional={p["name"]: from_schema(p.get("schema", {}), components)
                                                for p in params if p["in"] == "query"})
    body_schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    body = st.one_of(from_schema(body_schema, components), JSON_VALUE) if body_schema else st.none()

    def build(values: dict[str, Any], q: dict[str, Any], b: Any) -> dict[str, Any]:
        url = path
        for name, value in values.items():
            url = url.replace("{" + name + "}", quote(str(value), safe=""))
        query_items = {k: ("" if v is None else json.dumps(v) if isinstance(v, list | dict) else str(v))
                       for k, v in q.items()}
        return {"url": url, "params": query_items, "body": b}

    return st.builds(build, path_values, query, body)


# --- adviser console ----------------------------------------------------------------------------------------

@pytest.fixture
def console(settings: ConsoleSettings, factory: sessionmaker[Session]) -> Iterator[tuple[TestClient, str]]:
    add_adviser(factory, "fuzz-admin", role="admin")
    with session_scope(factory) as s:
        token = issue_token(s, "fuzz-admin")
    for i in range(3):
        add_handoff(factory, f"fuzz-{i}", status="waiting" if i else "assigned",
                    assigned_to=None if i else "fuzz-admin")
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        yield client, token


def credentials(api_token: str) -> st.SearchStrategy[dict[str, str]]:
    bearer = st.one_of(st.just(f"Bearer {api_token}"), st.just("Bearer falsch"), HEADER_TEXT)
    inbound = st.one_of(st.just(INBOUND_TOKEN), HEADER_TEXT)
    content_type = st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded"])
    return st.fixed_dictionaries({}, optional={
        "Authorization": bearer, protocol.INBOUND_TOKEN_HEADER: inbound, "Content-Type": content_type,
    })


CONSOLE_OPERATIONS = [f"{m} {p}" for m, p, _ in operations(create_app(ConsoleSettings(
    database_url="sqlite://", secret_key="x" * 32, auto_setup=False)))]


@pytest.mark.parametrize("operation", CONSOLE_OPERATIONS)
def test_console_operations_never_answer_5xx(console: tuple[TestClient, str], operation: str) -> None:
    client, api_token = console
    spec = client.app.openapi()  # type: ignore[attr-defined]
    components = spec.get("components", {}).get("schemas", {})
    method, path = operation.split(" ", 1)
    op = spec["paths"][path][method.lower()]

    @FUZZ
    @given(call=request_for(op, path, components), headers=credentials(api_token),
           raw=st.one_of(st.none(), st.binary(max_size=200)))
    def one(call: dict[str, Any], headers: dict[str, str], raw: bytes | None) -> None:
        content = raw
        if raw is None and call["body"] is not None:
            content = json.dumps(call["body"]).encode()
        r = client.request(method, call["url"], params=call["params"], content=content, headers=headers)
        assert r.status_code < 500, (method, call, r.status_code, r.text[:300])

    one()


@pytest.mark.parametrize("logged_in", [False, True], ids=["anonymous", "logged in"])
def test_console_random_paths_and_methods_never_answer_5xx(console: tuple[TestClient, str],
                                                           logged_in: bool) -> None:
    client, api_token = console
    if logged_in:
        assert login(client, "fuzz-admin").status_code == 303
    page = st.sampled_from(["/", "/login", "/logout", "/audit", "/users", "/docs", "/redoc", "/openapi.json",
                            "/static/../app.py", "/static/%2e%2e/app.py", protocol.CONSOLE_OUTBOX_PATH + "/",
                            protocol.CONSOLE_INBOUND_PATH + "/x"])
    with_id = st.builds(lambda template, value: template.format(quote(str(value), safe="")),
                        st.sampled_from(["/handoffs/{}", "/handoffs/{}/export.json", "/handoffs/{}/reply",
                                         "/api/v1/handoffs/{}", "/api/v1/handoffs/{}/export"]),
                        st.one_of(INTEGER, ODD_TEXT))
    anything = st.lists(st.text(ANY_CHAR, min_size=1, max_size=12), min_size=1, max_size=4).map(
        lambda parts: "/" + "/".join(quote(p, safe="") for p in parts))
    path = st.one_of(page, with_id, anything)
    methods = st.sampled_from(["GET"] * 6 + ["POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
    bearer = {"Authorization": f"Bearer {api_token}"}

    @FUZZ
    @given(method=methods, path=path, headers=credentials(api_token),
           body=st.one_of(st.none(), st.binary(max_size=300)),
           query=st.dictionaries(st.text(max_size=10), st.text(ANY_CHAR, max_size=40), max_size=3))
    # found before: ids beyond the database's INTEGER were a 500 (OverflowError)
    @example(method="GET", path="/handoffs/99999999999999999999", headers={}, body=None, query={})
    @example(method="GET", path="/handoffs/9223372036854775808/export.json", headers={}, body=None, query={})
    @example(method="GET", path="/api/v1/handoffs/9223372036854775808", headers=bearer, body=None, query={})
    def one(method: str, path: str, headers: dict[str, str], body: bytes | None,
            query: dict[str, str]) -> None:
        r = client.request(method, path, params=query, content=body, headers=headers, follow_redirects=False)
        assert r.status_code < 500, (method, path, r.status_code, r.text[:300])

    one()


FOUND_BY_FUZZING = [  # each was a 500 before: OverflowError of SQLite or of date arithmetic, undecodable bodies
    ("GET", "/api/v1/handoffs/9223372036854775808", None, {}),
    ("POST", "/api/v1/handoffs/99999999999999999999/assign", None, {}),
    ("GET", "/api/v1/handoffs?min_wait_minutes=1065526899", None, {}),
    ("POST", protocol.CONSOLE_OUTBOX_DELIVERED_PATH, b'{"ids": [9223372036854775808]}',
     {"Content-Type": "application/json"}),
    ("POST", protocol.CONSOLE_INBOUND_PATH, b"\x80", {}),
    ("POST", protocol.CONSOLE_INBOUND_PATH, b'{"conversation_id": "", "text": Infinity}',
     {"Content-Type": "application/json"}),
]


@pytest.mark.parametrize(("method", "path", "body", "headers"), FOUND_BY_FUZZING)
def test_console_inputs_found_by_fuzzing_are_no_server_error(console: tuple[TestClient, str], method: str,
                                                             path: str, body: bytes | None,
                                                             headers: dict[str, str]) -> None:
    client, api_token = console
    auth = {"Authorization": f"Bearer {api_token}", protocol.INBOUND_TOKEN_HEADER: INBOUND_TOKEN}
    r = client.request(method, path, content=body, headers={**auth, **headers})
    assert r.status_code < 500, (r.status_code, r.text[:300])


# --- Telegram bridge ----------------------------------------------------------------------------------------

class RecordingBridge:
    """The bridge's side of the handlers, recorded instead of sent to Rasa and Telegram."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self.calls: list[tuple[str, Any]] = []

    async def user_message(self, chat_id: int, text: str, update_id: int | None) -> None:
        self.calls.append(("user_message", (chat_id, text, update_id)))

    async def say(self, chat_id: int, text: str, markup: Any = None) -> None:
        self.calls.append(("say", (chat_id, text)))

    async def delete(self, chat_id: int) -> bool:
        self.calls.append(("delete", chat_id))
        return True

    async def push(self, conversation_id: str, message: dict[str, Any]) -> bool:
        self.calls.append(("push", (conversation_id, message)))
        return False


CHAT_ID = st.one_of(st.integers(1, 10**12), st.integers(-(10**13), -1), INTEGER)
USER = st.fixed_dictionaries({"id": CHAT_ID, "is_bot": st.booleans(), "first_name": ODD_TEXT},
                             optional={"username": ODD_TEXT, "language_code": ODD_TEXT})
CHAT = st.fixed_dictionaries(
    {"id": CHAT_ID,
     "type": st.one_of(st.sampled_from(["private", "group", "supergroup", "channel"]), ODD_TEXT)},
    optional={"title": ODD_TEXT, "first_name": ODD_TEXT},
)
COMMAND = st.sampled_from(["/start", "/hilfe", "/help", "/neustart", "/datenschutz", "/loeschen",
                           "/unbekannt", "/start@SomeBot", "/", "/start extra words"])
TEXT = st.one_of(COMMAND, ODD_TEXT)


def _message(text: str | None, entities: list[Any] | None, chat: dict[str, Any], user: dict[str, Any],
             extra: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"message_id": 1, "date": 1764000000, "chat": chat, "from": user, **extra}
    if text is not None:
        message["text"] = text
    if entities is not None:
        message["entities"] = entities
    return message


ENTITIES = st.one_of(
    st.none(),
    st.builds(lambda n: [{"type": "bot_command", "offset": 0, "length": n}], st.integers(0, 30)),
    st.lists(st.fixed_dictionaries({"type": st.sampled_from(["bold", "url", "bot_command", "x"]),
                                    "offset": st.integers(-3, 50), "length": st.integers(-3, 50)}),
             max_size=3),
)
OTHER_CONTENT = st.sampled_from([
    {}, {"sticker": {"file_id": "s", "file_unique_id": "u", "type": "regular", "width": 1, "height": 1,
                     "is_animated": False, "is_video": False}},
    {"photo": [{"file_id": "p", "file_unique_id": "u", "width": 1, "height": 1}]},
    {"voice": {"file_id": "v", "file_unique_id": "u", "duration": 1}},
    {"location": {"latitude": 50.1, "longitude": 8.7}},
])
MESSAGE = st.builds(_message, st.one_of(st.none(), TEXT), ENTITIES, CHAT, USER, OTHER_CONTENT)
CALLBACK = st.fixed_dictionaries(
    {"id": ODD_TEXT, "from": USER, "chat_instance": ODD_TEXT},
    optional={"data": st.one_of(st.sampled_from([DELETE_YES, DELETE_NO, "k:unbekannt"]), ODD_TEXT),
              "message": MESSAGE},
)
UPDATE = st.one_of(
    st.fixed_dictionaries({"update_id": st.one_of(st.integers(0, 2**31), INTEGER)},
                          optional={"message": st.one_of(MESSAGE, JSON_VALUE), "edited_message": MESSAGE,
                                    "callback_query": st.one_of(CALLBACK, JSON_VALUE),
                                    "my_chat_member": JSON_VALUE}),
    JSON_VALUE,
)
SECRET = "fuzz-secret_1"


@pytest.fixture
def bridge_app(tmp_path: Path) -> Iterator[tuple[TestClient, RecordingBridge]]:
    url = f"sqlite:///{tmp_path / 'bridge.sqlite3'}"
    upgrade(url)
    bridge = RecordingBridge(make_session_factory(make_engine(url)))
    with FakeTelegram(token="123456:FUZZ") as fake:
        settings = TelegramSettings.from_env({
            "TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_MODE": "webhook",
            "CONSOLE_INBOUND_TOKEN": INBOUND_TOKEN, "KB_DATABASE_URL": url,
            "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/telegram/webhook",
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
        })
        application = (ApplicationBuilder().token(fake.token).base_url(fake.base_url)
                       .base_file_url(fake.base_file_url).updater(None).build())
        application.bot_data["bridge"] = bridge
        add_handlers(application)
        with TestClient(create_server(settings, application, bridge)) as client:  # type: ignore[arg-type]
            client.portal.call(application.initialize)  # type: ignore[union-attr]
            try:
                yield client, bridge
            finally:
                client.portal.call(application.shutdown)  # type: ignore[union-attr]


def test_telegram_updates_are_handled_or_refused_never_a_server_error(
    bridge_app: tuple[TestClient, RecordingBridge],
) -> None:
    client, bridge = bridge_app

    @FUZZ
    @given(update=UPDATE, as_bytes=st.one_of(st.none(), st.binary(max_size=100)))
    def one(update: Any, as_bytes: bytes | None) -> None:
        content = as_bytes if as_bytes is not None else json.dumps(update).encode()
        r = client.post(TelegramSettings.WEBHOOK_PATH, content=content,
                        headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"})
        assert r.status_code in (200, 400), (update, r.status_code, r.text[:300])

    one()
    assert any(name == "user_message" for name, _ in bridge.calls)  # the generator reaches the real handlers


def test_telegram_webhook_without_the_secret_processes_nothing(
    bridge_app: tuple[TestClient, RecordingBridge],
) -> None:
    client, bridge = bridge_app

    @FUZZ
    @given(update=UPDATE, secret=st.one_of(st.none(), HEADER_TEXT.filter(lambda s: s != SECRET)))
    def one(update: Any, secret: str | None) -> None:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        r = client.post(TelegramSettings.WEBHOOK_PATH, content=json.dumps(update).encode(), headers=headers)
        assert r.status_code == 403

    one()
    assert bridge.calls == []


def test_bridge_push_answers_random_bodies_without_a_server_error(
    bridge_app: tuple[TestClient, RecordingBridge],
) -> None:
    client, _ = bridge_app

    @FUZZ
    @given(body=st.one_of(
        st.fixed_dictionaries({"conversation_id": ODD_TEXT, "message": JSON_VALUE}), JSON_VALUE),
        token=st.one_of(st.just(INBOUND_TOKEN), HEADER_TEXT),
        raw=st.one_of(st.none(), st.binary(max_size=100)))
    def one(body: Any, token: str, raw: bytes | None) -> None:
        headers = {protocol.INBOUND_TOKEN_HEADER: token}
        if raw is None:
            headers["Content-Type"] = "application/json"
        r = client.post(protocol.PUSH_PATH, content=raw if raw is not None else json.dumps(body).encode(),
                        headers=headers)
        assert r.status_code < 500, (body, r.status_code, r.text[:300])
        if token != INBOUND_TOKEN:
            assert r.status_code == 401

    one()
