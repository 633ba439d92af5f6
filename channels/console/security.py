"""Passwords (argon2), API tokens (sha256), signed session cookies with a CSRF token, and the login rate limit."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
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


def password_fingerprint(password_hash: str) -> str:
    """Bound into the session cookie: a new password ends all sessions of the account."""
    return hashlib.sha256(password_hash.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class SessionData:
    """The signed content of the session cookie; ``uid`` is None before login (the login form needs CSRF too)."""

    csrf: str
    uid: int | None = None
    pw: str | None = None

    @classmethod
    def anonymous(cls) -> SessionData:
        return cls(csrf=secrets.token_urlsafe(32))

    @classmethod
    def for_adviser(cls, uid: int, password_hash: str) -> SessionData:
        return cls(csrf=secrets.token_urlsafe(32), uid=uid, pw=password_fingerprint(password_hash))


class SessionSigner:
    """Signs the session cookie; a cookie older than ``max_age`` seconds is no longer accepted."""

    def __init__(self, secret_key: str, max_age: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="console-session")
        self.max_age = max_age

    def dumps(self, data: SessionData) -> str:
        return self._serializer.dumps({"c": data.csrf, "u": data.uid, "p": data.pw})

    def loads(self, value: str | None) -> SessionData | None:
        if not value:
            return None
        try:
            raw = self._serializer.loads(value, max_age=self.max_age)
        except BadSignature:  # includes SignatureExpired
            return None
        if not isinstance(raw, dict) or not isinstance(raw.get("c"), str):
            return None
        uid = raw.get("u")
        return SessionData(csrf=raw["c"], uid=uid if isinstance(uid, int) else None, pw=raw.get("p"))


class LoginLimiter:
    """Failed logins per key within a sliding window (in memory, per process)."""

    def __init__(self, max_failures: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.window = window
        self.clock = clock
        self._failures: dict[tuple[str, ...], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, ...], now: float) -> deque[float]:
        stamps = self._failures.get(key, deque())
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        return stamps

    def blocked(self, key: tuple[str, ...], limit: int | None = None) -> bool:
        with self._lock:
            return len(self._recent(key, self.clock())) >= (limit or self.max_failures)

    def fail(self, *keys: tuple[str, ...]) -> None:
        with self._lock:
            now = self.clock()
            if len(self._failures) > 10_000:  # forget stale keys
                for key in [k for k, v in self._failures.items() if not v or v[-1] <= now - self.window]:
                    del self._failures[key]
            for key in keys:
                stamps = self._recent(key, now)
                stamps.append(now)
                self._failures[key] = stamps

    def reset(self, key: tuple[str, ...]) -> None:
        with self._lock:
            self._failures.pop(key, None)
