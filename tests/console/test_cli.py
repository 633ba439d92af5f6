"""Accounts from the command line: create-user, set-password, issue-token, ensure-admin, deactivate, activate,
revoke-token."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from channels.console import cli
from channels.console.security import token_hash, verify_password
from core.db import make_engine, make_session_factory, session_scope
from handoff.models import Adviser, AuditEntry
from tests.console.conftest import add_adviser, login

ROOT = Path(__file__).resolve().parents[2]


def run(db_url: str, *args: str, stdin: str = "", monkeypatch: pytest.MonkeyPatch | None = None) -> int:
    if monkeypatch is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return cli.main(["--database-url", db_url, *args])


def account(factory: sessionmaker[Session], username: str) -> Adviser | None:
    with session_scope(factory) as s:
        return s.scalar(select(Adviser).where(Adviser.username == username))


def test_create_user_with_password_from_stdin(db_url: str, factory: sessionmaker[Session], client: TestClient,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert run(db_url, "create-user", "berta", "--role", "adviser", "--display-name", "Berta B.",
               "--password-stdin", stdin="ein-gutes-passwort\n", monkeypatch=monkeypatch) == 0
    out = capsys.readouterr().out
    assert "angelegt" in out and "ein-gutes-passwort" not in out
    berta = account(factory, "berta")
    assert berta and berta.role == "adviser" and berta.display_name == "Berta B."
    assert berta.password_hash.startswith("$argon2id$") and verify_password(berta.password_hash, "ein-gutes-passwort")
    assert login(client, "berta", "ein-gutes-passwort").status_code == 303


def test_create_user_generates_a_password_once(db_url: str, factory: sessionmaker[Session],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert run(db_url, "create-user", "chefin", "--role", "admin") == 0
    password = capsys.readouterr().out.strip().splitlines()[-1].split(": ", 1)[1]
    admin = account(factory, "chefin")
    assert admin and admin.role == "admin" and verify_password(admin.password_hash, password)
    assert run(db_url, "create-user", "chefin") == 1
    assert "gibt es schon" in capsys.readouterr().err


def test_create_user_refuses_bad_input(db_url: str, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert run(db_url, "create-user", "kurz", "--password-stdin", stdin="abc\n", monkeypatch=monkeypatch) == 1
    assert "mindestens 10 Zeichen" in capsys.readouterr().err
    assert run(db_url, "create-user", "mit leerzeichen") == 1
    with pytest.raises(SystemExit):
        run(db_url, "create-user", "x", "--role", "chef")


def test_set_password(db_url: str, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch,
                      capsys: pytest.CaptureFixture[str]) -> None:
    run(db_url, "create-user", "berta")
    assert run(db_url, "set-password", "berta", "--password-stdin", stdin="noch-ein-passwort\n",
               monkeypatch=monkeypatch) == 0
    berta = account(factory, "berta")
    assert berta and verify_password(berta.password_hash, "noch-ein-passwort")
    assert run(db_url, "set-password", "niemand") == 1


def test_issue_token(db_url: str, factory: sessionmaker[Session], client: TestClient,
                     capsys: pytest.CaptureFixture[str]) -> None:
    run(db_url, "create-user", "berta")
    capsys.readouterr()
    assert run(db_url, "issue-token", "berta") == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("bo_")
    berta = account(factory, "berta")
    assert berta and berta.api_token_hash == token_hash(token)
    assert client.get("/api/v1/handoffs", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    run(db_url, "issue-token", "berta")  # a new token replaces the old one
    assert client.get("/api/v1/handoffs", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert run(db_url, "issue-token", "niemand") == 1


def test_ensure_admin_from_environment(db_url: str, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CONSOLE_ADMIN_USER", "leitung")
    monkeypatch.setenv("CONSOLE_ADMIN_PASSWORD", "leitung-passwort")
    assert run(db_url, "ensure-admin") == 0
    assert "leitung-passwort" not in capsys.readouterr().out
    admin = account(factory, "leitung")
    assert admin and admin.role == "admin" and verify_password(admin.password_hash, "leitung-passwort")
    assert run(db_url, "ensure-admin") == 0
    assert "existiert bereits" in capsys.readouterr().out


def test_ensure_admin_without_environment_prints_password_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CONSOLE_ADMIN_USER", raising=False)
    monkeypatch.delenv("CONSOLE_ADMIN_PASSWORD", raising=False)
    db_url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"  # not migrated yet: the CLI migrates first
    assert run(db_url, "ensure-admin") == 0
    out = capsys.readouterr().out
    password = out.strip().splitlines()[-1].split(": ", 1)[1]
    factory = make_session_factory(make_engine(db_url))
    admin = account(factory, "admin")
    assert admin and admin.role == "admin" and verify_password(admin.password_hash, password)
    assert run(db_url, "ensure-admin") == 0
    out = capsys.readouterr().out
    assert "existiert bereits" in out and password not in out
    with session_scope(factory) as s:
        assert len(list(s.scalars(select(Adviser)))) == 1


def test_module_entry_point(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    done = subprocess.run(
        [sys.executable, "-m", "channels.console.cli", "--database-url", db_url, "create-user", "berta",
         "--password-stdin"],
        input="ein-gutes-passwort\n", capture_output=True, text=True, cwd=ROOT, timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    assert "Konto 'berta' (adviser) angelegt." in done.stdout


def test_deactivate_ends_sessions_and_refuses_login_and_token(
    db_url: str, factory: sessionmaker[Session], client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    from channels.console.accounts import issue_token

    add_adviser(factory, "berta")
    with session_scope(factory) as s:
        bearer = {"Authorization": f"Bearer {issue_token(s, 'berta')}"}
    assert login(client, "berta").status_code == 303
    copied = client.cookies.get("console_session")
    assert run(db_url, "deactivate", "berta") == 0
    assert "deaktiviert" in capsys.readouterr().out
    assert client.get("/", follow_redirects=False).status_code == 303
    client.cookies.set("console_session", copied)
    assert client.get("/", follow_redirects=False).status_code == 303
    assert login(client, "berta").status_code == 401
    assert client.get("/api/v1/handoffs", headers=bearer).status_code == 401
    berta = account(factory, "berta")
    assert berta and not berta.active

    assert run(db_url, "activate", "berta") == 0
    assert "aktiviert" in capsys.readouterr().out
    client.cookies.clear()
    assert login(client, "berta").status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 200
    assert run(db_url, "deactivate", "niemand") == 1 and run(db_url, "activate", "niemand") == 1
    assert "gibt es nicht" in capsys.readouterr().err


def test_revoke_token(db_url: str, factory: sessionmaker[Session], client: TestClient,
                      capsys: pytest.CaptureFixture[str]) -> None:
    run(db_url, "create-user", "berta")
    run(db_url, "issue-token", "berta")
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert client.get("/api/v1/handoffs", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert run(db_url, "revoke-token", "berta") == 0
    assert "widerrufen" in capsys.readouterr().out
    assert client.get("/api/v1/handoffs", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    berta = account(factory, "berta")
    assert berta and berta.api_token_hash is None and berta.active
    assert run(db_url, "revoke-token", "niemand") == 1


def test_set_password_ends_the_accounts_sessions(db_url: str, factory: sessionmaker[Session], client: TestClient,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    add_adviser(factory, "berta")
    assert login(client, "berta").status_code == 303
    copied = client.cookies.get("console_session")
    assert run(db_url, "set-password", "berta", "--password-stdin", stdin="noch-ein-passwort\n",
               monkeypatch=monkeypatch) == 0
    client.cookies.set("console_session", copied)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_account_changes_are_audited(db_url: str, factory: sessionmaker[Session]) -> None:
    add_adviser(factory, "berta")
    for command in ("deactivate", "activate", "revoke-token"):
        assert run(db_url, command, "berta") == 0
    with session_scope(factory) as s:
        entries = [(e.action, e.adviser_id) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    berta = account(factory, "berta")
    assert berta and entries == [("account_deactivated", berta.id), ("account_activated", berta.id),
                                 ("token_revoked", berta.id)]
