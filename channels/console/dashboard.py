"""The dashboard (``/dashboard``, charts as inline SVG with data tables) and its JSON (``/api/v1/stats``), and the
small inbox summary that open console tabs poll for notifications (``/api/v1/inbox/summary``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from channels.console.apiauth import ReaderAdviser
from channels.console.deps import DB, CurrentAdviser, get_settings, render
from channels.console.svg import hbars, stacked_bars
from channels.console.templating import REASON
from handoff import office_hours, service, stats, targets
from handoff.models import Adviser

pages = APIRouter()
api = APIRouter(prefix="/api/v1", tags=["Statistik und Benachrichtigungen"])

DEFAULT_DAYS = 7
WEEKDAYS = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")
PRESETS = ((7, "Letzte 7 Tage"), (30, "Letzte 30 Tage"), (90, "Letzte 90 Tage"))


def _parse_day(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        return None


def _period(start: str, end: str) -> tuple[stats.Period, str | None]:
    """The chosen period, or the last 7 days with a German error message."""
    tz = office_hours.configured().tz
    today = dt.datetime.now(tz).date()
    default = stats.Period.last_days(DEFAULT_DAYS, today, tz)
    first, last = _parse_day(start), _parse_day(end)
    if (start.strip() and first is None) or (end.strip() and last is None):
        return default, "Bitte Datumsangaben im Format JJJJ-MM-TT wählen; es werden die letzten 7 Tage gezeigt."
    if first is None and last is None:
        return default, None
    last = last or today
    first = first or last - dt.timedelta(days=DEFAULT_DAYS - 1)
    try:
        return stats.Period(first, last, tz), None
    except ValueError as exc:
        return default, f"{exc} Es werden die letzten 7 Tage gezeigt."


def _compute(request: Request, db: DB, adviser: Adviser, period: stats.Period) -> stats.DashboardStats:
    target = get_settings(request).first_reply_target_minutes
    return stats.compute(db, period, office_hours.configured(), target, viewer=adviser)


def _day_label(day: dt.date) -> str:
    return f"{WEEKDAYS[day.weekday()]} {day.day}.{day.month}."


def charts(result: stats.DashboardStats) -> dict[str, Any]:
    days = result.period.days()
    labels = [_day_label(d) for d in days]
    w = result.waits
    return {
        "labels": labels,
        "days": days,
        "by_channel": stacked_bars(
            "Übergaben pro Tag nach Kanal",
            f"{result.total} Übergaben vom {days[0]:%d.%m.%Y} bis {days[-1]:%d.%m.%Y}, gestapelt nach Kanal",
            labels, [(c, [result.by_channel[d][c] for d in days]) for c in result.channels]),
        "by_reason": stacked_bars(
            "Übergaben pro Tag nach Grund",
            "Übergaben pro Tag, gestapelt nach dem Grund der Übergabe",
            labels, [(REASON.get(r, r), [result.by_reason[d][r] for d in days]) for r in result.reasons]),
        "waits": hbars(
            "Wartezeit bis zur ersten Antwort",
            f"Median und 90. Perzentil in Minuten innerhalb der Sprechzeiten; Ziel {w.target_minutes} Minuten",
            [("Median", w.median), ("90. Perzentil", w.p90)], target=w.target_minutes),
    }


@pages.get("/dashboard", name="dashboard")
def dashboard(request: Request, adviser: CurrentAdviser, db: DB,
              start: str = Query("", alias="from", max_length=10),
              end: str = Query("", alias="to", max_length=10)) -> Response:
    period, error = _period(start, end)
    result = _compute(request, db, adviser, period)
    today = dt.datetime.now(period.tz).date()
    presets = [(label, stats.Period.last_days(n, today, period.tz)) for n, label in PRESETS]
    return render(request, "dashboard.html", {
        "nav": "dashboard", "s": result, "error": error, "charts": charts(result), "presets": presets,
        "hours": office_hours.configured().describe(), "min_topic_count": stats.MIN_TOPIC_COUNT,
    })


@api.get("/stats", response_model=dict[str, Any],
         summary="Kennzahlen eines Zeitraums (Tage in HANDOFF_TIMEZONE, beide eingeschlossen)")
def stats_json(request: Request, adviser: ReaderAdviser, db: DB,
               start: str = Query("", alias="from", max_length=10, description="JJJJ-MM-TT, ohne: vor 6 Tagen"),
               end: str = Query("", alias="to", max_length=10, description="JJJJ-MM-TT, ohne: heute")) -> Any:
    period, error = _period(start, end)
    if error:
        raise HTTPException(422, error.split(";")[0].split(" Es werden")[0])
    return _compute(request, db, adviser, period).as_json()


class InboxSummary(BaseModel):
    open: int = Field(description="offene Übergaben, die das Konto sehen darf")
    waiting: int = Field(description="davon wartend (niemandem zugewiesen)")
    mine: int = Field(description="mir zugewiesen und offen")
    overdue: int = Field(description="offen, ohne erste Antwort, über dem Zeitziel")
    newest_waiting_id: int | None = Field(description="Nummer der neuesten wartenden Übergabe")


@api.get("/inbox/summary", response_model=InboxSummary,
         summary="Zähler für Benachrichtigungen (keine Inhalte); verlängert die Anmeldung nicht")
def inbox_summary(request: Request, adviser: ReaderAdviser, db: DB) -> InboxSummary:
    handoffs = service.list_handoffs(db, service.InboxFilter(), viewer=adviser)
    rated = targets.by_urgency(db, handoffs, dt.datetime.now(dt.UTC), office_hours.configured(),
                               get_settings(request).first_reply_target_minutes)
    waiting = [h.id for h in handoffs if h.status == "waiting"]
    return InboxSummary(
        open=len(handoffs),
        waiting=len(waiting),
        mine=sum(1 for h in handoffs if h.assigned_to == adviser.id),
        overdue=sum(1 for _, u in rated if u.level == "overdue"),
        newest_waiting_id=max(waiting, default=None),
    )
