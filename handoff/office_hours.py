"""Office hours of the advisers (configuration, not code) and their German wording.

``HANDOFF_OFFICE_HOURS``   when advisers answer, default ``Mo-Fr 09:00-17:00``. Groups are separated by ``;``,
                           each group is days (``Mo-Fr``, ``Sa``, ``Mo,Mi,Fr``) and one or more time ranges,
                           e.g. ``Mo-Do 09:00-17:00; Fr 09:00-13:00``. ``24:00`` ends a range at midnight, so
                           ``Mo-So 00:00-24:00`` is around the clock (``23:59`` would leave out a minute a day).
``HANDOFF_TIMEZONE``       default ``Europe/Berlin``.
``HANDOFF_CLOSED_DAYS``    dates without office hours (public holidays, team days), comma-separated ISO dates,
                           e.g. ``2026-12-24,2026-12-25,2026-12-26``.

A spec that cannot be read is logged as an error and the default is used instead, so that a typo in the
configuration never breaks the hand-off itself.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from core.errors import SettingsError
from core.settings import HandoffSettings

log = logging.getLogger(__name__)

DEFAULT_HOURS = HandoffSettings.model_fields["office_hours"].default
DEFAULT_TIMEZONE = HandoffSettings.model_fields["timezone"].default
DAYS = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")
DAY_NAMES = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
_RANGE = re.compile(r"^(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})$")
_LOOKAHEAD_DAYS = 60
END_OF_DAY = dt.time.max  # a range ending at 24:00


@dataclass(frozen=True)
class Window:
    weekdays: frozenset[int]  # 0 = Monday
    start: dt.time
    end: dt.time


@dataclass(frozen=True)
class OfficeHours:
    windows: tuple[Window, ...]
    tz: ZoneInfo
    closed_days: frozenset[dt.date] = frozenset()

    def local(self, now: dt.datetime) -> dt.datetime:
        """``now`` in the office's time zone (a naive datetime is taken as local office time)."""
        return now.replace(tzinfo=self.tz) if now.tzinfo is None else now.astimezone(self.tz)

    def windows_on(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        if day in self.closed_days:
            return []
        spans = [
            (dt.datetime.combine(day, w.start, self.tz), self._end(day, w.end))
            for w in self.windows
            if day.weekday() in w.weekdays
        ]
        return sorted(spans)

    def _end(self, day: dt.date, end: dt.time) -> dt.datetime:
        if end == END_OF_DAY:  # midnight after ``day``
            return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), self.tz)
        return dt.datetime.combine(day, end, self.tz)

    def current_window(self, now: dt.datetime) -> tuple[dt.datetime, dt.datetime] | None:
        local = self.local(now)
        return next(((s, e) for s, e in self.windows_on(local.date()) if s <= local < e), None)

    def is_open(self, now: dt.datetime) -> bool:
        return self.current_window(now) is not None

    def next_opening(self, now: dt.datetime) -> dt.datetime:
        """``now`` itself while the office is open, else the start of the next office-hours window."""
        local = self.local(now)
        for offset in range(_LOOKAHEAD_DAYS + 1):
            for start, end in self.windows_on(local.date() + dt.timedelta(days=offset)):
                if start <= local < end:
                    return local
                if start > local:
                    return start
        raise ValueError(f"keine Sprechzeit in den nächsten {_LOOKAHEAD_DAYS} Tagen")

    def describe(self) -> str:
        """``Mo–Fr 9–17 Uhr`` (several groups joined with commas)."""
        groups: dict[frozenset[int], list[str]] = {}
        for w in self.windows:
            groups.setdefault(w.weekdays, []).append(f"{_clock(w.start)}–{_clock(w.end)}")
        return ", ".join(f"{_days(days)} {' und '.join(ranges)} Uhr" for days, ranges in groups.items())


def parse(spec: str, tz: str = DEFAULT_TIMEZONE, closed_days: str = "") -> OfficeHours:
    """Read an office-hours spec; raises ``ValueError`` with a German message if it cannot be read."""
    windows = []
    for group in filter(None, (g.strip() for g in spec.split(";"))):
        parts = group.split()
        if len(parts) < 2:
            raise ValueError(f"Sprechzeiten „{group}“: Tage und Uhrzeit erwartet, z. B. „Mo-Fr 09:00-17:00“")
        weekdays = _parse_days(parts[0])
        for part in parts[1:]:
            match = _RANGE.match(part)
            if not match:
                raise ValueError(f"Sprechzeiten „{group}“: Uhrzeit „{part}“ nicht im Format 09:00-17:00")
            h1, m1, h2, m2 = (int(x) for x in match.groups())
            if not (h1 < 24 and m1 < 60 and m2 < 60 and (h2 < 24 or (h2, m2) == (24, 0))):
                raise ValueError(f"Sprechzeiten „{group}“: Uhrzeit „{part}“ gibt es nicht (00:00 bis 24:00)")
            start, end = dt.time(h1, m1), END_OF_DAY if h2 == 24 else dt.time(h2, m2)
            if not start < end:
                raise ValueError(f"Sprechzeiten „{group}“: Beginn muss vor dem Ende liegen")
            windows.append(Window(weekdays, start, end))
    if not windows:
        raise ValueError("Sprechzeiten leer")
    days = frozenset(dt.date.fromisoformat(d.strip()) for d in closed_days.split(",") if d.strip())
    return OfficeHours(tuple(windows), ZoneInfo(tz), days)


def _parse_days(text: str) -> frozenset[int]:
    days: set[int] = set()
    for item in text.split(","):
        first, _, last = item.partition("-")
        a, b = _day(first), _day(last or first)
        if b < a:
            raise ValueError(f"Sprechzeiten: Tage „{item}“ rückwärts")
        days.update(range(a, b + 1))
    return frozenset(days)


def _day(text: str) -> int:
    key = text.strip()[:2].capitalize()
    if key not in DAYS:
        raise ValueError(f"Sprechzeiten: unbekannter Tag „{text}“ (Mo, Di, Mi, Do, Fr, Sa, So)")
    return DAYS.index(key)


def configured() -> OfficeHours:
    """The office hours from the environment (read on every call, so a changed setting needs no code)."""
    try:
        settings = HandoffSettings.from_env()
        return parse(settings.office_hours, settings.timezone, settings.closed_days)
    except (SettingsError, ValueError, KeyError) as exc:  # ZoneInfo raises a KeyError subclass for unknown zones
        log.error("HANDOFF_OFFICE_HOURS/HANDOFF_TIMEZONE/HANDOFF_CLOSED_DAYS unreadable (%s); using %s, %s",
                  exc, DEFAULT_HOURS, DEFAULT_TIMEZONE)
        return parse(DEFAULT_HOURS, DEFAULT_TIMEZONE)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def is_open(when: dt.datetime, hours: OfficeHours | None = None) -> bool:
    return (hours or configured()).is_open(when)


def next_opening(when: dt.datetime, hours: OfficeHours | None = None) -> dt.datetime:
    return (hours or configured()).next_opening(when)


def until_wording(when: dt.datetime, hours: OfficeHours | None = None) -> str:
    """While open: ``heute bis 17 Uhr``; when closed an empty string."""
    hours = hours or configured()
    window = hours.current_window(when)
    return f"heute bis {_clock(window[1].timetz())} Uhr" if window else ""


def opening_wording(when: dt.datetime, hours: OfficeHours | None = None) -> str:
    """When advisers are next there: ``jetzt``, ``heute ab 14 Uhr``, ``morgen ab 9 Uhr``, ``am Montag ab 9 Uhr``,
    or with the date when it is more than a week away (``am Montag, 5.1., ab 9 Uhr``)."""
    hours = hours or configured()
    local = hours.local(when)
    opening = hours.next_opening(local)
    if opening == local:
        return "jetzt"
    days = (opening.date() - local.date()).days
    time = f"{_clock(opening.timetz())} Uhr"
    if days == 0:
        return f"heute ab {time}"
    if days == 1:
        return f"morgen ab {time}"
    weekday = DAY_NAMES[opening.weekday()]
    if days < 7:
        return f"am {weekday} ab {time}"
    return f"am {weekday}, {opening.day}.{opening.month}., ab {time}"


def _clock(t: dt.time) -> str:
    if t == END_OF_DAY:
        return "24"
    return f"{t.hour}" if t.minute == 0 else f"{t.hour}:{t.minute:02d}"


def _days(days: frozenset[int]) -> str:
    ordered = sorted(days)
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{DAYS[ordered[0]]}–{DAYS[ordered[-1]]}"
    return ", ".join(DAYS[d] for d in ordered)
