"""The offer search on real PostgreSQL: the same hand-placed offers as tests/unit/test_offer_search.py (radius
edges, filters, paging, ranking, count cap) and the demo offers with a search around Kassel."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db import make_engine, make_session_factory, session_scope
from core.migrate import upgrade
from knowledge_base.demo_offers import DEMO_SIZES, load_demo_offers
from knowledge_base.models import Occupation, Offer
from knowledge_base.offer_search import COUNT_CAP, OfferQuery, count_offers, haversine_km, search_offers
from knowledge_base.places import resolve_place
from tests.conftest import build_kb
from tests.integration.conftest import PG_HOST, PG_PORT, PG_USER, _admin
from tests.unit.test_offer_search import (
    BOUNDARY,
    CAP,
    CAP_OFFERS,
    EDGE,
    EDGE_BEARINGS,
    FILTER_ALL,
    FILTERS,
    KB,
    RANKING,
    RANKING_ORDER,
    TODAY,
    add_all_offers,
    all_pages,
    band_of,
    found,
    keys,
    query,
)

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def offers_pg_url(pg_url: str) -> Iterator[str]:
    """A database of its own (the shared test database also serves the production-stack conversation)."""
    name = f"bo_offers_{uuid.uuid4().hex[:8]}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def pg_kb(offers_pg_url: str) -> KB:
    upgrade(offers_pg_url)
    build_kb(offers_pg_url)
    factory = make_session_factory(make_engine(offers_pg_url))
    with session_scope(factory) as s:
        ids = add_all_offers(s)
    return KB(factory, ids)


@pytest.fixture(scope="module")
def demo_loaded(pg_kb: KB) -> sessionmaker[Session]:
    with session_scope(pg_kb.factory) as s:
        first = load_demo_offers(s, "small", today=TODAY)
    with session_scope(pg_kb.factory) as s:
        second = load_demo_offers(s, "small", today=TODAY)
    assert first.offers.inserted == DEMO_SIZES["small"]
    assert second.changed == 0, second.lines()
    return pg_kb.factory


@pytest.fixture
def s(pg_kb: KB) -> Iterator[Session]:
    with session_scope(pg_kb.factory) as session:
        yield session


def test_radius_edge_on_postgres(s: Session, pg_kb: KB) -> None:
    page = search_offers(s, query(EDGE, radius_km=25, page_size=20))
    assert sorted(keys(pg_kb, page)) == sorted(f"edge-in-{b}" for b in EDGE_BEARINGS)
    assert {h.distance_km for h in page.hits} == {24.9}
    assert count_offers(s, query(EDGE, radius_km=25.11)) == 2 * len(EDGE_BEARINGS)
    assert count_offers(s, query(EDGE, radius_km=24.89)) == 0


def test_filters_on_postgres(s: Session, pg_kb: KB) -> None:
    assert found(s, pg_kb, query(FILTERS, radius_km=10)) == FILTER_ALL
    assert found(s, pg_kb, query(FILTERS, radius_km=10, parttime_only=True)) == {"betr-part", "prak-part"}
    assert found(s, pg_kb, query(FILTERS, radius_km=10, offer_types=("praktikum",))) == {"prak", "prak-part"}
    assert found(s, pg_kb, query(FILTERS, radius_km=10, include_demo=False)) == FILTER_ALL - {"demo"}
    assert found(s, pg_kb, query(FILTERS, radius_km=10, start_from=dt.date(2027, 1, 1))) == {"prak-part", "dual"}
    later = found(s, pg_kb, query(FILTERS, radius_km=10, today=dt.date(2026, 5, 2)))
    assert FILTER_ALL - later == {"deadline-today", "deadline-later"}


def test_ranking_and_paging_on_postgres(s: Session, pg_kb: KB) -> None:
    expected = ["rank-" + k for k in RANKING_ORDER]
    for page_size in (1, 3, 4, 7, 20):
        pages = all_pages(s, query(RANKING, radius_km=50, page_size=page_size))
        assert [k for p in pages for k in keys(pg_kb, p)] == expected, page_size
        assert not pages[-1].has_more and all(p.has_more for p in pages[:-1])
    q = query(RANKING, radius_km=50, page_size=4)
    pages = [search_offers(s, OfferQuery(**{**q.__dict__, "page": n})) for n in range(4)]
    assert [len(p.hits) for p in pages] == [4, 4, 2, 0]
    assert [p.has_more for p in pages] == [True, True, False, False]


def test_count_cap_on_postgres(s: Session) -> None:
    page = search_offers(s, query(CAP, radius_km=20))
    assert page.total == COUNT_CAP and page.total_capped and page.has_more
    assert count_offers(s, query(CAP, radius_km=20), cap=CAP_OFFERS + 10) == CAP_OFFERS


def test_offer_just_beyond_a_band_boundary_is_paged_once_on_postgres(s: Session, pg_kb: KB) -> None:
    pages = all_pages(s, query(BOUNDARY, radius_km=50, page_size=4))
    shown = [k for p in pages for k in keys(pg_kb, p)]
    assert len(shown) == len(set(shown)) == 10, shown
    assert shown[0] == "bnd-b", shown


def test_demo_offers_and_kassel_search_on_postgres(demo_loaded: sessionmaker[Session]) -> None:
    with session_scope(demo_loaded) as s:
        kassel = resolve_place(s, "Kassel").best
        assert kassel is not None
        centre = (kassel.lat, kassel.lon)
        pages = all_pages(s, query(centre, radius_km=25, page_size=20), limit=5)
        hits = [h for p in pages for h in p.hits]
        assert pages[0].total > 50 and len(hits) == len({h.id for h in hits}) == min(100, pages[0].total)
        coords = dict(
            (r.id, (r.lat, r.lon)) for r in s.execute(select(Offer.id, Offer.lat, Offer.lon)
                                                      .where(Offer.id.in_([h.id for h in hits])))
        )
    assert all(h.is_demo and h.title.startswith("[Demo]") for h in hits)
    bands = [band_of(centre, *coords[h.id]) for h in hits]
    assert bands == sorted(bands) and bands[0] == 0
    for band in set(bands):  # freshest first within a band
        stamps = [h.updated_at for h, b in zip(hits, bands, strict=True) if b == band]
        assert stamps == sorted(stamps, reverse=True)
    assert all(haversine_km(*centre, *coords[h.id]) <= 25 for h in hits)


def test_kassel_tischler_search_on_postgres(demo_loaded: sessionmaker[Session]) -> None:
    with session_scope(demo_loaded) as s:
        tischler = s.scalar(select(Occupation.id).where(Occupation.name == "Tischler/-in"))
        kassel = resolve_place(s, "Kassel").best
        assert tischler is not None and kassel is not None
        page = search_offers(s, query((kassel.lat, kassel.lon), occupation_ids=(tischler,), radius_km=25))
    assert page.total > 0
    assert all(h.occupation_id == tischler and "Tischler" in h.title for h in page.hits)
