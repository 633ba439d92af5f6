"""Passwords (argon2), API tokens (sha256), the signed session cookie (a random token) and its CSRF token."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_COOKIE = "console_session"
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("timing-equaliser-" + secrets.token_hex(8))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if the password matches; an unknown user (``None``) costs the same time as a wrong password."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def generate_api_token() -> str:
    return "bo_" + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored for an API token (``Adviser.api_token_hash``): sha256 hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SessionData:
    """What the session cookie stands for: a random ``token`` (before and after login) and the CSRF token of the
    forms, derived from it. After login, ``session_id(token)`` names a row of ``console_session``; the cookie
    itself carries nothing about the account."""

    token: str
    csrf: str


def session_id(token: str) -> str:
    """The id a session is stored under (sha256 hex of the cookie's token)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class SessionSigner:
    """Signs the session cookie (a random token); a cookie older than ``max_age`` seconds is no longer accepted.
    The CSRF token is an HMAC of the token with the secret key, so a new token (login) means a new CSRF token."""

    def __init__(self, secret_key: str, max_age: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="console-session")
        self._csrf_key = hashlib.sha256(b"console-csrf\0" + secret_key.encode("utf-8")).digest()
        self.max_age = max_age

    def new(self) -> SessionData:
        return self._data(secrets.token_urlsafe(32))

    def _data(self, token: str) -> SessionData:
        csrf = hmac.new(self._csrf_key, token.encode("utf-8"), hashlib.sha256).hexdigest()
        return SessionData(token=token, csrf=csrf)

    def dumps(self, data: SessionData) -> str:
        return self._serializer.dumps(data.token)

    def loads(self, value: str | None) -> SessionData | None:
        if not value:
            return None
        try:
            raw = self._serializer.loads(value, max_age=self.max_age)
        except BadSignature:  # includes SignatureExpired
            return None
        if not isinstance(raw, str) or len(raw) < 32:  # also cookies of the former format (a dict)
            return None
        return self._data(raw)
