"""Import pages of the Bundesagentur für Arbeit Ausbildungssuche API (``GET /pc/v1/ausbildungsangebot``).

A page is the API's HAL+JSON answer: ``{"_embedded": {"termine": [...]}, "_links": ..., "page": ...}``. Each
*Termin* is one offer at one place and start date; its ``id`` is the source id (source ``ba``). Fields used
(names as in the API; see docs/offer-import.md):

* ``angebot.titel`` → title; ``angebot.abschlussbezeichnung``, ``angebot.systematiken[].kurzbezeichnung`` help to
  find the occupation (AliasIndex, only sure matches)
* ``angebot.bildungsart``, ``angebot.schulart`` and keywords of the title → offer type (``ba_offer_type``)
* ``angebot.bildungsanbieter`` (id, name, adresse, telefon…, email, homepage) → provider
* ``adresse`` (strasse, ortStrasse.plz/name, koordinaten or ortStrasse.koordinaten / breitengrad+laengengrad)
  → place; without usable coordinates the postcode's from the gazetteer
* ``beginn``, ``anmeldeschluss`` (milliseconds since 1970 or a date string) → start date, application deadline
* ``unterrichtszeit`` / ``unterrichtsform`` containing "Teilzeit" or "berufsbegleitend" → part-time possible
* ``aktualisierungsdatum`` (milliseconds since 1970) → last update at the source
* ``link`` of the Termin or of the angebot → url
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session

from knowledge_base.importers.common import (
    ImportReport,
    Location,
    Lookups,
    OfferData,
    OfferImportError,
    ProviderData,
    RowError,
    clean_text,
    clean_url,
    parse_date,
    parse_datetime,
    parse_postcode,
    slug,
    upsert_offers,
    valid_coordinates,
)
from knowledge_base.text import normalize

SOURCE = "ba"

# angebot.bildungsart.id (query parameter ``bart`` of the API)
BILDUNGSART_SCHOOL_OR_COMPANY = {102, 106, 109}  # Berufsausbildung, Rehabilitation, Umschulung
BILDUNGSART_PREPARATION = {100, 101, 105}  # Allgemeinbildung, Teilqualifizierung, Abschluss nachholen
BILDUNGSART_STUDY = {107108}  # Studienangebot – grundständig (in the Ausbildungssuche: dual study)
BILDUNGSART_FURTHER = {103, 104}  # Fortbildung: not a first training, rejected
# Keywords of the title (normalized) that decide the type before the Bildungsart; first match wins.
TITLE_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("eq", ("einstiegsqualifizierung", "eq")),
    ("ausbildungsbegleitend", ("assistierte ausbildung", "asa", "asa flex", "ausbildungsbegleitende hilfen", "abh")),
    ("berufsvorbereitung", ("berufsvorbereitende", "berufsvorbereitung", "bvb", "bvj", "ausbildungsvorbereitung",
                            "einstiegsjahr", "berufsorientierung")),
    ("dual_studium", ("duales studium", "dualer studiengang", "ausbildungsbegleitender studiengang",
                      "ausbildungsintegrierender studiengang", "ausbildungsintegriertes studium")),
    ("praktikum", ("schuelerpraktikum", "betriebspraktikum", "orientierungspraktikum", "praktikumsplatz")),
)
_UNION_TAGS = {"int", "str", "float", "bool"}  # pydantic names the tried union member in an error's location
PARTTIME_WORDS = ("teilzeit", "berufsbegleitend")
CHAMBER_WORDS = ("kammer", "ihk", "hwk")


# ---------------------------------------------------------------------------------------------- page shape


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class PageInfo(_Lenient):
    size: int | None = None
    totalElements: int | None = None
    totalPages: int | None = None
    number: int | None = None


class Embedded(_Lenient):
    termine: list[dict[str, Any]]


class Page(_Lenient):
    """The checked shape of a file: what must hold for the file to be imported at all."""

    embedded: Embedded | None = Field(default=None, alias="_embedded")
    page: PageInfo | None = None


class Named(_Lenient):
    id: int | None = None
    bezeichnung: str | None = None


class Coordinates(_Lenient):
    lat: float | None = None
    lon: float | None = None


class Ort(_Lenient):
    plz: int | str | None = None
    name: str | None = None
    breitengrad: float | None = None
    laengengrad: float | None = None
    koordinaten: Coordinates | None = None


class Adresse(_Lenient):
    strasse: str | None = None
    ortStrasse: Ort | None = None
    koordinaten: Coordinates | None = None


class Anbieter(_Lenient):
    id: int | str | None = None
    name: str | None = None
    telefonVorwahl: str | int | None = None
    telefonDurchwahl: str | int | None = None
    email: str | None = None
    homepage: str | None = None
    adresse: Adresse | None = None


class Systematik(_Lenient):
    kurzbezeichnung: str | None = None


class Angebot(_Lenient):
    id: int | str | None = None
    titel: str | None = None
    abschlussbezeichnung: str | None = None
    link: str | None = None
    bildungsanbieter: Anbieter | None = None
    bildungsart: Named | None = None
    schulart: Named | None = None
    systematiken: list[Systematik] = []


class Termin(_Lenient):
    id: int | str | None = None
    angebot: Angebot | None = None
    adresse: Adresse | None = None
    unterrichtsform: Named | None = None
    unterrichtszeit: Named | None = None
    beginn: int | float | str | None = None
    anmeldeschluss: int | float | str | None = None
    aktualisierungsdatum: int | float | str | None = None
    link: str | None = None


@dataclass(frozen=True)
class BaPage:
    file: str
    termine: list[dict[str, Any]]


# ---------------------------------------------------------------------------------------------- reading


def read_ba_pages(paths: Sequence[Path]) -> list[BaPage]:
    """Read and check every file; the first malformed one raises ``OfferImportError`` (nothing is written)."""
    if not paths:
        raise OfferImportError("(keine Datei)", "keine Datei angegeben")
    return [read_ba_page(Path(p)) for p in paths]


def read_ba_page(path: Path) -> BaPage:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise OfferImportError(path.name, "Datei fehlt") from None
    except UnicodeDecodeError as exc:
        raise OfferImportError(path.name, f"keine UTF-8-Datei ({exc.reason} bei Byte {exc.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OfferImportError(path.name, f"kein gültiges JSON (Zeile {exc.lineno}, Spalte {exc.colno}: "
                                          f"{exc.msg})") from None
    if not isinstance(data, dict):
        raise OfferImportError(path.name, f"erwartet ein JSON-Objekt mit '_embedded.termine', gefunden: "
                                          f"{_json_type(data)}")
    try:
        page = Page.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise OfferImportError(path.name, f"falsche Struktur bei '{where}': erwartet "
                                          f"{_expected(err['type'])}") from None
    if page.embedded is None:
        if page.page is not None and page.page.totalElements == 0:
            return BaPage(path.name, [])  # the API leaves out '_embedded' when nothing was found
        raise OfferImportError(path.name, "'_embedded.termine' fehlt: keine Seite der Ausbildungssuche")
    return BaPage(path.name, page.embedded.termine)


def _json_type(value: object) -> str:
    return {list: "eine Liste", str: "ein Text", int: "eine Zahl", float: "eine Zahl", bool: "ein Wahrheitswert"}.get(
        type(value), "null"
    )


def _expected(error_type: str) -> str:
    return {
        "list_type": "eine Liste",
        "dict_type": "ein Objekt",
        "model_type": "ein Objekt",
        "missing": "ein Feld, das fehlt",
    }.get(error_type, error_type)


# ---------------------------------------------------------------------------------------------- rows


def import_ba_files(
    session: Session, paths: Sequence[Path], quiet: bool = True
) -> ImportReport:
    """Check all files, then import all rows in the caller's transaction."""
    return import_ba_pages(session, read_ba_pages(paths), quiet=quiet)


def import_ba_pages(session: Session, pages: Sequence[BaPage], quiet: bool = True) -> ImportReport:
    report = ImportReport(SOURCE)
    lookups = Lookups(session)
    rows: list[OfferData] = []
    for page in pages:
        for index, raw in enumerate(page.termine):
            row_label = f"termine[{index}]"
            source_id = _source_id(raw.get("id"))
            try:
                rows.append(ba_offer(raw, lookups))
            except RowError as exc:
                report.reject(page.file, row_label, source_id, str(exc))
    upsert_offers(session, SOURCE, rows, report, quiet=quiet)
    return report


def _source_id(value: object) -> str | None:
    if value is None or isinstance(value, bool | dict | list):
        return None
    text = str(value).strip()
    return text or None


def ba_offer(raw: dict[str, Any], lookups: Lookups) -> OfferData:
    """One Termin as an offer; ``RowError`` names what is missing or wrong."""
    termin = _validate_termin(raw)
    source_id = _source_id(termin.id)
    if source_id is None:
        raise RowError("Termin-ID fehlt ('id')")
    angebot = termin.angebot or Angebot()
    title = clean_text(angebot.titel)
    if title is None:
        raise RowError("Titel fehlt ('angebot.titel')")
    updated_at = parse_datetime(termin.aktualisierungsdatum, "Aktualisierungsdatum")
    if updated_at is None:
        raise RowError("Aktualisierungsdatum fehlt ('aktualisierungsdatum')")
    offer_type = ba_offer_type(angebot)
    location = _location(termin.adresse, lookups)
    provider = _provider(angebot, offer_type)
    return OfferData(
        source_id=source_id,
        title=title,
        offer_type=offer_type,
        provider=provider,
        postcode=location.postcode,
        lat=location.lat,
        lon=location.lon,
        updated_at=updated_at,
        occupation_id=lookups.occupation_id(
            title, clean_text(angebot.abschlussbezeichnung), *(clean_text(s.kurzbezeichnung) for s in angebot.systematiken)
        ),
        parttime_possible=_parttime(termin),
        start_date=parse_date(termin.beginn, "Beginn"),
        application_deadline=parse_date(termin.anmeldeschluss, "Anmeldeschluss"),
        street=clean_text(termin.adresse.strasse) if termin.adresse else None,
        place_name=location.place_name,
        url=clean_url(termin.link) or clean_url(angebot.link),
    )


def _validate_termin(raw: dict[str, Any]) -> Termin:
    try:
        return Termin.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"] if p not in _UNION_TAGS)
        raise RowError(f"Feld '{where}' hat einen falschen Typ ({err['msg']})") from None


def ba_offer_type(angebot: Angebot) -> str:
    """The offer type from title keywords, else from the Bildungsart (and Schulart); ``RowError`` if unknown."""
    words = f" {normalize(angebot.titel or '')} "
    for offer_type, keywords in TITLE_KEYWORDS:
        if any(f" {k} " in words for k in keywords):
            return offer_type
    art = angebot.bildungsart.id if angebot.bildungsart else None
    label = angebot.bildungsart.bezeichnung if angebot.bildungsart else None
    if art in BILDUNGSART_SCHOOL_OR_COMPANY:
        return "schulisch" if _is_school(angebot) else "betrieblich"
    if art in BILDUNGSART_PREPARATION:
        return "berufsvorbereitung"
    if art in BILDUNGSART_STUDY:
        return "dual_studium"
    if art in BILDUNGSART_FURTHER:
        raise RowError(f"Bildungsart '{label or art}' ist eine Fortbildung, kein Ausbildungsangebot")
    raise RowError(f"Angebotsart nicht bestimmbar (Bildungsart {art if art is not None else 'fehlt'})")


def _is_school(angebot: Angebot) -> bool:
    schulart = normalize(angebot.schulart.bezeichnung or "") if angebot.schulart else ""
    return "schul" in schulart


def _provider(angebot: Angebot, offer_type: str) -> ProviderData:
    anbieter = angebot.bildungsanbieter or Anbieter()
    name = clean_text(anbieter.name)
    if name is None:
        raise RowError("Anbieter fehlt ('angebot.bildungsanbieter.name')")
    address = anbieter.adresse or Adresse()
    ort = address.ortStrasse or Ort()
    try:
        postcode: str | None = parse_postcode(ort.plz)
    except RowError:
        postcode = None
    provider_id = _source_id(anbieter.id) or f"{slug(name)}-{postcode or 'ohne-plz'}"
    phone = " ".join(str(p).strip() for p in (anbieter.telefonVorwahl, anbieter.telefonDurchwahl) if p) or None
    return ProviderData(
        source_id=provider_id,
        kind=_provider_kind(name, angebot, offer_type),
        name=name,
        street=clean_text(address.strasse),
        postcode=postcode,
        place_name=clean_text(ort.name),
        phone=phone,
        email=clean_text(anbieter.email),
        website=clean_url(anbieter.homepage),
    )


def _provider_kind(name: str, angebot: Angebot, offer_type: str) -> str:
    words = normalize(name).split()
    if any(w in CHAMBER_WORDS or w.endswith("kammer") for w in words):
        return "kammer"
    if _is_school(angebot) or offer_type in ("schulisch", "dual_studium"):
        return "schule"
    return "traeger"


def _location(address: Adresse | None, lookups: Lookups) -> Location:
    if address is None or address.ortStrasse is None:
        raise RowError("Ort fehlt ('adresse.ortStrasse')")
    ort = address.ortStrasse
    postcode = parse_postcode(ort.plz)
    coords = _coordinates(address)
    return lookups.location(postcode, clean_text(ort.name), coords)


def _coordinates(address: Adresse) -> tuple[float, float] | None:
    """``adresse.koordinaten`` (live API), ``ortStrasse.koordinaten`` or ``breitengrad``/``laengengrad`` (spec)."""
    ort = address.ortStrasse or Ort()
    for c in (address.koordinaten, ort.koordinaten):
        if c is not None and (found := valid_coordinates(c.lat, c.lon)):
            return found
    return valid_coordinates(ort.breitengrad, ort.laengengrad)


def _parttime(termin: Termin) -> bool:
    labels = " ".join(normalize(n.bezeichnung or "") for n in (termin.unterrichtszeit, termin.unterrichtsform) if n)
    return any(w in labels for w in PARTTIME_WORDS)
