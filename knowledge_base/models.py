"""SQLAlchemy 2.0 models of the knowledge base."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base


class SourcedMixin:
    """Every fact names where it comes from and how current it is."""

    source_name: Mapped[str] = mapped_column(String(300))
    source_url: Mapped[str] = mapped_column(String(500))
    stand: Mapped[dt.date] = mapped_column(Date)
    to_verify: Mapped[bool] = mapped_column(default=False)


class KldbArea(Base):
    """KldB 2010 occupational main group (Berufshauptgruppe, 2 digits)."""

    __tablename__ = "kldb_area"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Occupation(SourcedMixin, Base):
    __tablename__ = "occupation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kldb5: Mapped[str] = mapped_column(String(5), index=True)
    kldb2: Mapped[str] = mapped_column(String(2), ForeignKey("kldb_area.code"), index=True)
    kldb_class_name: Mapped[str | None] = mapped_column(String(300))
    reorganised_year: Mapped[int | None]
    training_type: Mapped[str] = mapped_column(String(20))  # dual | schulisch
    in_bibb_list: Mapped[bool]
    curated: Mapped[bool] = mapped_column(default=False)
    rank: Mapped[int | None]  # position in occupations.yml (most chosen first); None for uncurated
    duration_months: Mapped[int | None]
    school_qualification: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    tasks: Mapped[list[str]] = mapped_column(JSON, default=list)
    parttime_common: Mapped[bool | None]
    interests: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Key of the article that says which pay rule applies instead of the BBiG minimum pay (school-based
    # trainings: Pflegeberufegesetz, Fachschule …); None: § 17 BBiG (dual trainings)
    pay_rule: Mapped[str | None] = mapped_column(String(80))

    area: Mapped[KldbArea] = relationship(lazy="joined")
    aliases: Mapped[list[OccupationAlias]] = relationship(
        back_populates="occupation", cascade="all, delete-orphan"
    )


class OccupationAlias(Base):
    """A way people name an occupation: official gender forms, older names, slang, misspellings."""

    __tablename__ = "occupation_alias"
    __table_args__ = (UniqueConstraint("normalized", "occupation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occupation_id: Mapped[int] = mapped_column(ForeignKey("occupation.id", ondelete="CASCADE"), index=True)
    alias: Mapped[str] = mapped_column(String(200))
    normalized: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # official | curated

    occupation: Mapped[Occupation] = relationship(back_populates="aliases")


class FundingProgram(SourcedMixin, Base):
    __tablename__ = "funding_program"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(80))
    region: Mapped[str] = mapped_column(String(20))
    synonyms: Mapped[list[str]] = mapped_column(JSON, default=list)
    summary: Mapped[str] = mapped_column(Text)
    eligibility: Mapped[str] = mapped_column(Text)
    how_to_apply: Mapped[str] = mapped_column(Text)
    apply_url: Mapped[str] = mapped_column(String(500))
    article: Mapped[str | None] = mapped_column(String(80))  # key of the FAQ article that answers it

    amounts: Mapped[list[FundingAmount]] = relationship(
        back_populates="program", cascade="all, delete-orphan", order_by="FundingAmount.position"
    )


class FundingAmount(Base):
    __tablename__ = "funding_amount"
    __table_args__ = (UniqueConstraint("program_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("funding_program.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    label: Mapped[str] = mapped_column(String(300))
    amount_eur: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    period: Mapped[str] = mapped_column(String(20))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    to_verify: Mapped[bool] = mapped_column(default=False)

    program: Mapped[FundingProgram] = relationship(back_populates="amounts")


class Article(SourcedMixin, Base):
    """A topic article (FAQ): part-time training, going abroad, advice services ..."""

    __tablename__ = "article"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    topic: Mapped[str] = mapped_column(String(40), index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    related: Mapped[list[str]] = mapped_column(JSON, default=list)
    next_step: Mapped[str | None] = mapped_column(String(80))  # FAQ articles: the concrete next step …
    next_url: Mapped[str | None] = mapped_column(String(500))  # … and where it happens

    examples: Mapped[list[ArticleExample]] = relationship(
        back_populates="article", order_by="ArticleExample.position", cascade="all, delete-orphan"
    )


class ArticleExample(Base):
    """How people ask for an article (FAQ): the examples that recognising the question learns from."""

    __tablename__ = "article_example"
    __table_args__ = (UniqueConstraint("article_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    text: Mapped[str] = mapped_column(Text)

    article: Mapped[Article] = relationship(back_populates="examples")


class MinimumTrainingPay(SourcedMixin, Base):
    """Mindestausbildungsvergütung (§ 17 BBiG) by year the training starts and training year."""

    __tablename__ = "minimum_training_pay"
    __table_args__ = (UniqueConstraint("start_year", "training_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    start_year: Mapped[int]
    training_year: Mapped[int]
    amount_eur: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    note: Mapped[str] = mapped_column(Text, default="")


class InterestField(Base):
    __tablename__ = "interest_field"

    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    kldb2: Mapped[list[str]] = mapped_column(JSON, default=list)


class Place(Base):
    """A German postcode with its place name (GeoNames gazetteer): one row per postcode and place."""

    __tablename__ = "place"
    __table_args__ = (UniqueConstraint("postcode", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    postcode: Mapped[str] = mapped_column(String(5), index=True)
    name: Mapped[str] = mapped_column(String(200))
    normalized: Mapped[str] = mapped_column(String(200), index=True)
    state: Mapped[str] = mapped_column(String(60), index=True)
    district: Mapped[str] = mapped_column(String(120))  # Kreis or kreisfreie Stadt
    district_code: Mapped[str] = mapped_column(String(5), index=True)  # amtlicher Kreisschlüssel
    lat: Mapped[float]
    lon: Mapped[float]


class PlaceAlias(Base):
    """A curated short or colloquial name of a place: "FFM" → Frankfurt am Main, "KS" → Kassel."""

    __tablename__ = "place_alias"

    normalized: Mapped[str] = mapped_column(String(100), primary_key=True)
    alias: Mapped[str] = mapped_column(String(100))
    place_name: Mapped[str] = mapped_column(String(200))  # Place.name
    district_code: Mapped[str | None] = mapped_column(String(5))  # which one, where the name is ambiguous


class Provider(Base):
    """Who offers training: a company, a school, a chamber, an education provider or a counselling service."""

    __tablename__ = "provider"
    __table_args__ = (UniqueConstraint("source", "source_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))  # ba | csv | demo
    source_id: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))  # betrieb | schule | kammer | traeger | beratung
    name: Mapped[str] = mapped_column(String(300))
    street: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(5))
    place_name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(60))
    email: Mapped[str | None] = mapped_column(String(200))
    website: Mapped[str | None] = mapped_column(String(500))
    is_demo: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)

    offers: Mapped[list[Offer]] = relationship(back_populates="provider", passive_deletes=True)


_SEARCH_COLUMNS = ("offer_type", "parttime_possible", "is_demo", "application_deadline", "start_date", "updated_at")


class Offer(Base):
    """A training offer (Ausbildungsplatz, Praktikum, EQ, Beratung …) at a place, from one source."""

    __tablename__ = "offer"
    __table_args__ = (
        UniqueConstraint("source", "source_id"),
        # Covering indexes for the offer search (see offer_search.py): bounding box and filters from the index alone.
        Index("ix_offer_search", "lat", "lon", "occupation_id", *_SEARCH_COLUMNS),
        Index("ix_offer_occupation_search", "occupation_id", "lat", "lon", *_SEARCH_COLUMNS),
        Index("ix_offer_type_search", "offer_type", "lat", "lon", "occupation_id", *_SEARCH_COLUMNS[1:]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))  # ba | csv | demo
    source_id: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300))
    occupation_id: Mapped[int | None] = mapped_column(ForeignKey("occupation.id", ondelete="SET NULL"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id", ondelete="CASCADE"), index=True)
    offer_type: Mapped[str] = mapped_column(String(30))  # key of offer_search.OFFER_TYPE_LABELS
    parttime_possible: Mapped[bool] = mapped_column(default=False)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    application_deadline: Mapped[dt.date | None] = mapped_column(Date)
    street: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(5), index=True)
    place_name: Mapped[str | None] = mapped_column(String(200))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    url: Mapped[str | None] = mapped_column(String(500))
    is_demo: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)  # last update at the source

    provider: Mapped[Provider] = relationship(back_populates="offers")
    occupation: Mapped[Occupation | None] = relationship()
