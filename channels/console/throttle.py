"""Login throttling in the database (table ``login_failure``), so every worker process counts the same failures.

Two limits within ``CONSOLE_LOGIN_WINDOW`` seconds: ``CONSOLE_LOGIN_MAX_FAILURES`` failures per username (from
any address: guessing one account's password from many addresses does not help), and four times as many per
client address (one address trying many usernames). While a limit is reached even the right password is
refused. The price of the per-username limit: someone who knows a username can block its logins for one
window; the window is short and the account itself stays untouched. Usernames are stored only as a keyed hash
(see ``LoginFailure``), and rows older than the window are deleted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from channels.console.models import LoginFailure
from core.db import utcnow

ADDRESS_LIMIT_FACTOR = 4  # one address may fail this many times the per-username limit (many usernames)


@dataclass(frozen=True)
class LoginThrottle:
    secret_key: str
    max_failures: int
    window: int  # seconds

    def username_key(self, username: str) -> str:
        key = hashlib.sha256(b"console-login-failure\0" + self.secret_key.encode("utf-8")).digest()
        return hmac.new(key, username.strip().lower().encode("utf-8"), hashlib.sha256).hexdigest()

    def _since(self) -> dt.datetime:
        return utcnow() - dt.timedelta(seconds=self.window)

    def blocked(self, db: Session, username: str, address: str) -> bool:
        since = self._since()
        per_user = db.scalar(select(func.count()).select_from(LoginFailure).where(
            LoginFailure.username_key == self.username_key(username), LoginFailure.at > since)) or 0
        if per_user >= self.max_failures:
            return True
        per_address = db.scalar(select(func.count()).select_from(LoginFailure).where(
            LoginFailure.address == address, LoginFailure.at > since)) or 0
        return per_address >= self.max_failures * ADDRESS_LIMIT_FACTOR

    def fail(self, db: Session, username: str, address: str) -> None:
        """Record a failure (the caller commits) and forget the failures that left the window."""
        db.execute(delete(LoginFailure).where(LoginFailure.at <= self._since()))
        db.add(LoginFailure(username_key=self.username_key(username), address=address, at=utcnow()))

    def succeeded(self, db: Session, username: str) -> None:
        """A successful login clears its username's failures (the address keeps its count)."""
        db.execute(delete(LoginFailure).where(LoginFailure.username_key == self.username_key(username)))
