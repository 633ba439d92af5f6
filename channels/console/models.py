"""Tables the console owns: login sessions of the browser pages and recent failed logins (throttling).

Both live in the application database next to the hand-off tables (migration ``0005``), so that every worker
process of the console sees the same sessions and the same failures.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow


class ConsoleSession(Base):
    """One login of a browser. The cookie carries a random token (signed); only its sha256 is stored here, so a
    copy of the table does not log anyone in. Logout, a new password and deactivation set ``revoked_at``."""

    __tablename__ = "console_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the cookie's token
    adviser_id: Mapped[int] = mapped_column(ForeignKey("adviser.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)  # written at most once a minute
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)  # absolute end (CONSOLE_SESSION_MAX_AGE)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    address: Mapped[str | None] = mapped_column(String(64))  # client address at login
    user_agent: Mapped[str | None] = mapped_column(String(200))


class LoginFailure(Base):
    """A failed login, kept for the throttling window only (rows older than the window are deleted).

    Its own table rather than counting the audit log's ``login_failed`` entries: the audit log is kept for
    years and must not hold what was typed into the username field (often a password by mistake), but the
    limit per username needs exactly that text to compare; here it is stored as a keyed hash (HMAC with the
    console's secret key) that cannot be turned back into the text, and the rows disappear after the window.
    A successful login deletes the failures of its username."""

    __tablename__ = "login_failure"
    __table_args__ = (
        Index("ix_login_failure_username", "username_key", "at"),
        Index("ix_login_failure_address", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username_key: Mapped[str] = mapped_column(String(64))  # HMAC-SHA256 hex of the lower-cased username
    address: Mapped[str] = mapped_column(String(64))  # client address (see channels/console/proxies.py)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
