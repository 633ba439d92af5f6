"""Settings from the environment, the persisted secret key, and the first admin at start-up."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from channels.console.app import create_app
from core.db import make_engine, make_session_factory, session_scope
from core.settings import ConsoleSettings
from handoff.models import Adviser


def test_from_environment(tmp_path: Path) -> None:
    env = {
        "KB_DATABASE_URL": "sqlite:///x.sqlite3",
        "CONSOLE_SECRET_KEY": "k" * 32,
        "RASA_URL": "http://rasa:5005/",
        "RASA_TOKEN": "rt",
        "CONSOLE_INBOUND_TOKEN": "it",
        "CONSOLE_ADMIN_USER": "leitung",
        "CONSOLE_ADMIN_PASSWORD": "pw-pw-pw-pw",
        "CONSOLE_SECURE_COOKIES": "true",
        "CONSOLE_PORT": "8123",
    }
    s = ConsoleSettings.from_env(env, secret_file=tmp_path / "unused.key")
    assert (s.database_url, s.secret_key, s.rasa_url, s.rasa_token, s.inbound_token) == (
        "sqlite:///x.sqlite3", "k" * 32, "http://rasa:5005", "rt", "it")
    assert s.admin_user == "leitung" and s.secure_cookies is True and s.port == 8123 and s.host == "127.0.0.1"
    assert not (tmp_path / "unused.key").exists()


def test_defaults_and_generated_secret_is_kept(tmp_path: Path) -> None:
    key = tmp_path / "var" / "console-secret.key"
    first = ConsoleSettings.from_env({}, secret_file=key)
    assert key.exists() and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert ConsoleSettings.from_env({}, secret_file=key).secret_key == first.secret_key
    assert first.rasa_url == "http://127.0.0.1:5005" and first.secure_cookies is None  # auto
    assert first.idle_timeout == 1800 and first.session_max_age == 28800 and first.trusted_proxies == ""
    assert first.inbound_token is None and first.port == 8000 and first.auto_setup is True


def test_startup_migrates_and_creates_the_first_admin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    settings = ConsoleSettings(database_url=url, secret_key="s" * 32)
    with TestClient(create_app(settings)) as c:
        assert c.get("/login").status_code == 200
    err = capsys.readouterr().err
    assert "Erstes Administrationskonto angelegt" in err and "'admin'" in err
    with TestClient(create_app(settings)):
        pass
    assert "Administrationskonto" not in capsys.readouterr().err  # printed once only
    with session_scope(make_session_factory(make_engine(url))) as s:
        assert [(a.username, a.role) for a in s.scalars(select(Adviser))] == [("admin", "admin")]
