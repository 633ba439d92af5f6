"""Deterministic demo offers for all Hessian districts (seeded random, no network).

Every demo offer is clearly labelled: the title starts with "[Demo]", providers are called "Demo-Betrieb …",
``is_demo`` is set and the source is ``demo``. The mix is plausible: mostly betriebliche Ausbildung, some Praktikum,
Einstiegsqualifizierung and duales Studium, schulische Ausbildung for school-based occupations, Berufsvorbereitung
and ausbildungsbegleitende Hilfen from education providers and Beratungsangebote from counselling services in every
district; about a fifth allow part-time (more where part-time is common); start 1 August or 1 September of the next
two training years; coordinates scattered around real Hessian postcodes.

Loading replaces earlier demo offers only (never ``ba`` or ``csv`` offers) and is idempotent: the same seed, size
and day give the same rows, so a second load changes nothing.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from random import Random
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from tqdm import tqdm

from core.db import analyze
from knowledge_base.gazetteer import HESSEN
from knowledge_base.loader import TableCount, bulk_sync
from knowledge_base.models import Occupation, Offer, Place, Provider
from knowledge_base.text import normalize

SOURCE = "demo"
DEFAULT_SEED = 20260801
DEMO_SIZES = {"small": 12_000, "bench": 100_000}
COUNSELLING_PER_DISTRICT = 3
JITTER_KM = 1.5
DUAL_STUDY_AREAS = frozenset({"25", "26", "27", "43", "61", "71", "72", "73", "81", "92"})
SUFFIXES = ("Nord", "Süd", "Ost", "West", "Mitte", "am Markt", "im Tal", "an der Aue")

# Kind of company per occupation: first matching word of the occupation name, else by KldB main group.
BRANCH_BY_WORD = (
    ("tischler", "Tischlerei"), ("baecker", "Bäckerei"), ("konditor", "Konditorei"), ("fleischer", "Metzgerei"),
    ("friseur", "Friseursalon"), ("koch", "Restaurant"), ("hotel", "Hotel"), ("restaurant", "Restaurant"),
    ("kraftfahrzeug", "Autohaus"), ("zweirad", "Zweiradwerkstatt"), ("elektroniker", "Elektrotechnik"),
    ("anlagenmechaniker", "Haustechnik"), ("maler", "Malerbetrieb"), ("dachdecker", "Dachdeckerei"),
    ("maurer", "Bauunternehmen"), ("zahnmedizin", "Zahnarztpraxis"), ("medizinische", "Arztpraxis"),
    ("tiermedizin", "Tierarztpraxis"), ("pharmazeutisch", "Apotheke"), ("bank", "Bank"), ("versicherung", "Versicherung"),
    ("steuerfach", "Steuerkanzlei"), ("rechtsanwalt", "Anwaltskanzlei"), ("verwaltung", "Gemeindeverwaltung"),
    ("einzelhandel", "Einzelhandel"), ("verkaeufer", "Einzelhandel"), ("gross", "Großhandel"),
    ("industriekauf", "Industriebetrieb"), ("buero", "Büroservice"), ("informatik", "IT-Systemhaus"),
    ("lager", "Logistikzentrum"), ("spedition", "Spedition"), ("berufskraftfahrer", "Spedition"),
    ("gaertner", "Gärtnerei"), ("florist", "Blumenladen"), ("landwirt", "Hof"), ("mechatroniker", "Maschinenbau"),
    ("industriemechaniker", "Maschinenbau"), ("zerspanung", "Metallbearbeitung"), ("metallbau", "Metallbau"),
    ("chemie", "Chemiewerk"), ("labor", "Labor"), ("mediengestalt", "Werbeagentur"), ("immobilie", "Immobilienbüro"),
    ("fachkraft fuer schutz", "Sicherheitsdienst"), ("reinig", "Gebäudereinigung"), ("pflege", "Pflegedienst"),
)
BRANCH_BY_AREA = {
    "11": "Hof", "12": "Gärtnerei", "22": "Holzbetrieb", "23": "Druckerei", "24": "Metallbau", "25": "Maschinenbau",
    "26": "Elektrotechnik", "27": "Technikbüro", "29": "Lebensmittelbetrieb", "32": "Bauunternehmen",
    "33": "Ausbaubetrieb", "34": "Haustechnik", "41": "Labor", "43": "IT-Systemhaus", "51": "Logistikzentrum",
    "52": "Spedition", "53": "Sicherheitsdienst", "54": "Gebäudereinigung", "61": "Großhandel", "62": "Einzelhandel",
    "63": "Hotel", "71": "Büroservice", "72": "Steuerkanzlei", "73": "Verwaltung", "81": "Praxis",
    "82": "Pflegedienst", "83": "Kita", "92": "Werbeagentur",
}
# (type, weight) for dual and for school-based occupations
DUAL_MIX = (("betrieblich", 72), ("praktikum", 12), ("eq", 5), ("dual_studium", 5), ("berufsvorbereitung", 3),
            ("ausbildungsbegleitend", 3))
SCHOOL_MIX = (("schulisch", 80), ("praktikum", 20))
TITLES = {
    "betrieblich": "[Demo] Ausbildung {occ}",
    "dual_studium": "[Demo] Duales Studium mit Ausbildung {occ}",
    "schulisch": "[Demo] Schulische Ausbildung {occ}",
    "praktikum": "[Demo] Praktikum {occ}",
    "eq": "[Demo] Einstiegsqualifizierung (EQ) {occ}",
    "berufsvorbereitung": "[Demo] Berufsvorbereitende Bildungsmaßnahme (BvB)",
    "ausbildungsbegleitend": "[Demo] Assistierte Ausbildung (AsA flex)",
    "beratung": "[Demo] {what}",
}
COUNSELLING = (
    ("Demo-Jugendberufsagentur", "Berufsberatung und Bewerbungshilfe"),
    ("Demo-Beratungsstelle Ausbildung", "Beratung bei Problemen in der Ausbildung"),
    ("Demo-Berufsberatung", "Berufsorientierung für Schülerinnen und Schüler"),
)


@dataclass(frozen=True)
class DemoPostcode:
    postcode: str
    place: str
    lat: float
    lon: float


@dataclass(frozen=True)
class DemoDistrict:
    code: str
    name: str
    postcodes: tuple[DemoPostcode, ...]


@dataclass(frozen=True)
class DemoOccupation:
    id: int
    name: str
    training_type: str
    parttime_common: bool
    kldb2: str
    rank: int


@dataclass
class DemoData:
    providers: dict[str, dict[str, Any]] = field(default_factory=dict)  # source_id → row
    offers: list[dict[str, Any]] = field(default_factory=list)  # rows with provider_source_id


@dataclass
class DemoReport:
    providers: TableCount
    offers: TableCount

    @property
    def changed(self) -> int:
        return self.providers.changed + self.offers.changed

    def lines(self) -> list[str]:
        return [
            f"{name:24} +{c.inserted:<6} ~{c.updated:<6} -{c.deleted:<6} ={c.unchanged}"
            for name, c in (("provider (demo)", self.providers), ("offer (demo)", self.offers))
        ]


# ---------------------------------------------------------------------------------------------- generating


def hessian_postcodes(session: Session) -> list[DemoDistrict]:
    """Hessian districts with their postcodes (one place name per postcode), ordered by district code."""
    by_district: dict[tuple[str, str], dict[str, DemoPostcode]] = defaultdict(dict)
    rows = session.execute(
        select(Place.district_code, Place.district, Place.postcode, Place.name, Place.lat, Place.lon)
        .where(Place.state == HESSEN)
        .order_by(Place.district_code, Place.postcode, Place.name)
    )
    for r in rows:
        by_district[(r.district_code, r.district)].setdefault(r.postcode, DemoPostcode(r.postcode, r.name, r.lat, r.lon))
    return [DemoDistrict(code, name, tuple(pcs.values())) for (code, name), pcs in sorted(by_district.items())]


def curated_occupations(session: Session) -> list[DemoOccupation]:
    rows = session.execute(
        select(Occupation.id, Occupation.name, Occupation.training_type, Occupation.parttime_common,
               Occupation.kldb2, Occupation.rank)
        .where(Occupation.curated)
        .order_by(Occupation.rank, Occupation.name)
    )
    return [
        DemoOccupation(r.id, r.name, r.training_type, bool(r.parttime_common), r.kldb2, r.rank or 999) for r in rows
    ]


def branch(occupation: DemoOccupation) -> str:
    """"Tischler/-in" → "Tischlerei"; otherwise by KldB main group ("Maschinenbau", "Büroservice" …)."""
    norm = normalize(occupation.name)
    for word, name in BRANCH_BY_WORD:
        if word in norm:
            return name
    return BRANCH_BY_AREA.get(occupation.kldb2, "Betrieb")


def start_years(today: dt.date) -> tuple[int, int]:
    """The next two training years: from July on, this year's August start is considered taken."""
    first = today.year if today < dt.date(today.year, 7, 1) else today.year + 1
    return first, first + 1


def generate_demo_offers(
    session: Session, size: str | int = "small", seed: int = DEFAULT_SEED, today: dt.date | None = None,
    quiet: bool = True,
) -> DemoData:
    """The demo rows for ``size`` ("small", "bench" or a number of offers); the same arguments give the same rows."""
    total = DEMO_SIZES[size] if isinstance(size, str) else int(size)
    districts = hessian_postcodes(session)
    occupations = curated_occupations(session)
    if not districts or not occupations:
        raise ValueError("Demo-Angebote brauchen Orte (plz_de.csv) und kuratierte Berufe: zuerst `kb load`.")
    gen = _Generator(Random(seed), today or dt.date.today(), districts, occupations, total)
    return gen.run(quiet)


class _Generator:
    def __init__(
        self, rng: Random, today: dt.date, districts: list[DemoDistrict], occupations: list[DemoOccupation],
        total: int,
    ):
        self.rng, self.today, self.districts, self.occupations, self.total = rng, today, districts, occupations, total
        self.years = start_years(today)
        self.stamp = dt.datetime.combine(today, dt.time(6, 0))
        self.data = DemoData()
        self.district_weights = [math.sqrt(len(d.postcodes)) for d in districts]
        self.occupation_weights = [1 / math.sqrt(o.rank) for o in occupations]
        self.variants = max(2, min(len(SUFFIXES), total // 5000 + 2))  # companies per district and branch

    def run(self, quiet: bool) -> DemoData:
        counselling = min(self.total, COUNSELLING_PER_DISTRICT * len(self.districts))
        with tqdm(total=self.total, desc="Demo-Angebote", unit=" Angebote", disable=quiet) as bar:
            for i in range(counselling):
                self._counselling_offer(self.districts[i % len(self.districts)], i // len(self.districts))
                bar.update()
            while len(self.data.offers) < self.total:
                self._offer()
                bar.update()
        return self.data

    def _counselling_offer(self, district: DemoDistrict, n: int) -> None:
        org, what = COUNSELLING[n % len(COUNSELLING)]
        provider = self._provider("beratung", district, org, "", 0)
        self._add(provider, None, "beratung", TITLES["beratung"].format(what=what), parttime=False, start=None)

    def _offer(self) -> None:
        rng = self.rng
        district = rng.choices(self.districts, self.district_weights)[0]
        drawn = rng.choices(self.occupations, self.occupation_weights)[0]
        occupation: DemoOccupation | None = drawn
        mix = SCHOOL_MIX if drawn.training_type == "schulisch" else DUAL_MIX
        offer_type = rng.choices([t for t, _ in mix], [w for _, w in mix])[0]
        if offer_type == "dual_studium" and drawn.kldb2 not in DUAL_STUDY_AREAS:
            offer_type = "betrieblich"
        variant = rng.randrange(self.variants)
        if offer_type == "schulisch":
            provider = self._provider("schule", district, "Demo-Berufsfachschule", "", variant % 2)
        elif offer_type in ("berufsvorbereitung", "ausbildungsbegleitend"):
            provider = self._provider("traeger", district, "Demo-Bildungsträger", "", variant % 2)
            occupation = None
        else:
            provider = self._provider("betrieb", district, "Demo-Betrieb", branch(drawn), variant)
        share = 0.45 if occupation is not None and occupation.parttime_common else 0.15
        parttime = offer_type not in ("eq", "berufsvorbereitung") and rng.random() < share
        start = dt.date(rng.choices(self.years, (7, 3))[0], rng.choices((8, 9), (6, 4))[0], 1)
        title = TITLES[offer_type].format(occ=f"{occupation.name} (m/w/d)" if occupation else "")
        self._add(provider, occupation, offer_type, title, parttime, start)

    def _provider(self, kind: str, district: DemoDistrict, org: str, trade: str, variant: int) -> dict[str, Any]:
        source_id = f"demo-{kind}-{district.code}-{_slug(org + ' ' + trade)}-{variant}"
        provider = self.data.providers.get(source_id)
        if provider is not None:
            return provider
        rng = self.rng
        home = rng.choice(district.postcodes)
        lat, lon = _jitter(rng, home.lat, home.lon)
        label = " ".join(p for p in (org, trade, SUFFIXES[variant] if kind != "beratung" else "") if p)
        provider = dict(
            source=SOURCE,
            source_id=source_id,
            kind=kind,
            name=f"{label} ({home.place})",
            street=f"Demoweg {rng.randint(1, 99)}",
            postcode=home.postcode,
            place_name=home.place,
            phone=None,
            email=None,
            website=None,
            is_demo=True,
            updated_at=self.stamp,
            _lat=lat,
            _lon=lon,
        )
        self.data.providers[source_id] = provider
        return provider

    def _add(
        self, provider: dict[str, Any], occupation: DemoOccupation | None, offer_type: str, title: str,
        parttime: bool, start: dt.date | None,
    ) -> None:
        rng = self.rng
        deadline = None
        if start is not None and offer_type in ("betrieblich", "dual_studium") and rng.random() < 0.5:
            deadline = start - dt.timedelta(days=rng.randint(60, 240))
            if deadline <= self.today:
                deadline = None
        self.data.offers.append(
            dict(
                source=SOURCE,
                source_id=f"demo-{len(self.data.offers) + 1:06d}",
                title=title,
                occupation_id=occupation.id if occupation else None,
                provider_source_id=provider["source_id"],
                offer_type=offer_type,
                parttime_possible=parttime,
                start_date=start,
                application_deadline=deadline,
                street=provider["street"],
                postcode=provider["postcode"],
                place_name=provider["place_name"],
                lat=provider["_lat"],
                lon=provider["_lon"],
                url=None,
                is_demo=True,
                updated_at=self.stamp - dt.timedelta(days=rng.randint(0, 90), hours=rng.randint(0, 12)),
            )
        )


def _jitter(rng: Random, lat: float, lon: float, km: float = JITTER_KM) -> tuple[float, float]:
    """A point uniformly within ``km`` of lat/lon, rounded to 5 decimals (about 1 m)."""
    r = km * math.sqrt(rng.random())
    angle = rng.random() * 2 * math.pi
    dlat = r * math.cos(angle) / 111.32
    dlon = r * math.sin(angle) / (111.32 * math.cos(math.radians(lat)))
    return round(lat + dlat, 5), round(lon + dlon, 5)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", normalize(text)).strip("-")


# ---------------------------------------------------------------------------------------------- loading


def load_demo_offers(
    session: Session, size: str | int = "small", seed: int = DEFAULT_SEED, today: dt.date | None = None,
    quiet: bool = True,
) -> DemoReport:
    """Replace the demo offers (source ``demo``) by the generated ones; other sources stay untouched.

    The caller owns the transaction. Loading the same size and seed again on the same day changes nothing.
    """
    data = generate_demo_offers(session, size, seed, today, quiet)
    provider_rows = [{k: v for k, v in p.items() if not k.startswith("_")} for p in data.providers.values()]
    providers = bulk_sync(session, Provider, ["source_id"], provider_rows, where=Provider.source == SOURCE,
                          delete_stale=False)
    ids = dict(session.execute(select(Provider.source_id, Provider.id).where(Provider.source == SOURCE)).all())
    offer_rows = []
    for row in data.offers:
        values = {k: v for k, v in row.items() if k != "provider_source_id"}
        values["provider_id"] = ids[row["provider_source_id"]]
        offer_rows.append(values)
    offers = bulk_sync(session, Offer, ["source_id"], offer_rows, where=Offer.source == SOURCE)
    stale = [pid for sid, pid in ids.items() if sid not in data.providers]
    if stale:
        session.execute(delete(Provider).where(Provider.id.in_(stale)))
    providers.deleted = len(stale)
    session.flush()
    analyze(session)
    return DemoReport(providers=providers, offers=offers)
