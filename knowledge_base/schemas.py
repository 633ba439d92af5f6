"""Pydantic models of the human-editable content files (validated before anything is written)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

Key = Field(pattern=r"^[a-z0-9_]+$", min_length=2, max_length=80)
NonEmpty = Field(min_length=1)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Sourced(Strict):
    source_name: str = NonEmpty
    source_url: HttpUrl
    stand: dt.date
    to_verify: bool = False


class BibbOccupation(BaseModel):
    name: str = NonEmpty
    kldb5: str = Field(pattern=r"^\d{5}$")
    kldb4: str | None = None
    neuordnung: int | None = None


class BibbFile(BaseModel):
    meta: dict[str, Any] = Field(alias="_meta")
    ausbildungsberufe: list[BibbOccupation]


class KldbClass(BaseModel):
    code: str = Field(pattern=r"^\d{5}$")
    name: str = NonEmpty


class KldbFile(BaseModel):
    kldbClasses: list[KldbClass]


class KldbAreaRow(Strict):
    code: str = Field(pattern=r"^\d{2}$")
    name: str = NonEmpty


class KldbAreasFile(Strict):
    areas: list[KldbAreaRow]


class CuratedOccupation(Strict):
    name: str = NonEmpty
    training_type: Literal["dual", "schulisch"]
    duration_months: int = Field(ge=12, le=60)
    school_qualification: str = NonEmpty
    description: str = NonEmpty
    tasks: list[str] = Field(min_length=1)
    parttime_common: bool
    interests: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)
    kldb5: str | None = Field(default=None, pattern=r"^\d{5}$")
    pay_rule: str | None = Field(default=None, pattern=r"^[a-z0-9_]+$")  # article key; required for schulisch
    source_name: str | None = None
    source_url: HttpUrl | None = None
    to_verify: bool = False


class OccupationsFile(Strict):
    stand: dt.date
    source_name: str = NonEmpty
    source_url: HttpUrl
    occupations: list[CuratedOccupation]


class InterestRow(Strict):
    key: str = Key
    label: str = NonEmpty
    keywords: list[str] = Field(min_length=1)
    kldb2: list[str] = Field(min_length=1)

    @field_validator("kldb2")
    @classmethod
    def _two_digits(cls, value: list[str]) -> list[str]:
        for code in value:
            if not (len(code) == 2 and code.isdigit()):
                raise ValueError(f"'{code}' ist kein zweistelliger KldB-Code")
        return value


class InterestsFile(Strict):
    interests: list[InterestRow]


class AmountRow(Strict):
    label: str = NonEmpty
    amount_eur: Decimal = Field(ge=0)
    period: Literal["monatlich", "jährlich", "einmalig", "gesamt"]
    valid_from: dt.date
    to_verify: bool = False


class FundingRow(Sourced):
    key: str = Key
    name: str = NonEmpty
    short_name: str = NonEmpty
    region: Literal["bund", "hessen", "eu"]
    synonyms: list[str] = Field(default_factory=list)
    summary: str = NonEmpty
    eligibility: str = NonEmpty
    how_to_apply: str = NonEmpty
    apply_url: HttpUrl
    amounts: list[AmountRow] = Field(default_factory=list)
    # the FAQ article that answers this programme in the chat when one exists (its twin: the same question, with the
    # training-specific details and its own source); the programme then keeps only the overview's line, its amounts
    # stand in the article (knowledge_base/loader.py check_references)
    article: str | None = Field(default=None, pattern=r"^[a-z0-9_]+$")


class FundingFile(Strict):
    programs: list[FundingRow]


Topic = Literal[
    "teilzeit", "verguetung", "ausland", "studium", "orientierung", "beratung", "unterstuetzung", "eltern",
    "attraktivitaet", "krise", "schutz",
]


class ArticleRow(Sourced):
    key: str = Key
    topic: Topic
    title: str = NonEmpty
    summary: str = NonEmpty
    body: str = NonEmpty
    related: list[str] = Field(default_factory=list)


class ArticlesFile(Strict):
    articles: list[ArticleRow]


FaqArea = Literal["bewerbung", "vertrag_start", "rechte_pflichten", "pruefungen", "geld_leben", "wege", "grundlagen"]
MAX_ANSWER_LINES = 8  # one chat bubble


class FaqArticleRow(Sourced):
    """A question of the training lifecycle, answered in one chat bubble; ``examples`` are how people ask it
    (training data for recognising the question, never shown)."""

    key: str = Key
    title: str = NonEmpty
    answer: str = NonEmpty
    next_step: str = Field(min_length=1, max_length=40)
    next_url: HttpUrl | None = None
    examples: list[str] = Field(min_length=3)
    related: list[str] = Field(default_factory=list)

    @field_validator("answer")
    @classmethod
    def _fits_a_bubble(cls, value: str) -> str:
        if len(value.splitlines()) > MAX_ANSWER_LINES:
            raise ValueError(f"höchstens {MAX_ANSWER_LINES} Zeilen")
        return value


class FaqFile(Strict):
    area: FaqArea
    articles: list[FaqArticleRow]


class PayRate(Strict):
    start_year: int = Field(ge=2020, le=2100)
    training_year: int = Field(ge=1, le=4)
    amount_eur: Decimal = Field(gt=0)


class MinimumPayFile(Sourced):
    note: str = ""
    rates: list[PayRate] = Field(min_length=1)


class PlaceRow(BaseModel):
    """One locality of the postcode gazetteer ``plz_de.csv``."""

    model_config = ConfigDict(str_strip_whitespace=True)

    postcode: str = Field(pattern=r"^\d{5}$")
    name: str = NonEmpty
    normalized: str = NonEmpty
    state: str = NonEmpty
    district: str = NonEmpty
    district_code: str = Field(pattern=r"^\d{5}$")
    lat: float = Field(ge=47.0, le=55.5)
    lon: float = Field(ge=5.5, le=15.5)


class PlaceAliasRow(Strict):
    alias: str = NonEmpty
    place: str = NonEmpty
    district_code: str | None = Field(default=None, pattern=r"^\d{5}$")


class PlaceAliasesFile(Strict):
    aliases: list[PlaceAliasRow]
