"""Adviser accounts: create, set password, issue and revoke API tokens, deactivate and activate, ensure the first
admin (used by the CLI and at start). A new password and deactivation end the account's sessions at once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.console import sessions
from channels.console.security import (
    MIN_PASSWORD_LENGTH,
    generate_api_token,
    generate_password,
    hash_password,
    token_hash,
)
from core.db import utcnow
from handoff import service
from handoff.models import ROLES, Adviser


class AccountError(Exception):
    """The message is German and meant for the person at the command line."""


@dataclass(frozen=True)
class Created:
    adviser: Adviser
    password: str | None  # the generated password (print it once), None if it was given
    created: bool = True


def find(session: Session, username: str) -> Adviser | None:
    return session.scalar(select(Adviser).where(Adviser.username == username.strip()))


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Das Passwort muss mindestens {MIN_PASSWORD_LENGTH} Zeichen lang sein.")


def create_adviser(
    session: Session, username: str, role: str = "adviser", display_name: str | None = None,
    password: str | None = None,
) -> Created:
    username = username.strip()
    if not username or len(username) > 80 or any(c.isspace() for c in username):
        raise AccountError("Der Benutzername muss 1–80 Zeichen lang sein und darf keine Leerzeichen enthalten.")
    if role not in ROLES:
        raise AccountError(f"Unbekannte Rolle {role!r}; erlaubt: {', '.join(ROLES)}.")
    if find(session, username) is not None:
        raise AccountError(f"Das Konto {username!r} gibt es schon.")
    generated = None
    if password is None:
        password = generated = generate_password()
    check_password(password)
    adviser = Adviser(
        username=username,
        display_name=(display_name or username).strip()[:120],
        password_hash=hash_password(password),
        role=role,
        active=True,
        created_at=utcnow(),
    )
    session.add(adviser)
    session.flush()
    return Created(adviser, generated)


def _existing(session: Session, username: str) -> Adviser:
    adviser = find(session, username)
    if adviser is None:
        raise AccountError(f"Das Konto {username!r} gibt es nicht.")
    return adviser


def set_password(session: Session, username: str, password: str | None = None) -> str | None:
    """Set (or generate and return) a new password; existing sessions of the account end."""
    adviser = _existing(session, username)
    generated = None
    if password is None:
        password = generated = generate_password()
    check_password(password)
    adviser.password_hash = hash_password(password)
    sessions.revoke_all(session, adviser.id)
    return generated


def issue_token(session: Session, username: str) -> str:
    """A new API token for the account (replaces the old one); only its hash is stored."""
    adviser = _existing(session, username)
    token = generate_api_token()
    adviser.api_token_hash = token_hash(token)
    return token


def revoke_token(session: Session, username: str) -> None:
    """The account's API token stops working (the browser login stays)."""
    adviser = _existing(session, username)
    adviser.api_token_hash = None
    service.audit(session, adviser, "token_revoked", detail="über die Kommandozeile")


def deactivate(session: Session, username: str) -> int:
    """Lock the account: its sessions end now, login and API token are refused until ``activate``. The API token
    is kept (refused while inactive); ``revoke_token`` removes it. Returns the number of sessions ended."""
    adviser = _existing(session, username)
    adviser.active = False
    ended = sessions.revoke_all(session, adviser.id)
    service.audit(session, adviser, "account_deactivated", detail=f"über die Kommandozeile; {ended} Sitzung(en) beendet")
    return ended


def activate(session: Session, username: str) -> None:
    adviser = _existing(session, username)
    adviser.active = True
    service.audit(session, adviser, "account_activated", detail="über die Kommandozeile")


def ensure_admin(session: Session, username: str | None = None, password: str | None = None) -> Created:
    """The first admin: ``username`` (CONSOLE_ADMIN_USER) if it does not exist yet; without a username, "admin"
    if there is no admin at all. Idempotent: an existing account is left as it is (``created=False``)."""
    if username:
        existing = find(session, username)
        if existing is not None:
            return Created(existing, None, created=False)
        return create_adviser(session, username, "admin", password=password)
    existing = session.scalar(select(Adviser).where(Adviser.role == "admin").order_by(Adviser.id))
    if existing is not None:
        return Created(existing, None, created=False)
    return create_adviser(session, "admin", "admin", display_name="Administration", password=password)
