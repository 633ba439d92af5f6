"""Import offers that a counselling service maintains by hand in a spreadsheet (CSV, UTF-8, source ``csv``).

Separator ``;`` or ``,`` (or tab): taken from the header line unless given. Column names are case-insensitive;
"Straße" = "strasse", "Anbieter-Art" = "anbieter_art". Required: id, titel, anbieter, art, plz. Optional:
anbieter_id, anbieter_art, beruf, ort, strasse, teilzeit, beginn, bewerbungsschluss, telefon, email, website,
link, lat, lon, aktualisiert. Unknown columns are an error (a typo would silently lose data). See
docs/offer-import.md for the meaning of each column and an example.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from knowledge_base.importers.common import (
    OFFER_TYPES,
    PROVIDER_KINDS,
    ImportReport,
    Lookups,
    OfferData,
    OfferImportError,
    ProviderData,
    Rejection,
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

SOURCE = "csv"
REQUIRED_COLUMNS = ("id", "titel", "anbieter", "art", "plz")
OPTIONAL_COLUMNS = (
    "anbieter_id", "anbieter_art", "beruf", "ort", "strasse", "teilzeit", "beginn", "bewerbungsschluss", "telefon",
    "email", "website", "link", "lat", "lon", "aktualisiert",
)
DELIMITERS = (";", ",", "\t")
# Accepted spellings of "art" (normalized: lower case, ä → ae, punctuation → space) per offer type.
TYPE_LABELS: dict[str, tuple[str, ...]] = {
    "betrieblich": ("betrieblich", "betriebliche ausbildung", "ausbildung im betrieb", "duale ausbildung",
                    "ausbildung", "ausbildungsplatz", "lehrstelle"),
    "dual_studium": ("dual studium", "duales studium", "dualer studiengang"),
    "schulisch": ("schulisch", "schulische ausbildung"),
    "praktikum": ("praktikum", "schuelerpraktikum", "betriebspraktikum", "praktikumsplatz"),
    "eq": ("eq", "einstiegsqualifizierung", "einstiegsqualifizierung eq"),
    "berufsvorbereitung": ("berufsvorbereitung", "bvb", "berufsvorbereitende bildungsmassnahme",
                           "ausbildungsvorbereitung"),
    "ausbildungsbegleitend": ("ausbildungsbegleitend", "ausbildungsbegleitende hilfe", "ausbildungsbegleitende hilfen",
                              "asa", "asa flex", "assistierte ausbildung"),
    "beratung": ("beratung", "beratungsangebot", "berufsberatung", "beratungsstelle"),
}
KIND_LABELS: dict[str, tuple[str, ...]] = {
    "betrieb": ("betrieb", "unternehmen", "firma"),
    "schule": ("schule", "berufsschule", "berufsfachschule", "hochschule"),
    "kammer": ("kammer", "ihk", "hwk", "handwerkskammer", "industrie und handelskammer"),
    "traeger": ("traeger", "bildungstraeger"),
    "beratung": ("beratung", "beratungsstelle"),
}
DEFAULT_KIND = {"beratung": "beratung", "schulisch": "schule", "berufsvorbereitung": "traeger",
                "ausbildungsbegleitend": "traeger"}
YES = frozenset({"ja", "j", "x", "1", "true", "wahr", "yes"})
NO = frozenset({"nein", "n", "0", "false", "falsch", "no", ""})
_TYPE_BY_LABEL = {label: key for key, labels in TYPE_LABELS.items() for label in labels}
_KIND_BY_LABEL = {label: key for key, labels in KIND_LABELS.items() for label in labels}


@dataclass(frozen=True)
class CsvRow:
    line: int
    values: dict[str, str]


@dataclass(frozen=True)
class CsvFile:
    file: str
    rows: list[CsvRow]


# ---------------------------------------------------------------------------------------------- reading


def read_offers_csv(path: Path, delimiter: str | None = None) -> CsvFile:
    """Read and check the file; a missing file, bad encoding or header raises ``OfferImportError``."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise OfferImportError(path.name, "Datei fehlt") from None
    except UnicodeDecodeError as exc:
        raise OfferImportError(path.name, f"keine UTF-8-Datei (Byte {exc.start}); bitte als „CSV UTF-8“ "
                                          "speichern") from None
    header_line = text.split("\n", 1)[0]
    if not header_line.strip():
        raise OfferImportError(path.name, "Datei ist leer oder die erste Zeile (Spaltennamen) fehlt")
    delimiter = delimiter or max(DELIMITERS, key=header_line.count)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        header = [_column(c) for c in next(reader)]
        _check_header(path.name, header)
        rows = [_row(header, values, reader.line_num) for values in reader if any(v.strip() for v in values)]
    except csv.Error as exc:
        raise OfferImportError(path.name, f"keine gültige CSV-Datei: {exc}") from None
    return CsvFile(path.name, rows)


def _column(name: str) -> str:
    return normalize(name).replace(" ", "_")


def _check_header(file: str, header: list[str]) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise OfferImportError(file, f"Pflichtspalte(n) fehlen: {', '.join(missing)} (gefunden: "
                                     f"{', '.join(header)}; Trennzeichen ; oder ,)")
    unknown = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise OfferImportError(file, f"unbekannte Spalte(n): {', '.join(unknown)} (erlaubt: "
                                     f"{', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)})")
    doubled = sorted({c for c in header if header.count(c) > 1})
    if doubled:
        raise OfferImportError(file, f"Spalte(n) doppelt: {', '.join(doubled)}")


def _row(header: list[str], values: list[str], line: int) -> CsvRow:
    row = {c: v.strip() for c, v in zip(header, values, strict=False)}
    if len(values) > len(header):
        row["__extra__"] = str(len(values) - len(header))
    return CsvRow(line, row)


# ---------------------------------------------------------------------------------------------- rows


def import_offers_csv(
    session: Session, path: Path, delimiter: str | None = None, quiet: bool = True
) -> ImportReport:
    """Check the file, then import its rows in the caller's transaction."""
    return import_csv_file(session, read_offers_csv(path, delimiter), quiet=quiet)


def import_csv_file(session: Session, csv_file: CsvFile, quiet: bool = True) -> ImportReport:
    report = ImportReport(SOURCE)
    lookups = Lookups(session)
    rows: list[OfferData] = []
    first_line: dict[str, int] = {}
    for row in csv_file.rows:
        source_id = row.values.get("id") or None
        label = f"Zeile {row.line}"
        try:
            if source_id in first_line:
                raise RowError(f"ID doppelt in der Datei (schon in Zeile {first_line[source_id]})")
            offer, note = csv_offer(row.values, lookups)
        except RowError as exc:
            report.reject(csv_file.file, label, source_id, str(exc))
            continue
        first_line[offer.source_id] = row.line
        rows.append(offer)
        if note:
            report.warnings.append(Rejection(csv_file.file, label, offer.source_id, note))
    upsert_offers(session, SOURCE, rows, report, quiet=quiet)
    return report


def csv_offer(values: dict[str, str], lookups: Lookups) -> tuple[OfferData, str | None]:
    """One CSV row as an offer, with a note if the occupation was not recognised; ``RowError`` if unusable."""
    if "__extra__" in values:
        raise RowError(f"{values['__extra__']} Feld(er) mehr als Spalten (Trennzeichen im Text? Dann in "
                       "Anführungszeichen setzen)")
    source_id = _required(values, "id")
    title = _required(values, "titel")
    provider_name = _required(values, "anbieter")
    offer_type = offer_type_of(values.get("art", ""))
    postcode = parse_postcode(values.get("plz"))
    location = lookups.location(postcode, clean_text(values.get("ort")), _coordinates(values))
    occupation_id, note = _occupation(values, title, offer_type, lookups)
    provider = ProviderData(
        source_id=values.get("anbieter_id") or f"{slug(provider_name)}-{postcode}",
        kind=_kind(values.get("anbieter_art", ""), offer_type),
        name=provider_name,
        street=clean_text(values.get("strasse")),
        postcode=postcode,
        place_name=location.place_name,
        phone=clean_text(values.get("telefon")),
        email=_email(values.get("email")),
        website=clean_url(values.get("website")),
    )
    offer = OfferData(
        source_id=source_id,
        title=title,
        offer_type=offer_type,
        provider=provider,
        postcode=postcode,
        lat=location.lat,
        lon=location.lon,
        updated_at=parse_datetime(values.get("aktualisiert"), "aktualisiert"),
        occupation_id=occupation_id,
        parttime_possible=_yes_no(values.get("teilzeit", "")),
        start_date=parse_date(values.get("beginn"), "beginn"),
        application_deadline=parse_date(values.get("bewerbungsschluss"), "bewerbungsschluss"),
        street=clean_text(values.get("strasse")),
        place_name=location.place_name,
        url=clean_url(values.get("link")) or clean_url(values.get("website")),
    )
    return offer, note


def _required(values: dict[str, str], column: str) -> str:
    value = clean_text(values.get(column))
    if value is None:
        raise RowError(f"Spalte '{column}' ist leer")
    return value


def offer_type_of(label: str) -> str:
    """"Praktikum", "duales Studium", "EQ", "dual_studium" … → the type key; ``RowError`` lists allowed values."""
    key = _TYPE_BY_LABEL.get(normalize(label))
    if key is None:
        raise RowError(f"art '{label}' unbekannt; erlaubt: {', '.join(OFFER_TYPES)} (auch z. B. 'Ausbildung', "
                       "'duales Studium', 'schulische Ausbildung', 'Praktikum', 'EQ', 'BvB', 'AsA flex', 'Beratung')")
    return key


def _kind(label: str, offer_type: str) -> str:
    if not label.strip():
        return DEFAULT_KIND.get(offer_type, "betrieb")
    kind = _KIND_BY_LABEL.get(normalize(label))
    if kind is None:
        raise RowError(f"anbieter_art '{label}' unbekannt; erlaubt: {', '.join(PROVIDER_KINDS)}")
    return kind


def _occupation(values: dict[str, str], title: str, offer_type: str, lookups: Lookups) -> tuple[int | None, str | None]:
    name = clean_text(values.get("beruf"))
    if name:
        found = lookups.occupation_id(name)
        note = None if found else f"Beruf '{name}' nicht eindeutig erkannt – ohne Berufszuordnung importiert"
        return found, note
    if offer_type == "beratung":
        return None, None
    return lookups.occupation_id(title), None


def _coordinates(values: dict[str, str]) -> tuple[float, float] | None:
    lat, lon = values.get("lat", ""), values.get("lon", "")
    if not lat and not lon:
        return None
    try:
        found = valid_coordinates(float(lat.replace(",", ".")), float(lon.replace(",", ".")))
    except ValueError:
        found = None
    if found is None:
        raise RowError(f"Koordinaten '{lat}', '{lon}' ungültig (Dezimalgrad in Deutschland, z. B. 50.5841 / 8.6784)")
    return found


def _yes_no(value: str) -> bool:
    norm = normalize(value)
    if norm in YES:
        return True
    if norm in NO:
        return False
    raise RowError(f"teilzeit '{value}' muss 'ja' oder 'nein' sein")


def _email(value: str | None) -> str | None:
    text = clean_text(value)
    if text is not None and ("@" not in text or " " in text):
        raise RowError(f"email '{text}' ist keine E-Mail-Adresse")
    return text
