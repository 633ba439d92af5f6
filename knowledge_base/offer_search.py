"""Search training offers by occupation, place + radius, type, part-time and start date.

How a search runs (one SQL statement for the count, one for the page, on SQLite and PostgreSQL alike):

1. Bounding-box prefilter on the indexed ``lat``/``lon`` columns (``ix_offer_lat_lon``, and
   ``ix_offer_occupation_lat_lon`` when occupations are given): only offers inside the square around the place
   are looked at.
2. Exact great-circle distance (haversine, in SQL) for those offers; offers beyond the radius drop out.
3. Ranking by distance and freshness: offers fall into distance bands (``DISTANCE_BANDS_KM``); inside a band the
   most recently updated offer comes first. Without a place, the freshest offers come first.

Offers whose application deadline has passed are never shown.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, bindparam, case, func, or_, select
from sqlalchemy.orm import Session

from knowledge_base.models import Occupation, Offer, Provider

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180
DEFAULT_RADIUS_KM = 25.0
MAX_RADIUS_KM = 200.0
DISTANCE_BANDS_KM = (5.0, 10.0, 20.0, 35.0, 50.0, 75.0, 100.0)
MAX_PAGE_SIZE = 20
COUNT_CAP = 1000

OFFER_TYPE_LABELS: dict[str, str] = {
    "betrieblich": "Ausbildung im Betrieb",
    "dual_studium": "Duales Studium",
    "schulisch": "Schulische Ausbildung",
    "praktikum": "Praktikum",
    "eq": "Einstiegsqualifizierung (EQ)",
    "berufsvorbereitung": "Berufsvorbereitung",
    "ausbildungsbegleitend": "Ausbildungsbegleitende Hilfe",
    "beratung": "Beratungsangebot",
}
TRAINING_TYPES = ("betrieblich", "dual_studium", "schulisch")


@dataclass(frozen=True)
class OfferQuery:
    """What to look for; every criterion is optional (empty = any)."""

    occupation_ids: tuple[int, ...] = ()
    lat: float | None = None
    lon: float | None = None
    radius_km: float = DEFAULT_RADIUS_KM
    offer_types: tuple[str, ...] = ()
    parttime_only: bool = False
    start_from: dt.date | None = None
    start_until: dt.date | None = None
    include_demo: bool = True
    today: dt.date | None = None  # for the deadline filter; defaults to the current date
    page: int = 0
    page_size: int = 4

    def __post_init__(self) -> None:
        unknown = set(self.offer_types) - set(OFFER_TYPE_LABELS)
        if unknown:
            raise ValueError(f"unknown offer types: {sorted(unknown)}")
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon go together")
        if not 0 < self.radius_km <= MAX_RADIUS_KM:
            raise ValueError(f"radius must be in (0, {MAX_RADIUS_KM}] km")
        if self.page < 0 or not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValueError("page must be >= 0 and page_size in 1..20")

    @property
    def has_place(self) -> bool:
        return self.lat is not None and self.lon is not None


@dataclass(frozen=True)
class OfferHit:
    id: int
    title: str
    offer_type: str
    type_label: str
    provider_name: str
    provider_kind: str
    place_name: str | None
    postcode: str | None
    distance_km: float | None
    start_date: dt.date | None
    application_deadline: dt.date | None
    parttime_possible: bool
    is_demo: bool
    url: str | None
    phone: str | None
    email: str | None
    website: str | None
    occupation_id: int | None
    updated_at: dt.datetime


@dataclass(frozen=True)
class OfferPage:
    hits: list[OfferHit]
    total: int
    page: int
    page_size: int
    total_capped: bool = False  # there are more than COUNT_CAP (total is then COUNT_CAP)

    @property
    def has_more(self) -> bool:
        return (self.page + 1) * self.page_size < self.total

    @property
    def shown_until(self) -> int:
        return min(self.total, (self.page + 1) * self.page_size)


@dataclass(frozen=True)
class RelatedOccupation:
    occupation_id: int
    name: str
    offers: int


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km (the same formula as the SQL expression)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


def bounding_box(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) of a box that contains the circle (with a small margin)."""
    dlat = radius_km / KM_PER_DEGREE * 1.01
    max_abs_lat = min(89.0, abs(lat) + dlat)
    dlon = radius_km / (KM_PER_DEGREE * math.cos(math.radians(max_abs_lat))) * 1.01
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


# The distance tests are built once, with bound parameters for the place ("c_lat", "c_lon", "c_k" …): building
# SQLAlchemy expressions per query would cost more than running them.
_LAT0, _LON0, _K = bindparam("c_lat", type_=Float), bindparam("c_lon", type_=Float), bindparam("c_k", type_=Float)
_DLAT = Offer.lat - _LAT0
_DLON = (Offer.lon - _LON0) * _K
_FLAT = _DLAT * _DLAT + _DLON * _DLON
_HALF_DLAT = func.radians(Offer.lat - _LAT0) / 2.0
_HALF_DLON = func.radians(Offer.lon - _LON0) / 2.0
_HAVERSINE_KM = 2 * EARTH_RADIUS_KM * func.asin(
    func.sqrt(
        func.sin(_HALF_DLAT) * func.sin(_HALF_DLAT)
        + _K * func.cos(func.radians(Offer.lat)) * func.sin(_HALF_DLON) * func.sin(_HALF_DLON)
    )
)
_IN_CIRCLE = and_(
    _FLAT <= bindparam("c_outer", type_=Float),
    or_(_FLAT <= bindparam("c_inner", type_=Float), _HAVERSINE_KM <= bindparam("c_radius", type_=Float)),
)
_WITHIN_BAND = _FLAT <= bindparam("c_band", type_=Float)


def _deg2(km: float) -> float:
    return (km / KM_PER_DEGREE) ** 2


_BAND = case(*((_FLAT <= _deg2(km), n) for n, km in enumerate(DISTANCE_BANDS_KM)), else_=len(DISTANCE_BANDS_KM))


@dataclass(frozen=True)
class _Circle:
    """Distance tests in SQL for one place.

    ``_FLAT`` is the squared distance in degrees on a plane tangent at the place (no function calls, cheap). Its
    error grows with the latitude span, bounded by ``margin``: points clearly inside (flat ≤ (r·(1-margin))²) or
    outside (flat > (r·(1+margin))²) are decided by it; only the thin ring in between is checked with the exact
    haversine formula. The distance bands of the ranking use the planar measure.
    """

    lat: float
    lon: float
    radius_km: float

    @property
    def margin(self) -> float:
        dphi = self.radius_km / EARTH_RADIUS_KM
        return 1.5 * math.tan(min(math.radians(89.0), math.radians(abs(self.lat)) + dphi)) * dphi + 0.002

    def params(self, band_km: float | None = None) -> dict[str, float]:
        r = self.radius_km
        return {
            "c_lat": self.lat,
            "c_lon": self.lon,
            "c_k": math.cos(math.radians(self.lat)),
            "c_inner": _deg2(r * (1 - self.margin)),
            "c_outer": _deg2(r * (1 + self.margin)),
            "c_radius": r,
            "c_band": _deg2(band_km if band_km is not None else r * (1 + self.margin)),
        }


def _conditions(q: OfferQuery, box_km: float | None = None) -> list[ColumnElement[bool]]:
    today = q.today or dt.date.today()
    conds: list[ColumnElement[bool]] = [
        or_(Offer.application_deadline.is_(None), Offer.application_deadline >= today),
    ]
    if q.occupation_ids:
        conds.append(Offer.occupation_id.in_(q.occupation_ids))
    if q.offer_types:
        conds.append(Offer.offer_type.in_(q.offer_types))
    if q.parttime_only:
        conds.append(Offer.parttime_possible.is_(True))
    if q.start_from is not None:
        conds.append(Offer.start_date >= q.start_from)
    if q.start_until is not None:
        conds.append(Offer.start_date <= q.start_until)
    if not q.include_demo:
        conds.append(Offer.is_demo.is_(False))
    if q.has_place:
        assert q.lat is not None and q.lon is not None
        min_lat, max_lat, min_lon, max_lon = bounding_box(q.lat, q.lon, box_km or q.radius_km)
        conds += [Offer.lat.between(min_lat, max_lat), Offer.lon.between(min_lon, max_lon)]
    return conds


def _circle(q: OfferQuery) -> _Circle:
    assert q.lat is not None and q.lon is not None
    return _Circle(q.lat, q.lon, q.radius_km)


def _capped_count(
    session: Session, conds: list[ColumnElement[bool]], cap: int, params: dict[str, float] | None = None
) -> int:
    """How many offers match, counting at most ``cap`` (the scan stops there)."""
    limited = select(Offer.id).where(*conds).limit(cap).subquery()
    return session.scalar(select(func.count()).select_from(limited), params or {}) or 0


def _radii(q: OfferQuery) -> list[float]:
    """The distance bands up to the search radius, the radius itself last."""
    return [km for km in DISTANCE_BANDS_KM if km < q.radius_km] + [q.radius_km]


def count_offers(session: Session, q: OfferQuery, cap: int = COUNT_CAP) -> int:
    """Matching offers, at most ``cap``."""
    if not q.has_place:
        return _capped_count(session, _conditions(q), cap)
    circle = _circle(q)
    return _capped_count(session, _up_to_band(q, circle, q.radius_km), cap, circle.params())


def search_offers(session: Session, q: OfferQuery) -> OfferPage:
    """One page of offers matching ``q``: nearest distance band first, freshest first within a band.

    Counting stops at ``COUNT_CAP`` ("mehr als 1.000"). With a place, the page is looked for band by band: the
    smallest band that holds the whole page limits the page query to its small bounding box, so the first pages in a
    dense city stay cheap.
    """
    counted = count_offers(session, q, cap=COUNT_CAP + 1)
    total = min(counted, COUNT_CAP)
    offset = q.page * q.page_size
    page = OfferPage(hits=[], total=total, page=q.page, page_size=q.page_size, total_capped=counted > COUNT_CAP)
    if offset >= total:
        return page
    if not q.has_place:
        ids = session.scalars(
            select(Offer.id).where(*_conditions(q)).order_by(Offer.updated_at.desc(), Offer.id)
            .limit(q.page_size).offset(offset)
        ).all()
        return replace(page, hits=_hits(session, q, list(ids)))
    circle = _circle(q)
    need = offset + q.page_size
    radius = q.radius_km
    for radius in _radii(q):
        if radius == q.radius_km or _capped_count(
            session, _up_to_band(q, circle, radius), need, circle.params(radius)
        ) >= need:
            break
    order: list[Any] = [Offer.updated_at.desc(), Offer.id]
    if radius > DISTANCE_BANDS_KM[0]:  # inside the first band only freshness counts
        order.insert(0, _BAND)
    ids = session.scalars(
        select(Offer.id).where(*_up_to_band(q, circle, radius)).order_by(*order).limit(q.page_size).offset(offset),
        circle.params(radius),
    ).all()
    return replace(page, hits=_hits(session, q, list(ids)))


def _up_to_band(q: OfferQuery, circle: _Circle, band_km: float) -> list[ColumnElement[bool]]:
    """Offers in the search circle whose band (the same planar measure that orders them) ends at ``band_km`` or
    earlier: always a prefix of the full ranking, so pages never overlap or skip an offer."""
    if band_km >= q.radius_km:
        return [*_conditions(q), _IN_CIRCLE]
    box_km = min(q.radius_km, band_km * (1 + circle.margin))
    return [*_conditions(q, box_km=box_km), _IN_CIRCLE, _WITHIN_BAND]


def _hits(session: Session, q: OfferQuery, ids: list[int]) -> list[OfferHit]:
    if not ids:
        return []
    rows = session.execute(select(Offer, Provider).join(Provider).where(Offer.id.in_(ids))).all()
    by_id = {offer.id: (offer, provider) for offer, provider in rows}
    hits = []
    for offer_id in ids:
        offer, provider = by_id[offer_id]
        distance = None
        if q.has_place and offer.lat is not None and offer.lon is not None:
            assert q.lat is not None and q.lon is not None
            distance = haversine_km(q.lat, q.lon, offer.lat, offer.lon)
        hits.append(
            OfferHit(
                id=offer.id,
                title=offer.title,
                offer_type=offer.offer_type,
                type_label=OFFER_TYPE_LABELS.get(offer.offer_type, offer.offer_type),
                provider_name=provider.name,
                provider_kind=provider.kind,
                place_name=offer.place_name,
                postcode=offer.postcode,
                distance_km=None if distance is None else round(float(distance), 1),
                start_date=offer.start_date,
                application_deadline=offer.application_deadline,
                parttime_possible=offer.parttime_possible,
                is_demo=offer.is_demo,
                url=offer.url,
                phone=provider.phone,
                email=provider.email,
                website=provider.website,
                occupation_id=offer.occupation_id,
                updated_at=offer.updated_at,
            )
        )
    return hits


def related_occupations(session: Session, occupation_id: int, q: OfferQuery, limit: int = 3) -> list[RelatedOccupation]:
    """Occupations of the same KldB group (first 3 digits, else the same main group) that have offers matching
    ``q`` (its occupations replaced), most offers first."""
    occupation = session.get(Occupation, occupation_id)
    if occupation is None:
        return []
    for prefix in (occupation.kldb5[:3], occupation.kldb2):
        related = session.execute(
            select(Occupation.id, Occupation.name)
            .where(Occupation.kldb5.startswith(prefix), Occupation.id != occupation_id)
            .order_by(Occupation.curated.desc(), Occupation.rank, Occupation.name)
        ).all()
        names = dict(related)
        if not names:
            continue
        counted = replace(q, occupation_ids=tuple(names), page=0)
        conds = _conditions(counted) + ([_IN_CIRCLE] if counted.has_place else [])
        params = _circle(counted).params() if counted.has_place else {}
        rows = session.execute(
            select(Offer.occupation_id, func.count()).where(*conds).group_by(Offer.occupation_id), params
        ).all()
        found = [RelatedOccupation(int(oid), names[oid], int(n)) for oid, n in rows if oid in names and n]
        if found:
            return sorted(found, key=lambda r: (-r.offers, r.name))[:limit]
    return []


def occupations_in_results(session: Session, q: OfferQuery, limit: int = 4) -> list[RelatedOccupation]:
    """The occupations with the most offers matching ``q`` (all pages), to narrow a search without occupation."""
    conds = _conditions(q) + [Offer.occupation_id.is_not(None)] + ([_IN_CIRCLE] if q.has_place else [])
    params = _circle(q).params() if q.has_place else {}
    count = func.count().label("n")
    rows = session.execute(
        select(Offer.occupation_id, Occupation.name, count)
        .join(Occupation, Occupation.id == Offer.occupation_id)
        .where(*conds)
        .group_by(Offer.occupation_id, Occupation.name)
        .order_by(count.desc(), Occupation.name)
        .limit(limit),
        params,
    ).all()
    return [RelatedOccupation(int(oid), name, int(n)) for oid, name, n in rows if oid is not None]


def advice_services(session: Session, lat: float | None, lon: float | None, limit: int = 2) -> list[OfferHit]:
    """The nearest counselling offers (type ``beratung``) within 50 km, or the freshest ones without a place."""
    q = OfferQuery(lat=lat, lon=lon, radius_km=50.0, offer_types=("beratung",), page_size=limit)
    return search_offers(session, q).hits
