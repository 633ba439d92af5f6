"""Resolve free text to a place with coordinates: "Kassel", "35390", "FFM", "Giessen", "Ausbildung in Kassel".

Matching order: postcode anywhere in the text, then exact names (normalized: "Gießen" = "Giessen"), curated aliases
(``place_aliases.yml``) and Hessian districts, then names without their qualifier ("Heppenheim (Bergstraße)" →
"Heppenheim"), then fuzzy matching (rapidfuzz) for typos. A short answer ("Kassel bitte") is searched as a whole;
in a longer sentence only the words after "in", "bei", "um", "nahe" … are tried. A place with several postcodes
resolves to the centroid (mean lat/lon) of its postcodes. Equal matches prefer Hessian places.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from statistics import fmean

from rapidfuzz import fuzz, process
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from knowledge_base.gazetteer import HESSEN
from knowledge_base.models import Place, PlaceAlias
from knowledge_base.resolve import STOPWORDS
from knowledge_base.text import normalize

EXACT_SCORE = 100.0
BASE_NAME_SCORE = 95.0  # "Frankenberg" for "Frankenberg (Eder)", "Kassel" for "Landkreis Kassel"
PART_PENALTY = 5.0  # "Homburg" inside the matched "Bad Homburg" counts less
DOMINANT_FACTOR = 10  # a city with 10× the postcodes of a namesake wins ("Hamburg" is not the one in Stormarn)
FUZZY_CUTOFF = 85.0
SURE_SCORE = 90.0
SURE_MARGIN = 4.0
MAX_TEXT = 1000
MAX_NGRAM = 5
MAX_WHOLE_WORDS = 8  # an answer without "in", "bei" … of up to 8 words is also tried as one name
SHORT_TEXT_WORDS = 4  # up to this many words, every part of the text may be the place
MAX_FUZZY_PHRASES = 12
TRIGGERS = frozenset(
    normalize(w) for w in ("in", "im", "bei", "beim", "um", "nahe", "nähe", "von", "aus", "raum", "umgebung",
                           "richtung", "nach", "rund")
)
ARTICLES = frozenset({"der", "die", "das", "dem", "den"})
PLACE_STOPWORDS = STOPWORDS | {"ort", "stadt", "dorf", "naehe", "nahe", "umgebung", "raum", "hier", "dort", "hessen"}
_POSTCODE = re.compile(r"(?<!\d)(\d{5})(?!\d)")
_PARENTHESIS = re.compile(r"\([^()]*\)")  # "Frankfurt (Oder)" → "Frankfurt"; linear (no "(" inside)


@dataclass(frozen=True)
class PlaceCandidate:
    name: str  # unique display name: "Gießen", "35390 Gießen", "Reichelsheim (Odenwaldkreis)", "Wetteraukreis"
    lat: float
    lon: float
    score: float
    matched: str
    kind: str  # ort | plz | kreis
    state: str
    district: str
    district_code: str
    postcodes: tuple[str, ...]

    @property
    def is_hessian(self) -> bool:
        return self.state == HESSEN


@dataclass
class PlaceResolution:
    candidates: list[PlaceCandidate] = field(default_factory=list)
    sure: bool | None = None  # decided on all candidates, before they were cut to the limit

    @property
    def best(self) -> PlaceCandidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def is_sure(self) -> bool:
        return _is_sure(self.candidates) if self.sure is None else self.sure


def _is_sure(candidates: list[PlaceCandidate]) -> bool:
    """One clear winner. Against equally good namesakes, a Hessian place wins over places outside Hessen, and a
    city wins over a namesake with a tenth of its postcodes. A place outside Hessen is never sure while a Hessian
    place is a plausible reading too ("Kasel" may be a typo of Kassel, "Neustadt" may be Neustadt (Hessen))."""
    best = candidates[0] if candidates else None
    if best is None or best.score < SURE_SCORE:
        return False
    if not best.is_hessian and any(
        c.is_hessian and c.score >= FUZZY_CUTOFF and not _strict_part(c.matched, best.matched) for c in candidates[1:]
    ):  # but "Frankfurt (Oder)" names Frankfurt (Oder): "frankfurt" is only part of what matched
        return False
    rivals = [c for c in candidates[1:] if c.score > best.score - SURE_MARGIN]
    if best.is_hessian:
        rivals = [c for c in rivals if c.is_hessian]
    return all(_dominates(len(best.postcodes), len(c.postcodes)) for c in rivals)


def _strict_part(part: str, whole: str) -> bool:
    return part != whole and f" {part} " in f" {whole} "


def _dominates(postcodes: int, other: int) -> bool:
    return postcodes >= DOMINANT_FACTOR * other


@dataclass(frozen=True)
class District:
    code: str
    name: str
    lat: float
    lon: float
    postcodes: int


@dataclass
class _Group:
    """All postcodes of one place (name within one district), or of a district, or one postcode."""

    kind: str
    name: str
    state: str
    district: str
    district_code: str
    coords: dict[str, tuple[float, float]] = field(default_factory=dict)  # postcode → lat/lon
    label: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return self.kind, self.name, self.district_code

    def candidate(self, score: float, matched: str) -> PlaceCandidate:
        lats = [c[0] for c in self.coords.values()]
        lons = [c[1] for c in self.coords.values()]
        return PlaceCandidate(
            name=self.label or self.name,
            lat=round(fmean(lats), 5),
            lon=round(fmean(lons), 5),
            score=round(score, 1),
            matched=matched,
            kind=self.kind,
            state=self.state,
            district=self.district,
            district_code=self.district_code,
            postcodes=tuple(sorted(self.coords)),
        )


@dataclass
class PlaceIndex:
    """The gazetteer in memory: normalized forms → places (built once per database and gazetteer version)."""

    by_form: dict[str, dict[tuple[str, str, str], tuple[_Group, float]]]
    by_postcode: dict[str, list[_Group]]
    forms: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.forms = list(self.by_form)

    @classmethod
    def build(cls, session: Session) -> PlaceIndex:
        places: dict[tuple[str, str], _Group] = {}
        by_postcode: dict[str, list[_Group]] = defaultdict(list)
        rows = session.execute(
            select(Place.postcode, Place.name, Place.state, Place.district, Place.district_code, Place.lat, Place.lon)
            .order_by(Place.postcode, Place.name)
        )
        for r in rows:
            group = places.get((r.name, r.district_code))
            if group is None:
                group = places[(r.name, r.district_code)] = _Group("ort", r.name, r.state, r.district, r.district_code)
            group.coords[r.postcode] = (r.lat, r.lon)
            by_postcode[r.postcode].append(group)
        _add_sublocalities(places)
        _set_labels(list(places.values()))
        index = cls(by_form={}, by_postcode=dict(by_postcode))
        for group in places.values():
            index._add(group.name, group, EXACT_SCORE)
            index._add(group.label, group, EXACT_SCORE)
            index._add(_PARENTHESIS.sub(" ", group.name), group, BASE_NAME_SCORE)
        for district in _hessian_district_groups(places.values()):
            index._add(district.name, district, EXACT_SCORE)
            bare = district.name.removeprefix("Landkreis ").removeprefix("Kreisfreie Stadt ")
            if district.name.startswith("Landkreis "):
                index._add("Kreis " + bare, district, EXACT_SCORE)
            index._add(bare, district, BASE_NAME_SCORE)
        by_name: dict[str, list[_Group]] = defaultdict(list)
        for group in places.values():
            by_name[group.name].append(group)
        for alias in session.scalars(select(PlaceAlias)):
            for group in by_name.get(alias.place_name, []):
                if alias.district_code in (None, group.district_code):
                    index._add(alias.alias, group, EXACT_SCORE)
        index.forms = list(index.by_form)
        return index

    def _add(self, form: str, group: _Group, score: float) -> None:
        norm = normalize(form)
        if not norm:
            return
        entries = self.by_form.setdefault(norm, {})
        current = entries.get(group.key)
        if current is None or score > current[1]:
            entries[group.key] = (group, score)

    def resolve(self, text: str, limit: int = 5) -> PlaceResolution:
        text = text[:MAX_TEXT]
        postcodes = [p for p in _POSTCODE.findall(text) if p in self.by_postcode]
        if postcodes:
            found = [self._postcode_candidate(p) for p in dict.fromkeys(postcodes)]
            return PlaceResolution(found[:limit], sure=_is_sure(found))
        phrases = _phrases(text)
        best: dict[tuple[str, str, str], PlaceCandidate] = {}

        def offer(group: _Group, score: float, matched: str) -> None:
            current = best.get(group.key)
            if current is None or score > current.score:
                best[group.key] = group.candidate(score, matched)

        matched: list[str] = []
        for phrase in phrases:  # longest first
            entries = self.by_form.get(phrase)
            if not entries:
                continue
            part = any(f" {phrase} " in f" {longer} " for longer in matched)
            matched.append(phrase)
            for group, score in entries.values():
                offer(group, score - (PART_PENALTY if part else 0.0), phrase)
        if not any(c.score >= SURE_SCORE and c.is_hessian for c in best.values()):  # typos of Hessian places too
            fuzzy = [p for p in phrases if len(p) >= 4 and p.count(" ") < 3][:MAX_FUZZY_PHRASES]
            for phrase in fuzzy:
                for form, ratio, _ in process.extract(
                    phrase, self.forms, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=8
                ):
                    for group, score in self.by_form[form].values():
                        offer(group, ratio * score / EXACT_SCORE, form)
        ranked = sorted(
            best.values(), key=lambda c: (-c.score, not c.is_hessian, -len(c.postcodes), c.name)
        )
        return PlaceResolution(ranked[:limit], sure=_is_sure(ranked))

    def _postcode_candidate(self, postcode: str) -> PlaceCandidate:
        groups = sorted(self.by_postcode[postcode], key=lambda g: (-len(g.coords), g.name))
        main = groups[0]
        lat, lon = main.coords[postcode]
        single = _Group("plz", main.name, main.state, main.district, main.district_code, {postcode: (lat, lon)},
                        label=f"{postcode} {main.name}")
        return single.candidate(EXACT_SCORE, postcode)


def _add_sublocalities(places: dict[tuple[str, str], _Group]) -> None:
    """"Hamburg Eimsbüttel" also counts for "Hamburg" (same district), so Hamburg's centroid covers the city."""
    for (name, code), group in list(places.items()):
        words = name.split(" ")
        for n in range(len(words) - 1, 0, -1):
            parent = places.get((" ".join(words[:n]), code))
            if parent is not None:
                for postcode, coords in group.coords.items():
                    parent.coords.setdefault(postcode, coords)
                break


def _set_labels(groups: list[_Group]) -> None:
    """A display name that resolves back to the same place: the plain name where the plain name resolves surely
    to it (see ``PlaceResolution.is_sure``), else "Name (Kreis)"."""
    by_name: dict[str, list[_Group]] = defaultdict(list)
    for g in groups:
        by_name[normalize(g.name)].append(g)
    for same in by_name.values():
        hessian = [g for g in same if g.state == HESSEN]
        for g in same:
            rivals = [h for h in (hessian if g.state == HESSEN else same) if h is not g]
            plain = (g.state == HESSEN or not hessian) and all(
                _dominates(len(g.coords), len(h.coords)) for h in rivals
            )
            g.label = g.name if plain else f"{g.name} ({g.district})"


def _hessian_district_groups(places: Iterable[_Group]) -> list[_Group]:
    districts: dict[str, _Group] = {}
    for g in places:
        if g.state != HESSEN:
            continue
        d = districts.setdefault(g.district_code, _Group("kreis", g.district, g.state, g.district, g.district_code,
                                                         label=g.district))
        d.coords.update(g.coords)
    return list(districts.values())


def _phrases(text: str) -> list[str]:
    """Parts of the text that may name a place, longest first: all word n-grams of a short answer; in a sentence
    with "in", "bei", "um", "nahe" … only the n-grams right after those words (articles skipped)."""
    words = normalize(text).split()
    if not words:
        return []
    starts: list[int] = []
    if len(words) > SHORT_TEXT_WORDS:
        for i, w in enumerate(words[:-1]):
            if w in TRIGGERS:
                j = i + 1
                while j < len(words) - 1 and words[j] in ARTICLES:
                    j += 1
                starts.append(j)
    triggered = bool(starts)
    if not starts:  # a short answer, or a sentence without "in", "bei" …: every word may start the place
        starts = list(range(len(words)))
    out: dict[str, None] = {}
    whole = len(words) <= SHORT_TEXT_WORDS or (len(words) <= MAX_WHOLE_WORDS and not triggered)
    if whole and not (len(words) == 1 and words[0] in PLACE_STOPWORDS):  # "Hessen" alone is no place
        out[" ".join(words)] = None  # the whole answer: also long names ("Rosbach vor der Höhe Nieder-Rosbach")
    for n in range(MAX_NGRAM, 0, -1):
        for i in starts:
            gram = words[i : i + n]
            if len(gram) == n and not (gram[0] in PLACE_STOPWORDS or gram[-1] in PLACE_STOPWORDS):
                out[" ".join(gram)] = None
    return list(out)


# ---------------------------------------------------------------------------------------------- cached index

_lock = threading.Lock()
_cache: dict[str, tuple[tuple[int, int, int], PlaceIndex]] = {}


def place_index(session: Session) -> PlaceIndex:
    """The index of the session's database, rebuilt when the gazetteer or the aliases changed."""
    url = str(session.get_bind().engine.url)
    count, max_id = session.execute(select(func.count(Place.id), func.max(Place.id))).one()
    aliases = session.scalar(select(func.count()).select_from(PlaceAlias)) or 0
    version = (count or 0, max_id or 0, aliases)
    cached = _cache.get(url)
    if cached is not None and cached[0] == version:
        return cached[1]
    index = PlaceIndex.build(session)
    with _lock:
        _cache[url] = (version, index)
    return index


def resolve_place(session: Session, text: str, limit: int = 5) -> PlaceResolution:
    """Candidates (best first, with coordinates and score) for a place named in ``text``."""
    return place_index(session).resolve(text, limit)


def hessian_districts(session: Session) -> list[District]:
    """The 26 Hessian districts (Landkreise and kreisfreie Städte) with the centroid of their postcodes."""
    coords: dict[str, dict[str, tuple[float, float]]] = defaultdict(dict)
    names: dict[str, str] = {}
    rows = session.execute(
        select(Place.district_code, Place.district, Place.postcode, Place.lat, Place.lon)
        .where(Place.state == HESSEN)
        .order_by(Place.district_code, Place.postcode, Place.name)
    )
    for r in rows:
        names[r.district_code] = r.district
        coords[r.district_code].setdefault(r.postcode, (r.lat, r.lon))
    return sorted(
        (
            District(
                code=code,
                name=names[code],
                lat=round(fmean(c[0] for c in pcs.values()), 5),
                lon=round(fmean(c[1] for c in pcs.values()), 5),
                postcodes=len(pcs),
            )
            for code, pcs in coords.items()
        ),
        key=lambda d: d.name,
    )
