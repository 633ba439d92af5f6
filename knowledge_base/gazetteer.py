"""Reading the German postcode gazetteer ``content/plz_de.csv`` (GeoNames, CC BY 4.0).

The file mixes two kinds of rows. Localities ("35390, Gießen") carry a letter state code (``HE``); the postcodes
of large customers ("10875, Daimler Insurance Services GmbH") carry a numeric state code and an organisation as
"place". Only localities become places: rows with a numeric state code, an organisation marker in the name
(GmbH, AG, e.V., Sparkasse …) or no state are skipped. District names come in several spellings per district
code ("Kassel, documenta-Stadt", "Kreisfreie Stadt Kassel"); one clean name per code is chosen.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from knowledge_base.schemas import PlaceRow
from knowledge_base.text import normalize

HESSEN = "Hessen"
COLUMNS = ("zipcode", "place", "state", "state_code", "community", "community_code", "latitude", "longitude")
_LEGAL_FORM = re.compile(r"\b(?:GmbH|gGmbH|mbH|AG|KG|KGaA|OHG|GbR|eG|SE)\b|\be\.\s?[VK]\b\.?|&\s?Co\b|Aktiengesellschaft")
_ORGANISATION = re.compile(
    r"\b(?:Sparkasse|Volksbank|Raiffeisenbank|Bank|Versicherung\w*|Finanzamt|Amtsgericht|Landgericht|"
    r"Agentur für Arbeit|Deutsche Post|Deutsche Telekom|Universität|Hochschule|Klinikum|Krankenhaus|"
    r"Handwerkskammer|Handelskammer|Stadtverwaltung|Landratsamt|Magistrat|Regierungspräsidium|Ministerium|"
    r"Berufsgenossenschaft|Krankenkasse|Niederlassung|Zentrale)\b",
    re.IGNORECASE,
)
_DISTRICT_PREFIXES = ("Kreisfreie Stadt ", "Landkreis ", "Stadtkreis ", "Kreis ", "Städteregion ", "Regionalverband ",
                      "Region ")


class GazetteerError(Exception):
    """A row of the gazetteer is unusable; the message names row and column."""

    def __init__(self, message: str, row: str | None = None, field_name: str | None = None):
        self.row, self.field_name = row, field_name
        super().__init__(message)


@dataclass
class Gazetteer:
    places: list[PlaceRow]
    skipped: int  # organisations (large-customer postcodes) and rows without a German state


def is_organisation(place: str) -> bool:
    """"Daimler Insurance Services GmbH", "Sparkasse Gießen", "ADAC e.V." are not places."""
    return bool(_LEGAL_FORM.search(place) or _ORGANISATION.search(place))


def clean_district_name(variants: Counter[str]) -> str:
    """One readable name for a district from the file's spellings.

    {"Kassel, documenta-Stadt", "Kreisfreie Stadt Kassel"} → "Kreisfreie Stadt Kassel";
    {"Gießen", "Landkreis Gießen"} → "Landkreis Gießen"; {"Frankfurt am Main, Stadt"} → "Kreisfreie Stadt Frankfurt
    am Main"; {"Wetteraukreis"} → "Wetteraukreis".
    """
    ranked = [name for name, _ in variants.most_common() if name]
    for name in ranked:
        if name.startswith(_DISTRICT_PREFIXES):
            return name
    for name in ranked:
        if name.casefold().endswith("kreis"):
            return name
    for name in ranked:
        if ", " in name:
            city, rest = name.split(", ", 1)  # "Frankfurt am Main, Stadt", "Hamburg, Freie und Hansestadt"
            return city if "hansestadt" in rest.casefold() else f"Kreisfreie Stadt {city}"
    return ranked[0] if ranked else ""


def read_gazetteer(path: Path) -> Gazetteer:
    """Validated places from the CSV; raises ``FileNotFoundError``, ``GazetteerError``."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise GazetteerError(f"Spalten fehlen: {', '.join(missing)}", field_name=missing[0])
        rows = list(reader)
    variants: dict[str, Counter[str]] = defaultdict(Counter)
    for raw in rows:
        variants[raw["community_code"]][raw["community"]] += 1
    districts = {code: clean_district_name(names) for code, names in variants.items()}
    places: list[PlaceRow] = []
    seen: set[tuple[str, str]] = set()
    skipped = 0
    for line, raw in enumerate(rows, start=2):
        if raw["state_code"].strip().isdigit() or not raw["state"].strip() or is_organisation(raw["place"]):
            skipped += 1
            continue
        place = _place_row(raw, districts, line)
        if (place.postcode, place.name) in seen:
            raise GazetteerError(f"{place.postcode} {place.name} doppelt", row=f"Zeile {line}", field_name="place")
        seen.add((place.postcode, place.name))
        places.append(place)
    return Gazetteer(places=places, skipped=skipped)


def _place_row(raw: dict[str, str], districts: dict[str, str], line: int) -> PlaceRow:
    values = dict(
        postcode=raw["zipcode"],
        name=raw["place"],
        normalized=normalize(raw["place"]),
        state=raw["state"],
        district=districts.get(raw["community_code"], raw["community"]),
        district_code=raw["community_code"],
        lat=raw["latitude"],
        lon=raw["longitude"],
    )
    try:
        return PlaceRow.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        column = {"postcode": "zipcode", "name": "place", "district_code": "community_code", "lat": "latitude",
                  "lon": "longitude"}.get(str(err["loc"][0]), str(err["loc"][0]))
        raise GazetteerError(err["msg"], row=f"Zeile {line} ({raw.get('zipcode')} {raw.get('place')})",
                             field_name=column) from None
