"""SQLAlchemy 2.0 models of the knowledge base."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


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
