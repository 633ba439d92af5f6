"""Fixtures for the adviser console: a migrated SQLite database per test, a fake Rasa HTTP API, an app client."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from channels.console.accounts import create_adviser
from channels.console.app import create_app
from core.db import make_engine, make_session_factory, session_scope
from core.migrate import upgrade
from core.settings import ConsoleSettings
from handoff import service
from handoff.models import Adviser, Handoff, utcnow
from tests.http_json import JsonHandler

RASA_TOKEN = "rasa-test-token"
INBOUND_TOKEN = "inbound-test-token"
PASSWORD = "richtig-geheim-123"
XSS = "<script>alert(1)</script>"
BACK_TEXT = "Ich bin wieder da. Wie kann ich dir weiterhelfen?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class FakeRasa:
    """Rasa's HTTP API as far as the console uses it; records every call."""

    token: str = RASA_TOKEN
    calls: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200  # set to 500 to make Rasa fail
    url: str = ""

    def start(self) -> FakeRasa:
        fake = self

        class Handler(JsonHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                body = self.read_json()
                fake.calls.append({"path": unquote(parts.path), "raw_path": parts.path, "query": query, "body": body})
                if query.get("token") != fake.token:
                    return self.send_json(401, {"message": "token wrong"})
                if fake.status != 200:
                    return self.send_json(fake.status, {"message": "kaputt"})
                match = re.fullmatch(r"/conversations/([^/]+)/(tracker/events|execute)", parts.path)
                if not match:
                    return self.send_json(404, {})
                sender = unquote(match.group(1))
                if match.group(2) == "execute":
                    return self.send_json(200, {"tracker": {"sender_id": sender},
                                            "messages": [{"recipient_id": sender, "text": BACK_TEXT}]})
                return self.send_json(200, {"sender_id": sender, "events": []})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("console-template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def db_url(tmp_path: Path, migrated_template: Path) -> str:
    target = tmp_path / "console.sqlite3"
    shutil.copy(migrated_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def factory(db_url: str) -> sessionmaker[Session]:
    return make_session_factory(make_engine(db_url))


@pytest.fixture
def fake_rasa() -> Iterator[FakeRasa]:
    fake = FakeRasa().start()
    yield fake
    fake.stop()


@pytest.fixture
def settings(db_url: str, fake_rasa: FakeRasa) -> ConsoleSettings:
    return ConsoleSettings(
        database_url=db_url,
        secret_key="test-secret-key-0123456789abcdef",
        rasa_url=fake_rasa.url,
        rasa_token=RASA_TOKEN,
        rasa_timeout=3.0,
        inbound_token=INBOUND_TOKEN,
        auto_setup=False,
    )


@pytest.fixture
def client(settings: ConsoleSettings) -> Iterator[TestClient]:
    # on localhost, like `make run`: CONSOLE_SECURE_COOKIES=auto sets `Secure` on any other host
    with TestClient(create_app(settings), base_url="http://localhost") as c:
        yield c


def add_adviser(factory: sessionmaker[Session], username: str, role: str = "adviser",
                password: str = PASSWORD, display_name: str | None = None) -> int:
    with session_scope(factory) as s:
        return create_adviser(s, username, role, display_name, password).adviser.id


def add_handoff(factory: sessionmaker[Session], conversation_id: str = "conv-1", *, topic: str | None = "Ausbildung",
                channel: str = "rest", reason: str = "request", minutes_ago: int = 0, status: str = "waiting",
                transcript: list[dict[str, Any]] | None = None, summary: dict[str, Any] | None = None,
                contact: str | None = None, assigned_to: str | None = None) -> int:
    with session_scope(factory) as s:
        h = service.create_handoff(
            s, conversation_id=conversation_id, channel=channel, reason=reason, topic=topic, contact=contact,
            transcript=transcript if transcript is not None else [
                {"role": "user", "text": "Ich will Mechatroniker werden", "at": "2026-11-24T10:00:00"},
                {"role": "bot", "text": "Gern! Wo suchst du?", "at": "2026-11-24T10:00:01"},
            ],
            summary=summary if summary is not None else {"persona": "du", "occupation": "Mechatroniker/in",
                                                          "place": "Kassel", "topic": topic, "intents": ["ask"]},
        )
        h.created_at = utcnow() - dt.timedelta(minutes=minutes_ago)
        h.status = status
        if assigned_to is not None:  # a closed hand-off always has someone (closing assigns it)
            h.assigned_to = s.query(Adviser).filter_by(username=assigned_to).one().id
        return h.id


def adviser_id(factory: sessionmaker[Session], username: str) -> int:
    with session_scope(factory) as s:
        return s.query(Adviser).filter_by(username=username).one().id


def load(factory: sessionmaker[Session], handoff_id: int) -> Handoff:
    with session_scope(factory) as s:
        h = service.get_handoff(s, handoff_id)
        assert h is not None
        h.messages, h.notes, h.adviser  # noqa: B018 - load before the session closes
        return h


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    match = CSRF_RE.search(page.text)
    assert match, "no CSRF field on " + path
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD, next_url: str = "/") -> Any:
    token = csrf_of(client, "/login")
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token,
                                       "next": next_url}, follow_redirects=False)


@pytest.fixture
def adviser_client(client: TestClient, factory: sessionmaker[Session]) -> TestClient:
    add_adviser(factory, "berta", display_name="Berta Beraterin")
    assert login(client, "berta").status_code == 303
    return client


@pytest.fixture
def admin_client(client: TestClient, factory: sessionmaker[Session]) -> TestClient:
    add_adviser(factory, "chefin", role="admin", display_name="Chefin")
    assert login(client, "chefin").status_code == 303
    return client
