"""Shared parts of the offer importers: report, errors, parsing helpers and the upsert by (source, source id).

An import has two phases. First every file is read and checked; a malformed file raises ``OfferImportError``
before anything is written. Then the rows are turned into ``OfferData`` (rows missing essentials are rejected
with a reason) and written with ``upsert_offers`` in the caller's transaction. Rows are matched by
(source, source id); the last update at the source (``updated_at``) decides:

* not stored yet → new
* newer than stored → updated (all fields, and the provider's)
* same as stored → unchanged
* older than stored → skipped (reported separately: an old export must not overwrite newer data)
* no date from the source (CSV without ``aktualisiert``) → compared field by field: changed → updated with the
  import time, else unchanged

Imported rows are never demo rows (``is_demo`` False) and demo rows (source ``demo``) are never touched.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session
from tqdm import tqdm

from knowledge_base.models import Offer, Provider
from knowledge_base.places import PlaceIndex, place_index
from knowledge_base.resolve import AliasIndex
from knowledge_base.text import normalize

BERLIN = ZoneInfo("Europe/Berlin")
OFFER_TYPES = (
    "betrieblich", "dual_studium", "schulisch", "praktikum", "eq", "berufsvorbereitung", "ausbildungsbegleitend",
    "beratung",
)
PROVIDER_KINDS = ("betrieb", "schule", "kammer", "traeger", "beratung")
# Germany's bounding box: coordinates outside it (or 0/0 placeholders) are not used
LAT_RANGE = (47.0, 55.2)
LON_RANGE = (5.5, 15.5)
MAX_LISTED_REJECTIONS = 50
_POSTCODE = re.compile(r"^\d{5}$")
_GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:,?\s+(\d{1,2}):(\d{2}))?$")
_TAGS = re.compile(r"<[^<>]+>")  # "[^<>]": linear on "<<<<…" (a tag never contains "<")
_SLUG = re.compile(r"[^a-z0-9]+")
_CHUNK = 500


class OfferImportError(Exception):
    """A file cannot be imported at all (not readable, not JSON/CSV, wrong structure); nothing was written."""

    def __init__(self, file: str, message: str):
        self.file = file
        super().__init__(f"{file}: {message}")


class RowError(ValueError):
    """One row cannot be imported; the message (German) becomes the rejection reason."""


@dataclass(frozen=True)
class Rejection:
    file: str
    row: str  # "termine[3]" or "Zeile 7"
    source_id: str | None
    reason: str

    def line(self) -> str:
        ident = f" (ID {self.source_id})" if self.source_id else ""
        return f"{self.file}, {self.row}{ident}: {self.reason}"


@dataclass
class ImportReport:
    source: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_older: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    warnings: list[Rejection] = field(default_factory=list)

    @property
    def read(self) -> int:
        return self.new + self.updated + self.unchanged + self.skipped_older + len(self.rejected)

    @property
    def changed(self) -> int:
        return self.new + self.updated

    def reject(self, file: str, row: str, source_id: str | None, reason: str) -> None:
        self.rejected.append(Rejection(file, row, source_id, reason))

    def lines(self, max_listed: int = MAX_LISTED_REJECTIONS) -> list[str]:
        out = [
            f"Import aus Quelle '{self.source}': {self.read} Datensätze gelesen",
            f"  neu                          {self.new}",
            f"  aktualisiert                 {self.updated}",
            f"  unverändert                  {self.unchanged}",
            f"  übersprungen (älter als DB)  {self.skipped_older}",
            f"  abgelehnt                    {len(self.rejected)}",
        ]
        for title, entries in (("Abgelehnt:", self.rejected), ("Hinweise:", self.warnings)):
            if entries:
                out.append(title)
                out.extend(f"  {r.line()}" for r in entries[:max_listed])
                if len(entries) > max_listed:
                    out.append(f"  … und {len(entries) - max_listed} weitere")
        return out


@dataclass(frozen=True)
class ProviderData:
    source_id: str
    kind: str
    name: str
    street: str | None = None
    postcode: str | None = None
    place_name: str | None = None
    phone: str | None = None
    email: str | None = None
    website: str | None = None


@dataclass(frozen=True)
class OfferData:
    """One offer ready to be written; ``updated_at`` is the last update at the source (None: unknown)."""

    source_id: str
    title: str
    offer_type: str
    provider: ProviderData
    postcode: str
    lat: float
    lon: float
    updated_at: dt.datetime | None
    occupation_id: int | None = None
    parttime_possible: bool = False
    start_date: dt.date | None = None
    application_deadline: dt.date | None = None
    street: str | None = None
    place_name: str | None = None
    url: str | None = None

    def offer_values(self) -> dict[str, Any]:
        """The columns of ``Offer`` that come from the source (without provider and update time)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("provider", "updated_at",
                                                                                       "source_id")}


PROVIDER_COLUMNS = tuple(f.name for f in fields(ProviderData) if f.name != "source_id")


# ---------------------------------------------------------------------------------------------- parsing helpers


def clean_text(value: object) -> str | None:
    """Trimmed text without HTML tags; None for empty values."""
    if value is None:
        return None
    text = _TAGS.sub(" ", str(value))
    text = " ".join(text.split())
    return text or None


def parse_postcode(value: object) -> str:
    """A German postcode; the BA API sends it as a number, so 6108 means "06108"."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RowError("Postleitzahl fehlt")
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 100_000:
        return f"{value:05d}"
    text = str(value).strip()
    if not _POSTCODE.match(text):
        raise RowError(f"Postleitzahl '{text}' ist keine fünfstellige Zahl")
    return text


def from_epoch_ms(value: int | float) -> dt.datetime:
    """BA timestamps are milliseconds since 1970 (UTC); stored as naive local time (Europe/Berlin)."""
    try:
        moment = dt.datetime.fromtimestamp(value / 1000, tz=BERLIN)
    except (OverflowError, OSError, ValueError):
        raise RowError(f"Zeitstempel {value} ungültig") from None
    return moment.replace(tzinfo=None)


def parse_datetime(value: object, what: str) -> dt.datetime | None:
    """Epoch milliseconds, ISO 8601 ("2026-10-01", "2026-10-01T08:30:00[Z]") or "TT.MM.JJJJ [HH:MM]"."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise RowError(f"{what} '{value}' ist kein Datum")
    if isinstance(value, int | float):
        return from_epoch_ms(value)
    text = str(value).strip()
    if text.isdigit() and len(text) >= 10:
        if not text.isascii() or len(text) > 15:  # "²³…" or thousands of digits: int() would fail
            raise RowError(f"{what} '{text[:40]}' ist kein gültiges Datum")
        return from_epoch_ms(int(text))
    german = _GERMAN_DATE.match(text)
    try:
        if german:
            day, month, year, hour, minute = german.groups()
            return dt.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0))
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise RowError(f"{what} '{text}' ist kein gültiges Datum (TT.MM.JJJJ oder JJJJ-MM-TT)") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(BERLIN).replace(tzinfo=None)
    return moment


def parse_date(value: object, what: str) -> dt.date | None:
    moment = parse_datetime(value, what)
    return moment.date() if moment else None


def valid_coordinates(lat: object, lon: object) -> tuple[float, float] | None:
    """Coordinates within Germany, else None (the API has 0/0 placeholders)."""
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        return None
    if LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LON_RANGE[0] <= lon <= LON_RANGE[1]:
        return round(float(lat), 6), round(float(lon), 6)
    return None


def clean_url(value: object) -> str | None:
    """"www.example.de" → "https://www.example.de"; None for empty values."""
    text = clean_text(value)
    if text is None or " " in text:
        return None
    return text if re.match(r"^https?://", text, re.I) else f"https://{text}"


def slug(text: str) -> str:
    return _SLUG.sub("-", normalize(text)).strip("-")


def now_local() -> dt.datetime:
    return dt.datetime.now(BERLIN).replace(tzinfo=None, microsecond=0)


# ---------------------------------------------------------------------------------------------- lookups


@dataclass(frozen=True)
class Location:
    postcode: str
    place_name: str | None
    lat: float
    lon: float


class Lookups:
    """Read-only helpers for row parsing: occupation names (AliasIndex) and the postcode gazetteer."""

    def __init__(self, session: Session):
        self.session = session
        self._aliases: AliasIndex | None = None
        self._places: PlaceIndex | None = None
        self._occupations: dict[str, int | None] = {}

    @property
    def places(self) -> PlaceIndex:
        if self._places is None:
            self._places = place_index(self.session)
        return self._places

    def occupation_id(self, *texts: str | None) -> int | None:
        """The occupation named by the first text that resolves surely; None if none does."""
        for text in texts:
            if text and text not in self._occupations:
                if self._aliases is None:
                    self._aliases = AliasIndex.build(self.session)
                resolution = self._aliases.resolve(text)
                best = resolution.best
                self._occupations[text] = best.occupation_id if best and resolution.is_sure else None
            if text and self._occupations[text] is not None:
                return self._occupations[text]
        return None

    def location(self, postcode: str, place_name: str | None, coords: tuple[float, float] | None) -> Location:
        """Coordinates from the source if usable, else the postcode's from the gazetteer; else ``RowError``."""
        if coords is not None:
            return Location(postcode, place_name or self._place_name(postcode), coords[0], coords[1])
        candidate = self.places.resolve(postcode).best
        if candidate is None or candidate.kind != "plz":
            raise RowError(f"Postleitzahl {postcode} ist unbekannt und der Datensatz hat keine Koordinaten")
        return Location(postcode, place_name or candidate.name.removeprefix(f"{postcode} "), candidate.lat,
                        candidate.lon)

    def _place_name(self, postcode: str) -> str | None:
        groups = self.places.by_postcode.get(postcode)
        return groups[0].name if groups else None


# ---------------------------------------------------------------------------------------------- writing


def upsert_offers(
    session: Session, source: str, rows: Sequence[OfferData], report: ImportReport, quiet: bool = True,
    now: dt.datetime | None = None,
) -> None:
    """Insert or update the offers (and their providers) of ``source``; counts go into ``report``.

    Rows are applied in order, so a later row with the same id (a newer page) updates an earlier one.
    """
    if source == "demo":
        raise ValueError("Importe dürfen die Demo-Angebote nicht verändern")
    now = now or now_local()
    offers = _existing(session, Offer, source, [r.source_id for r in rows])
    providers = _existing(session, Provider, source, [r.provider.source_id for r in rows])
    writer = _Writer(session, source, now, providers)
    for data in tqdm(rows, desc=f"Import {source}", unit=" Angebote", disable=quiet):
        offer = offers.get(data.source_id)
        if offer is None:
            offers[data.source_id] = writer.insert(data)
            report.new += 1
            continue
        outcome = writer.update(offer, data)
        if outcome == "updated":
            report.updated += 1
        elif outcome == "older":
            report.skipped_older += 1
        else:
            report.unchanged += 1
    session.flush()


def _existing(session: Session, model: type[Offer] | type[Provider], source: str,
              ids: Iterable[str]) -> dict[str, Any]:
    wanted = sorted(set(ids))
    found: dict[str, Any] = {}
    for start in range(0, len(wanted), _CHUNK):
        query = select(model).where(model.source == source, model.source_id.in_(wanted[start : start + _CHUNK]))
        rows: Iterable[Offer | Provider] = session.scalars(query)
        found.update({obj.source_id: obj for obj in rows})
    return found


class _Writer:
    def __init__(self, session: Session, source: str, now: dt.datetime, providers: dict[str, Provider]):
        self.session, self.source, self.now, self.providers = session, source, now, providers

    def insert(self, data: OfferData) -> Offer:
        offer = Offer(source=self.source, source_id=data.source_id, is_demo=False,
                      updated_at=data.updated_at or self.now, provider=self.provider(data),
                      **data.offer_values())
        self.session.add(offer)
        return offer

    def update(self, offer: Offer, data: OfferData) -> str:
        """"updated", "unchanged" or "older"."""
        if data.updated_at is not None:
            if data.updated_at < offer.updated_at:
                return "older"
            if data.updated_at == offer.updated_at:
                return "unchanged"
        values = data.offer_values()
        provider_changed = offer.provider.source_id != data.provider.source_id
        if data.updated_at is None and not provider_changed and not _differs(offer, values):
            return "unchanged"
        for column, value in values.items():
            setattr(offer, column, value)
        offer.provider = self.provider(data)
        offer.updated_at = data.updated_at or self.now
        return "updated"

    def provider(self, data: OfferData) -> Provider:
        """The provider row for the offer, created or brought up to date (never from older data)."""
        stamp = data.updated_at or self.now
        values = {c: getattr(data.provider, c) for c in PROVIDER_COLUMNS}
        provider = self.providers.get(data.provider.source_id)
        if provider is None:
            provider = Provider(source=self.source, source_id=data.provider.source_id, is_demo=False,
                                updated_at=stamp, **values)
            self.session.add(provider)
            self.providers[data.provider.source_id] = provider
        elif stamp >= provider.updated_at and _differs(provider, values):
            for column, value in values.items():
                setattr(provider, column, value)
            provider.updated_at = stamp
        return provider


def _differs(obj: Offer | Provider, values: dict[str, Any]) -> bool:
    return any(getattr(obj, column) != value for column, value in values.items())
