"""E-mails about new hand-offs: a background task of the console process (only with ``CONSOLE_SMTP_HOST``).

Every ``CONSOLE_NOTIFY_INTERVAL`` seconds it looks for waiting hand-offs of the last 24 hours that nobody was
told about yet (``handoff.notifications``), and sends one e-mail per hand-off to the responsible team's address
(``team.email``, when the hand-off was routed to a team with an address) or else to ``CONSOLE_NOTIFY_EMAIL``.
The e-mail holds no conversation content: only the hand-off number and a link into the console
(``CONSOLE_PUBLIC_URL``). Sending runs in a worker thread and never blocks a request; a failed send is logged
(hand-off number and error type only) and tried again later with growing pauses.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import smtplib
import ssl
from email.message import EmailMessage

from sqlalchemy.orm import Session, sessionmaker

from core.db import utcnow
from core.settings import ConsoleSettings
from handoff import notifications
from handoff.models import Handoff

log = logging.getLogger(__name__)
SMTP_TIMEOUT = 15


def recipients_for(handoff: Handoff, settings: ConsoleSettings) -> list[str]:
    """The address of the team the hand-off was routed to if it has one, else the fallback recipients."""
    team = handoff.team
    addresses = [a.strip() for a in (team.email or "").split(",") if a.strip()] if team is not None else []
    return addresses or settings.notify_recipients


def message_for(handoff_id: int, recipients: list[str], settings: ConsoleSettings) -> EmailMessage:
    link = f"{settings.link_base}/handoffs/{handoff_id}"
    msg = EmailMessage()
    msg["Subject"] = f"Neue Übergabe #{handoff_id} in der Beratungskonsole"
    msg["From"] = settings.smtp_from
    msg["To"] = ", ".join(recipients)
    msg.set_content(
        f"Guten Tag,\n\neine neue Übergabe wartet auf eine Antwort der Beratung:\n\n{link}\n\n"
        "Aus Datenschutzgründen enthält diese E-Mail keine Inhalte des Gesprächs. "
        "Bitte melden Sie sich in der Beratungskonsole an.\n\n"
        "-- \nBerufsorientierungs-Assistent Hessen, Beratungskonsole\n"
    )
    return msg


def send(settings: ConsoleSettings, msg: EmailMessage) -> None:
    assert settings.smtp_host
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(msg)


def send_due(settings: ConsoleSettings, factory: sessionmaker[Session], now: dt.datetime | None = None) -> int:
    """One round: e-mail every hand-off that is due; returns how many e-mails went out."""
    now = now or utcnow()
    sent = 0
    with factory() as db:
        for handoff_id in notifications.due(db, now):
            handoff = db.get(Handoff, handoff_id)
            if handoff is None:
                continue
            recipients = recipients_for(handoff, settings)
            if not recipients:
                log.warning("hand-off #%s: no e-mail recipient (team address or CONSOLE_NOTIFY_EMAIL)", handoff_id)
                continue
            if not notifications.claim(db, handoff_id, now):
                continue
            try:
                send(settings, message_for(handoff_id, recipients, settings))
            except (smtplib.SMTPException, OSError) as exc:
                state = notifications.state(db, handoff_id)
                log.warning("e-mail about hand-off #%s failed (%s), attempt %s; tried again later",
                            handoff_id, type(exc).__name__, state.attempts if state else "?")
                continue
            notifications.mark_sent(db, handoff_id, utcnow())
            sent += 1
    return sent


async def run(settings: ConsoleSettings, factory: sessionmaker[Session]) -> None:
    """The background loop (started by the console's lifespan when ``CONSOLE_SMTP_HOST`` is set)."""
    log.info("e-mails about new hand-offs: on (every %s s)", settings.notify_interval)
    while True:
        try:
            await asyncio.to_thread(send_due, settings, factory)
        except Exception:  # a database hiccup must not end the loop
            log.exception("e-mail notification round failed")
        await asyncio.sleep(settings.notify_interval)
