"""Offer search on a fresh SQLite knowledge base with hand-placed offers: radius edges, filters, paging, ranking
(distance bands, then freshness), count cap, related occupations, advice services; and the demo-offer generator.

Every scenario lies around its own centre, far (≥ 200 km) from the others, so the scenarios do not see each
other's offers. The helpers are reused by tests/integration/test_offer_search_pg.py on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import and_, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from core.db import make_engine, make_session_factory, session_scope
from knowledge_base.demo_offers import DEMO_SIZES, generate_demo_offers, load_demo_offers
from knowledge_base.models import Occupation, Offer, Place, Provider
from knowledge_base.offer_search import (
    COUNT_CAP,
    DISTANCE_BANDS_KM,
    EARTH_RADIUS_KM,
    KM_PER_DEGREE,
    MAX_RADIUS_KM,
    OfferPage,
    OfferQuery,
    advice_services,
    bounding_box,
    count_offers,
    haversine_km,
    related_occupations,
    search_offers,
)
from knowledge_base.places import hessian_districts, resolve_place
from tests.conftest import build_kb

TODAY = dt.date(2026, 3, 1)
STAMP = dt.datetime(2026, 3, 1, 6, 0)
LAT = 50.5
EDGE = (LAT, 20.0)
FILTERS = (LAT, 23.0)
RANKING = (LAT, 26.0)
CAP = (LAT, 29.0)
RELATED = (LAT, 32.0)
ADVICE = (LAT, 35.0)
BOUNDARY = (LAT, 38.0)
CAP_OFFERS = COUNT_CAP + 5


# ---------------------------------------------------------------------------------------------- geometry


def destination(lat: float, lon: float, bearing_deg: float, km: float) -> tuple[float, float]:
    """The point ``km`` away from lat/lon in direction ``bearing_deg`` (great circle, the haversine sphere)."""
    d, b = km / EARTH_RADIUS_KM, math.radians(bearing_deg)
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
    return math.degrees(p2), math.degrees(l2)


def flat_km(centre: tuple[float, float], lat: float, lon: float) -> float:
    """The planar distance the search ranks by (offer_search._Circle.flat)."""
    k = math.cos(math.radians(centre[0]))
    return math.hypot(lat - centre[0], (lon - centre[1]) * k) * KM_PER_DEGREE


def band_of(centre: tuple[float, float], lat: float, lon: float) -> int:
    km = flat_km(centre, lat, lon)
    return next((n for n, limit in enumerate(DISTANCE_BANDS_KM) if km <= limit), len(DISTANCE_BANDS_KM))


# ---------------------------------------------------------------------------------------------- building offers


@dataclass
class Offers:
    """Inserts offers of source ``csv`` (or ``demo``) and remembers their ids by key."""

    session: Session
    ids: dict[str, int] = field(default_factory=dict)
    providers: dict[str, int] = field(default_factory=dict)

    def provider(self, key: str, kind: str = "betrieb", demo: bool = False) -> int:
        if key not in self.providers:
            p = Provider(source="demo" if demo else "csv", source_id=f"test-{key}", kind=kind,
                         name=f"Testbetrieb {key}", phone="0561 000000" if kind == "beratung" else None,
                         is_demo=demo, updated_at=STAMP)
            self.session.add(p)
            self.session.flush()
            self.providers[key] = p.id
        return self.providers[key]

    def add(self, key: str, centre: tuple[float, float], bearing: float, km: float, *, age_days: float = 0,
            offer_type: str = "betrieblich", occupation_id: int | None = None, parttime: bool = False,
            start: dt.date | None = None, deadline: dt.date | None = None, demo: bool = False) -> int:
        lat, lon = destination(*centre, bearing, km)
        kind = {"beratung": "beratung", "schulisch": "schule"}.get(offer_type, "betrieb")
        offer = Offer(
            source="demo" if demo else "csv", source_id=f"test-{key}",
            title=f"[Demo] {key}" if demo else key, occupation_id=occupation_id,
            provider_id=self.provider(f"{kind}-{'demo' if demo else 'real'}", kind, demo),
            offer_type=offer_type, parttime_possible=parttime, start_date=start, application_deadline=deadline,
            place_name="Testort", lat=lat, lon=lon, is_demo=demo,
            updated_at=STAMP - dt.timedelta(days=age_days),
        )
        self.session.add(offer)
        self.session.flush()
        self.ids[key] = offer.id
        return offer.id


def occupation_id(session: Session, name: str) -> int:
    oid = session.scalar(select(Occupation.id).where(Occupation.name == name))
    assert oid is not None, name
    return oid


EDGE_BEARINGS = (0, 90, 125, 180, 270, 305)  # 125° / 305°: where the planar distance is smallest / largest


def add_edge_offers(o: Offers) -> None:
    for bearing in EDGE_BEARINGS:
        o.add(f"edge-in-{bearing}", EDGE, bearing, 24.9)
        o.add(f"edge-out-{bearing}", EDGE, bearing, 25.1)


def add_filter_offers(o: Offers) -> None:
    s = o.session
    tischler, koch = occupation_id(s, "Tischler/-in"), occupation_id(s, "Koch/Köchin (IH)")
    buero, baecker = occupation_id(s, "Kaufmann/Kauffrau für Büromanagement"), occupation_id(s, "Bäcker/-in")
    aug26, sep26, aug27, sep27 = dt.date(2026, 8, 1), dt.date(2026, 9, 1), dt.date(2027, 8, 1), dt.date(2027, 9, 1)
    rows: list[tuple[str, dict[str, Any]]] = [
        ("betr-full", dict(offer_type="betrieblich", occupation_id=tischler, start=aug26)),
        ("betr-part", dict(offer_type="betrieblich", occupation_id=tischler, parttime=True, start=sep26)),
        ("prak", dict(offer_type="praktikum", occupation_id=koch, start=aug26)),
        ("prak-part", dict(offer_type="praktikum", occupation_id=koch, parttime=True, start=aug27)),
        ("eq", dict(offer_type="eq", occupation_id=buero, start=sep26)),
        ("dual", dict(offer_type="dual_studium", occupation_id=buero, start=sep27)),
        ("schul", dict(offer_type="schulisch", occupation_id=baecker, start=aug26)),
        ("beratung", dict(offer_type="beratung")),
        ("deadline-past", dict(deadline=TODAY - dt.timedelta(days=1), start=aug26)),
        ("deadline-today", dict(deadline=TODAY, start=aug26)),
        ("deadline-later", dict(deadline=dt.date(2026, 5, 1), start=aug26)),
        ("demo", dict(demo=True, occupation_id=tischler, start=aug26)),
    ]
    for n, (key, kw) in enumerate(rows):
        o.add(key, FILTERS, bearing=n * 30, km=1 + n * 0.2, age_days=n, **kw)


# key, bearing, km, age in days; expected order for radius 50: band by band, freshest first, then by id
RANKING_OFFERS = [
    ("b0-old", 10, 1.0, 30), ("b0-new", 200, 4.5, 1), ("b0-tie-a", 80, 2.0, 10), ("b0-tie-b", 260, 2.0, 10),
    ("b1-new", 0, 7.0, 0), ("b1-old", 180, 9.0, 50), ("b2", 45, 15.0, 5), ("b3-a", 300, 30.0, 2),
    ("b3-b", 120, 25.0, 3), ("b4", 90, 45.0, 0), ("out", 0, 60.0, 0),
]
RANKING_ORDER = ["b0-new", "b0-tie-a", "b0-tie-b", "b0-old", "b1-new", "b1-old", "b2", "b3-a", "b3-b", "b4"]


def add_ranking_offers(o: Offers) -> None:
    for key, bearing, km, age in RANKING_OFFERS:
        o.add(f"rank-{key}", RANKING, bearing, km, age_days=age)


def add_cap_offers(session: Session, provider_id: int) -> None:
    rows = []
    for n in range(CAP_OFFERS):
        lat, lon = destination(*CAP, n * 137.5 % 360, 0.5 + (n % 95) * 0.1)
        rows.append(dict(source="csv", source_id=f"test-cap-{n}", title=f"cap-{n}", provider_id=provider_id,
                         offer_type="betrieblich", parttime_possible=False, lat=lat, lon=lon, is_demo=False,
                         updated_at=STAMP - dt.timedelta(minutes=n)))
    session.execute(insert(Offer), rows)


def add_related_offers(o: Offers) -> None:
    s = o.session
    konditor, fleischer, koch = (occupation_id(s, "Konditor/-in"), occupation_id(s, "Fleischer/-in"),
                                 occupation_id(s, "Koch/Köchin (IH)"))
    o.add("rel-konditor-1", RELATED, 0, 3, occupation_id=konditor)
    o.add("rel-konditor-2", RELATED, 90, 8, occupation_id=konditor)
    o.add("rel-konditor-far", RELATED, 180, 80, occupation_id=konditor)
    o.add("rel-fleischer", RELATED, 270, 12, occupation_id=fleischer, parttime=True)
    for n in range(3):
        o.add(f"rel-koch-{n}", RELATED, 45 + n, 5, occupation_id=koch)


def add_advice_offers(o: Offers) -> None:
    o.add("adv-3km", ADVICE, 0, 3, offer_type="beratung", age_days=10)
    o.add("adv-12km", ADVICE, 90, 12, offer_type="beratung", age_days=1)
    o.add("adv-40km", ADVICE, 180, 40, offer_type="beratung", age_days=0)
    o.add("adv-60km", ADVICE, 270, 60, offer_type="beratung", age_days=0)
    o.add("adv-company", ADVICE, 45, 1, offer_type="betrieblich", age_days=0)


def add_boundary_offers(o: Offers) -> None:
    """Four offers at 15 km; one fresh offer 20.007 km away at 125° (planar distance < 20 km: band 2, although
    outside the 20 km circle); five offers at 30 km."""
    for n in range(4):
        o.add(f"bnd-a{n}", BOUNDARY, 0, 15, age_days=10 + n)
    o.add("bnd-b", BOUNDARY, 125, 20.007, age_days=0)
    for n in range(5):
        o.add(f"bnd-x{n}", BOUNDARY, 0, 30, age_days=20 + n)


def add_all_offers(session: Session) -> dict[str, int]:
    o = Offers(session)
    add_edge_offers(o)
    add_filter_offers(o)
    add_ranking_offers(o)
    add_related_offers(o)
    add_advice_offers(o)
    add_boundary_offers(o)
    add_cap_offers(session, o.provider("betrieb-real"))
    return o.ids


# ---------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def pristine_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly migrated and loaded knowledge base without offers (copied per use)."""
    path = tmp_path_factory.mktemp("offer-kb") / "pristine.sqlite3"
    build_kb(f"sqlite:///{path}")
    return path


@dataclass
class KB:
    factory: sessionmaker[Session]
    ids: dict[str, int]


@pytest.fixture(scope="module")
def kb(pristine_kb: Path) -> KB:
    path = pristine_kb.with_name("offers.sqlite3")
    shutil.copy(pristine_kb, path)
    factory = make_session_factory(make_engine(f"sqlite:///{path}"))
    with session_scope(factory) as s:
        ids = add_all_offers(s)
    return KB(factory, ids)


@pytest.fixture
def s(kb: KB) -> Iterator[Session]:
    with session_scope(kb.factory) as session:
        yield session


def query(centre: tuple[float, float] | None = None, **kw: Any) -> OfferQuery:
    kw.setdefault("today", TODAY)
    if centre is not None:
        kw.update(lat=centre[0], lon=centre[1])
    return OfferQuery(**kw)


def keys(kb: KB, page: OfferPage) -> list[str]:
    names = {v: k for k, v in kb.ids.items()}
    return [names.get(h.id, f"id {h.id}") for h in page.hits]


def all_pages(session: Session, q: OfferQuery, limit: int = 100) -> list[OfferPage]:
    pages = [search_offers(session, q)]
    while pages[-1].has_more and len(pages) < limit:
        pages.append(search_offers(session, OfferQuery(**{**q.__dict__, "page": pages[-1].page + 1})))
    return pages


# ---------------------------------------------------------------------------------------------- geometry


def test_destination_points_are_at_the_intended_haversine_distance() -> None:
    for bearing in EDGE_BEARINGS:
        for km in (24.9, 25.1):
            assert haversine_km(*EDGE, *destination(*EDGE, bearing, km)) == pytest.approx(km, abs=1e-6)


def test_haversine_frankfurt_kassel() -> None:
    assert haversine_km(50.1109, 8.6821, 51.3127, 9.4797) == pytest.approx(145, abs=3)
    assert haversine_km(50.1109, 8.6821, 50.1109, 8.6821) == 0
    assert haversine_km(*FILTERS, *RANKING) == pytest.approx(haversine_km(*RANKING, *FILTERS))


def test_haversine_of_resolved_places(s: Session) -> None:
    frankfurt, kassel = resolve_place(s, "Frankfurt").best, resolve_place(s, "Kassel").best
    assert frankfurt is not None and kassel is not None
    assert haversine_km(frankfurt.lat, frankfurt.lon, kassel.lat, kassel.lon) == pytest.approx(145, abs=3)


@pytest.mark.parametrize("radius", [1.0, 25.0, 200.0])
def test_bounding_box_contains_the_circle(radius: float) -> None:
    min_lat, max_lat, min_lon, max_lon = bounding_box(*EDGE, radius)
    for bearing in range(0, 360, 5):
        lat, lon = destination(*EDGE, bearing, radius)
        assert min_lat <= lat <= max_lat and min_lon <= lon <= max_lon, bearing


# ---------------------------------------------------------------------------------------------- radius


def test_radius_edge(s: Session, kb: KB) -> None:
    page = search_offers(s, query(EDGE, radius_km=25, page_size=20))
    assert sorted(keys(kb, page)) == sorted(f"edge-in-{b}" for b in EDGE_BEARINGS)
    assert page.total == len(EDGE_BEARINGS) == count_offers(s, query(EDGE, radius_km=25))
    assert {h.distance_km for h in page.hits} == {24.9}


def test_radius_just_below_the_inner_offers(s: Session) -> None:
    assert count_offers(s, query(EDGE, radius_km=24.89)) == 0
    assert count_offers(s, query(EDGE, radius_km=25.11)) == 2 * len(EDGE_BEARINGS)


def test_offers_beyond_the_radius_are_not_found(s: Session, kb: KB) -> None:
    page = search_offers(s, query(RANKING, radius_km=50, page_size=20))
    assert "rank-out" not in keys(kb, page)
    assert all(h.distance_km is not None and h.distance_km <= 50 for h in page.hits)


# ---------------------------------------------------------------------------------------------- filters


def found(s: Session, kb: KB, q: OfferQuery) -> set[str]:
    pages = all_pages(s, OfferQuery(**{**q.__dict__, "page_size": 20}))
    return {k for p in pages for k in keys(kb, p)}


FILTER_ALL = {"betr-full", "betr-part", "prak", "prak-part", "eq", "dual", "schul", "beratung", "deadline-today",
              "deadline-later", "demo"}


def test_without_filters_everything_valid_is_found(s: Session, kb: KB) -> None:
    assert found(s, kb, query(FILTERS, radius_km=10)) == FILTER_ALL


def test_expired_application_deadline_is_hidden(s: Session, kb: KB) -> None:
    assert "deadline-past" not in found(s, kb, query(FILTERS, radius_km=10))
    later = found(s, kb, query(FILTERS, radius_km=10, today=dt.date(2026, 5, 2)))
    assert FILTER_ALL - later == {"deadline-today", "deadline-later"}
    earlier = found(s, kb, query(FILTERS, radius_km=10, today=dt.date(2026, 1, 1)))
    assert earlier == FILTER_ALL | {"deadline-past"}


def test_parttime_filter(s: Session, kb: KB) -> None:
    page = search_offers(s, query(FILTERS, radius_km=10, parttime_only=True))
    assert set(keys(kb, page)) == {"betr-part", "prak-part"}
    assert all(h.parttime_possible for h in page.hits)


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        (("praktikum",), {"prak", "prak-part"}),
        (("eq",), {"eq"}),
        (("dual_studium", "schulisch"), {"dual", "schul"}),
        (("beratung",), {"beratung"}),
        (("betrieblich",), {"betr-full", "betr-part", "deadline-today", "deadline-later", "demo"}),
        (("berufsvorbereitung",), set()),
    ],
)
def test_offer_type_filter(s: Session, kb: KB, types: tuple[str, ...], expected: set[str]) -> None:
    assert found(s, kb, query(FILTERS, radius_km=10, offer_types=types)) == expected


def test_offer_type_and_parttime_together(s: Session, kb: KB) -> None:
    assert found(s, kb, query(FILTERS, radius_km=10, offer_types=("praktikum",), parttime_only=True)) == {
        "prak-part"}


def test_start_date_filter(s: Session, kb: KB) -> None:
    assert found(s, kb, query(FILTERS, radius_km=10, start_from=dt.date(2027, 1, 1))) == {"prak-part", "dual"}
    assert found(s, kb, query(FILTERS, radius_km=10, start_from=dt.date(2026, 9, 1),
                              start_until=dt.date(2026, 12, 31))) == {"betr-part", "eq"}
    until = found(s, kb, query(FILTERS, radius_km=10, start_until=dt.date(2026, 8, 1)))
    assert until == {"betr-full", "prak", "schul", "deadline-today", "deadline-later", "demo"}


def test_demo_offers_can_be_excluded(s: Session, kb: KB) -> None:
    with_demo = search_offers(s, query(FILTERS, radius_km=10, page_size=20))
    assert any(h.is_demo and h.title.startswith("[Demo]") for h in with_demo.hits)
    assert found(s, kb, query(FILTERS, radius_km=10, include_demo=False)) == FILTER_ALL - {"demo"}


def test_occupation_filter_with_several_ids(s: Session, kb: KB) -> None:
    tischler, buero = occupation_id(s, "Tischler/-in"), occupation_id(s, "Kaufmann/Kauffrau für Büromanagement")
    assert found(s, kb, query(FILTERS, radius_km=10, occupation_ids=(tischler,))) == {"betr-full", "betr-part",
                                                                                     "demo"}
    assert found(s, kb, query(FILTERS, radius_km=10, occupation_ids=(tischler, buero))) == {
        "betr-full", "betr-part", "demo", "eq", "dual"}
    assert found(s, kb, query(FILTERS, radius_km=10, occupation_ids=(-1,))) == set()


def test_search_without_place_orders_by_freshness(s: Session, kb: KB) -> None:
    tischler = occupation_id(s, "Tischler/-in")
    page = search_offers(s, query(occupation_ids=(tischler,), page_size=20))
    assert keys(kb, page) == ["betr-full", "betr-part", "demo"]  # ages 0, 1, 11 days
    assert all(h.distance_km is None for h in page.hits)


def test_hit_fields(s: Session, kb: KB) -> None:
    page = search_offers(s, query(FILTERS, radius_km=10, offer_types=("eq",)))
    (hit,) = page.hits
    assert (hit.title, hit.offer_type, hit.type_label) == ("eq", "eq", "Einstiegsqualifizierung (EQ)")
    assert hit.start_date == dt.date(2026, 9, 1) and hit.provider_kind == "betrieb"
    assert hit.provider_name == "Testbetrieb betrieb-real" and not hit.is_demo
    assert hit.distance_km == pytest.approx(1.8, abs=0.05)


# ---------------------------------------------------------------------------------------------- ranking, paging


def test_ranking_nearer_band_first_then_fresher(s: Session, kb: KB) -> None:
    page = search_offers(s, query(RANKING, radius_km=50, page_size=20))
    assert keys(kb, page) == ["rank-" + k for k in RANKING_ORDER]
    assert page.total == len(RANKING_ORDER) and not page.has_more


def test_within_a_band_fresher_beats_nearer(s: Session, kb: KB) -> None:
    order = keys(kb, search_offers(s, query(RANKING, radius_km=50, page_size=20)))
    assert order.index("rank-b0-new") < order.index("rank-b0-old")  # 4.5 km, 1 day before 1 km, 30 days
    assert order.index("rank-b0-old") < order.index("rank-b1-new")  # but the nearer band wins over freshness


def test_paging(s: Session, kb: KB) -> None:
    q = query(RANKING, radius_km=50, page_size=4)
    pages = [search_offers(s, OfferQuery(**{**q.__dict__, "page": n})) for n in range(3)]
    assert [len(p.hits) for p in pages] == [4, 4, 2]
    assert [p.has_more for p in pages] == [True, True, False]
    assert [p.shown_until for p in pages] == [4, 8, 10]
    assert all(p.total == 10 and not p.total_capped for p in pages)
    combined = [k for p in pages for k in keys(kb, p)]
    assert len(combined) == len(set(combined))
    assert combined == ["rank-" + k for k in RANKING_ORDER]
    beyond = search_offers(s, OfferQuery(**{**q.__dict__, "page": 3}))
    assert beyond.hits == [] and beyond.total == 10 and not beyond.has_more


@pytest.mark.parametrize("page_size", range(1, 12))
def test_pages_of_any_size_concatenate_to_the_full_order(s: Session, kb: KB, page_size: int) -> None:
    pages = all_pages(s, query(RANKING, radius_km=50, page_size=page_size))
    assert [k for p in pages for k in keys(kb, p)] == ["rank-" + k for k in RANKING_ORDER]


def test_order_is_stable(s: Session, kb: KB) -> None:
    q = query(RANKING, radius_km=50, page_size=3, page=1)
    first = keys(kb, search_offers(s, q))
    for _ in range(3):
        assert keys(kb, search_offers(s, q)) == first


def test_offer_just_beyond_a_band_boundary_is_paged_once(s: Session, kb: KB) -> None:
    """Pages whose query is limited to a distance band must select by the same planar band they are ordered by:
    'bnd-b' (20.007 km away, planar 19.993 km) ranks first in band 2, so page 0 (limited to 20 km) must show it,
    and no offer may appear on two pages."""
    lat, lon = destination(*BOUNDARY, 125, 20.007)
    assert haversine_km(*BOUNDARY, lat, lon) > 20 > flat_km(BOUNDARY, lat, lon)  # the set-up
    pages = all_pages(s, query(BOUNDARY, radius_km=50, page_size=4))
    shown = [k for p in pages for k in keys(kb, p)]
    assert len(shown) == len(set(shown)) == 10, shown
    assert shown[0] == "bnd-b", shown


def test_count_is_capped(s: Session) -> None:
    page = search_offers(s, query(CAP, radius_km=20))
    assert page.total == COUNT_CAP and page.total_capped and page.has_more
    assert len(page.hits) == 4
    assert count_offers(s, query(CAP, radius_km=20), cap=CAP_OFFERS + 10) == CAP_OFFERS
    assert count_offers(s, query(CAP, radius_km=20), cap=50) == 50
    second = search_offers(s, query(CAP, radius_km=20, page=1))
    assert not {h.id for h in page.hits} & {h.id for h in second.hits}


def test_small_result_is_not_capped(s: Session) -> None:
    page = search_offers(s, query(RANKING, radius_km=50))
    assert page.total == 10 and not page.total_capped


# ---------------------------------------------------------------------------------------------- related, advice


def test_related_occupations_of_the_same_group_with_offers(s: Session) -> None:
    baecker = occupation_id(s, "Bäcker/-in")
    related = related_occupations(s, baecker, query(RELATED, radius_km=25))
    assert [(r.name, r.offers) for r in related] == [("Konditor/-in", 2), ("Fleischer/-in", 1)]
    assert [r.name for r in related_occupations(s, baecker, query(RELATED, radius_km=25), limit=1)] == [
        "Konditor/-in"]
    assert [(r.name, r.offers) for r in related_occupations(s, baecker, query(RELATED, radius_km=100))][0] == (
        "Konditor/-in", 3)


def test_related_occupations_respect_the_filters(s: Session) -> None:
    baecker = occupation_id(s, "Bäcker/-in")
    related = related_occupations(s, baecker, query(RELATED, radius_km=25, parttime_only=True))
    assert [(r.name, r.offers) for r in related] == [("Fleischer/-in", 1)]
    assert related_occupations(s, baecker, query(RELATED, radius_km=25, offer_types=("praktikum",))) == []


def test_related_occupations_fall_back_to_the_main_group(s: Session) -> None:
    brauer = occupation_id(s, "Brauer/-in und Mälzer/-in")  # KldB 291: no offers in its own group
    related = related_occupations(s, brauer, query(RELATED, radius_km=25))
    assert [(r.name, r.offers) for r in related] == [("Koch/Köchin (IH)", 3), ("Konditor/-in", 2),
                                                     ("Fleischer/-in", 1)]


def test_related_occupations_without_offers_or_unknown(s: Session) -> None:
    assert related_occupations(s, occupation_id(s, "Bäcker/-in"), query(EDGE, radius_km=25)) == []
    assert related_occupations(s, 999_999, query(RELATED)) == []


def test_advice_services_nearest_first(s: Session, kb: KB) -> None:
    hits = advice_services(s, *ADVICE, limit=2)
    assert keys(kb, OfferPage(hits, 0, 0, 2)) == ["adv-3km", "adv-12km"]
    assert all(h.offer_type == "beratung" for h in hits)
    more = advice_services(s, *ADVICE, limit=5)
    assert keys(kb, OfferPage(more, 0, 0, 5)) == ["adv-3km", "adv-12km", "adv-40km"]  # 60 km is beyond 50 km


def test_advice_services_without_place_are_the_freshest(s: Session) -> None:
    hits = advice_services(s, None, None, limit=3)
    assert len(hits) == 3 and all(h.offer_type == "beratung" and h.distance_km is None for h in hits)
    stamps = [h.updated_at for h in hits]
    assert stamps == sorted(stamps, reverse=True)


def test_advice_services_far_from_everything(s: Session) -> None:
    assert advice_services(s, 10.0, 10.0) == []


# ---------------------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "kw",
    [
        dict(offer_types=("lehre",)),
        dict(offer_types=("praktikum", "bogus")),
        dict(radius_km=0),
        dict(radius_km=-5),
        dict(radius_km=MAX_RADIUS_KM + 1),
        dict(lat=50.0),
        dict(lon=9.0),
        dict(page=-1),
        dict(page_size=0),
        dict(page_size=21),
    ],
)
def test_query_validation(kw: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        OfferQuery(**kw)


def test_query_defaults() -> None:
    q = OfferQuery()
    assert not q.has_place and q.radius_km == 25 and q.page == 0 and q.include_demo
    assert OfferQuery(lat=50.0, lon=9.0, radius_km=MAX_RADIUS_KM).has_place


# ---------------------------------------------------------------------------------------------- demo offers


@dataclass
class DemoKB:
    factory: sessionmaker[Session]
    first: Any
    second: Any
    before: list[tuple[Any, ...]]
    after_first: list[tuple[Any, ...]]
    after_second: list[tuple[Any, ...]]
    imported: list[tuple[Any, ...]]
    imported_after: list[tuple[Any, ...]]


def offer_rows(session: Session, *sources: str) -> list[tuple[Any, ...]]:
    columns = [c for c in Offer.__table__.columns]
    return [tuple(r) for r in session.execute(select(*columns).where(Offer.source.in_(sources)).order_by(Offer.id))]


@pytest.fixture(scope="module")
def demo_kb(pristine_kb: Path) -> DemoKB:
    path = pristine_kb.with_name("demo.sqlite3")
    shutil.copy(pristine_kb, path)
    factory = make_session_factory(make_engine(f"sqlite:///{path}"))
    with session_scope(factory) as s:
        kassel = resolve_place(s, "Kassel").best
        assert kassel is not None
        for source in ("ba", "csv"):  # imported offers, one with a source_id the generator also uses
            s.add(Provider(source=source, source_id="demo-betrieb-x", kind="betrieb", name=f"{source} Betrieb",
                           updated_at=STAMP))
            s.flush()
            pid = s.scalar(select(Provider.id).where(Provider.source == source))
            for n, sid in enumerate(("demo-000001", "demo-000002", f"{source}-1")):
                s.add(Offer(source=source, source_id=sid, title=f"{source} {n}", provider_id=pid,
                            offer_type="betrieblich", lat=kassel.lat, lon=kassel.lon, updated_at=STAMP))
        s.flush()
        imported = offer_rows(s, "ba", "csv")
    with session_scope(factory) as s:
        before = offer_rows(s, "demo")
        first = load_demo_offers(s, "small", today=TODAY)
    with session_scope(factory) as s:
        after_first = offer_rows(s, "demo")
        second = load_demo_offers(s, "small", today=TODAY)
    with session_scope(factory) as s:
        after_second = offer_rows(s, "demo")
        imported_after = offer_rows(s, "ba", "csv")
    return DemoKB(factory, first, second, before, after_first, after_second, imported, imported_after)


def test_demo_generation_is_deterministic(s: Session) -> None:
    a = generate_demo_offers(s, 300, today=TODAY)
    b = generate_demo_offers(s, 300, today=TODAY)
    assert a.offers == b.offers and a.providers == b.providers
    assert len(a.offers) == 300
    other_seed = generate_demo_offers(s, 300, seed=1, today=TODAY)
    assert other_seed.offers != a.offers


def test_demo_load_is_idempotent(demo_kb: DemoKB) -> None:
    assert demo_kb.before == []
    assert demo_kb.first.offers.inserted == DEMO_SIZES["small"] == len(demo_kb.after_first)
    assert demo_kb.second.changed == 0
    assert demo_kb.second.offers.unchanged == DEMO_SIZES["small"]
    assert demo_kb.after_second == demo_kb.after_first


def test_demo_load_never_touches_imported_offers(demo_kb: DemoKB) -> None:
    assert len(demo_kb.imported) == 6
    assert demo_kb.imported_after == demo_kb.imported
    with session_scope(demo_kb.factory) as s:
        providers = s.execute(select(Provider.source, Provider.name).where(Provider.source.in_(("ba", "csv"))))
        assert sorted(providers) == [("ba", "ba Betrieb"), ("csv", "csv Betrieb")]


def test_demo_offers_are_labelled(demo_kb: DemoKB) -> None:
    with session_scope(demo_kb.factory) as s:
        offers = s.execute(select(Offer.title, Offer.is_demo, Provider.name, Provider.is_demo, Provider.source)
                           .join(Provider).where(Offer.source == "demo")).all()
    assert len(offers) == DEMO_SIZES["small"]
    for title, is_demo, provider, provider_demo, source in offers:
        assert title.startswith("[Demo]") and is_demo and provider_demo and source == "demo", title
        assert provider.startswith("Demo-"), provider


def test_demo_offers_cover_every_hessian_district(demo_kb: DemoKB) -> None:
    with session_scope(demo_kb.factory) as s:
        codes = {d.code for d in hessian_districts(s)}
        at_place = and_(Offer.postcode == Place.postcode, Offer.place_name == Place.name)
        covered = set(s.scalars(select(Place.district_code).join(Offer, at_place)
                                .where(Offer.source == "demo", Place.state == "Hessen").distinct()))
        counselling = set(s.scalars(select(Place.district_code).join(Offer, at_place)
                                    .where(Offer.source == "demo", Offer.offer_type == "beratung").distinct()))
        types = set(s.scalars(select(Offer.offer_type).where(Offer.source == "demo").distinct()))
        deadlines = s.scalars(select(Offer.application_deadline).where(
            Offer.source == "demo", Offer.application_deadline.is_not(None))).all()
        parttime = s.scalar(select(func.count()).where(Offer.source == "demo", Offer.parttime_possible))
    assert len(codes) == 26 and covered == codes and counselling == codes
    assert {"betrieblich", "praktikum", "eq", "schulisch", "beratung"} <= types
    assert deadlines and all(d > TODAY for d in deadlines)
    assert 0.1 * DEMO_SIZES["small"] < (parttime or 0) < 0.5 * DEMO_SIZES["small"]


def test_smaller_demo_load_replaces_demo_offers_only(pristine_kb: Path) -> None:
    path = pristine_kb.with_name("demo-resize.sqlite3")
    shutil.copy(pristine_kb, path)
    factory = make_session_factory(make_engine(f"sqlite:///{path}"))
    with session_scope(factory) as s:
        o = Offers(s)
        o.add("kept", EDGE, 0, 1)
    with session_scope(factory) as s:
        load_demo_offers(s, 400, today=TODAY)
    with session_scope(factory) as s:
        report = load_demo_offers(s, 150, today=TODAY)
        assert report.offers.deleted == 250
    with session_scope(factory) as s:
        assert s.scalar(select(func.count()).where(Offer.source == "demo")) == 150
        assert s.scalar(select(func.count()).where(Offer.source == "csv")) == 1


def test_kassel_search_on_demo_offers_is_sorted_by_band(demo_kb: DemoKB) -> None:
    with session_scope(demo_kb.factory) as s:
        kassel = resolve_place(s, "Kassel").best
        assert kassel is not None
        centre = (kassel.lat, kassel.lon)
        q = query(centre, radius_km=25, include_demo=True, page_size=20)
        pages = all_pages(s, q)
        hits = [h for p in pages for h in p.hits]
        rows = {r.id: r for r in s.execute(select(Offer.id, Offer.lat, Offer.lon, Offer.updated_at,
                                                   Offer.application_deadline))}
        expected = sorted(
            (r for r in rows.values() if r.lat is not None and haversine_km(*centre, r.lat, r.lon) <= 25
             and (r.application_deadline is None or r.application_deadline >= TODAY)),
            key=lambda r: (band_of(centre, r.lat, r.lon), -r.updated_at.timestamp(), r.id),
        )
    shown = min(len(expected), COUNT_CAP)  # paging ends at the count cap
    assert len(expected) > 50
    assert pages[0].total == shown and pages[0].total_capped == (len(expected) >= COUNT_CAP)
    assert [h.id for h in hits] == [r.id for r in expected[:shown]]
    bands = [band_of(centre, rows[h.id].lat, rows[h.id].lon) for h in hits]
    assert bands == sorted(bands) and bands[0] == 0
    assert all(h.distance_km is not None and h.distance_km <= 25 for h in hits)
