"""Hessen's 26 districts (Landkreise and kreisfreie Städte) by Regierungsbezirk, and which district a place the
user named lies in: ``regions().resolve("Frankfurt am Main")`` → ``("frankfurt",)``.

The data (``handoff/data/hessen_regions.yml``: keys, names, postcodes and places; GeoNames, CC BY 4.0) is part of
the project; nothing is read from elsewhere at run time.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DATA_FILE = Path(__file__).resolve().parent / "data" / "hessen_regions.yml"
MAX_PLACE_TEXT = 200  # a place value is short; longer input is cut before it is searched
MAX_WORDS = 6  # longest place name in words ("Rosbach vor der Höhe Nieder-Rosbach")
_POSTCODE = re.compile(r"(?<!\d)\d{5}(?!\d)")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_PARENS = re.compile(r"\([^()]{0,40}\)")
_SUFFIX = re.compile(r" (?:am|an der|im|vor der|in der|ob der) [a-z -]{1,40}$")
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def normalize_place(text: str) -> str:
    """Lower case, umlauts as ae/oe/ue, ß as ss, other accents dropped, punctuation and hyphens as spaces."""
    text = str(text or "")[:MAX_PLACE_TEXT].lower().translate(_FOLD)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(_NOT_WORD.sub(" ", text).split())


def _variants(name: str) -> set[str]:
    """Shorter forms of an official name: without "(Taunus)", without "am Main" / "an der Lahn" / "im Taunus"."""
    lowered = str(name).lower().translate(_FOLD)
    shorter = {" ".join(_PARENS.sub(" ", lowered).split())}
    shorter |= {_SUFFIX.sub("", s) for s in list(shorter)}
    return {normalize_place(s) for s in shorter} - {normalize_place(name), ""}


@dataclass(frozen=True)
class District:
    key: str
    name: str
    kind: str  # Landkreis | kreisfreie Stadt
    code: str  # amtlicher Kreisschlüssel
    regierungsbezirk: str  # darmstadt | giessen | kassel


@dataclass(frozen=True)
class Regions:
    districts: tuple[District, ...]
    regierungsbezirke: dict[str, str]  # key → name
    exact: dict[str, tuple[str, ...]] = field(repr=False)  # normalized name → district keys
    derived: dict[str, tuple[str, ...]] = field(repr=False)  # shortened names (only if no exact name is the same)
    postcodes: dict[str, tuple[str, ...]] = field(repr=False)

    def by_key(self, key: str) -> District | None:
        return next((d for d in self.districts if d.key == key), None)

    def keys(self) -> list[str]:
        return [d.key for d in self.districts]

    def grouped(self) -> list[tuple[str, list[District]]]:
        """(Regierungsbezirk name, its districts) in the order of the data file."""
        return [(name, [d for d in self.districts if d.regierungsbezirk == rb])
                for rb, name in self.regierungsbezirke.items()]

    def resolve(self, text: str | None) -> tuple[str, ...]:
        """The district keys of the place named in ``text`` (several if the name is ambiguous), else ``()``.

        A Hessian postcode wins; otherwise the longest run of words that is a known name (exact names before
        shortened ones: "Frankfurt" and "Frankfurt am Main" are the city, "Steinbach" alone is ambiguous)."""
        raw = str(text or "")[:MAX_PLACE_TEXT]
        for postcode in _POSTCODE.findall(raw):
            if postcode in self.postcodes:
                return self.postcodes[postcode]
        words = normalize_place(raw).split()
        for size in range(min(MAX_WORDS, len(words)), 0, -1):
            for start in range(len(words) - size + 1):
                phrase = " ".join(words[start:start + size])
                found = self.exact.get(phrase) or self.derived.get(phrase)
                if found:
                    return found
        return ()


def _add(index: dict[str, list[str]], name: str, key: str) -> None:
    keys = index.setdefault(name, [])
    if key not in keys:
        keys.append(key)


def build_regions(data: dict[str, Any]) -> Regions:
    rbs: dict[str, Any] = data["regierungsbezirke"]
    exact: dict[str, list[str]] = {}
    derived: dict[str, list[str]] = {}
    postcodes: dict[str, list[str]] = {}
    districts = []
    for item in data["districts"]:
        district = District(key=item["key"], name=item["name"], kind=item["kind"], code=str(item["code"]),
                            regierungsbezirk=item["regierungsbezirk"])
        districts.append(district)
        for name in [district.name, *item.get("aliases", []), *item.get("places", [])]:
            _add(exact, normalize_place(name), district.key)
            for variant in _variants(name):
                _add(derived, variant, district.key)
        for postcode in str(item.get("postcodes", "")).split():
            _add(postcodes, postcode, district.key)
    for rb, info in rbs.items():  # "Nordhessen", "Regierungsbezirk Kassel": every district of it
        for name in [info["name"], *info.get("aliases", [])]:
            for district in districts:
                if district.regierungsbezirk == rb:
                    _add(exact, normalize_place(name), district.key)
    return Regions(
        districts=tuple(districts),
        regierungsbezirke={rb: info["name"] for rb, info in rbs.items()},
        exact={k: tuple(v) for k, v in exact.items()},
        derived={k: tuple(v) for k, v in derived.items() if k not in exact},
        postcodes={k: tuple(v) for k, v in postcodes.items()},
    )


@lru_cache(maxsize=1)
def regions() -> Regions:
    with DATA_FILE.open(encoding="utf-8") as f:
        return build_regions(yaml.safe_load(f))
