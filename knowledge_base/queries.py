"""Named read queries for the actions (SQLAlchemy 2.0 select style): the actions hold no SQL, they call these
(as Rasa's financial-demo keeps all SQL in one module). Searching offers and places has its own modules
(``offer_search``, ``places``); resolving names ``resolve``."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from knowledge_base.models import (
    Article,
    ArticleExample,
    FundingProgram,
    InterestField,
    MinimumTrainingPay,
    Occupation,
    OccupationAlias,
)


def occupation_by_id(session: Session, occupation_id: int) -> Occupation | None:
    return session.get(Occupation, occupation_id)


def occupation_by_name(session: Session, name: str) -> Occupation | None:
    return session.scalar(select(Occupation).where(Occupation.name == name))


def occupation_exists(session: Session, name: str) -> bool:
    return session.scalar(select(Occupation.id).where(Occupation.name == name)) is not None


def occupation_ids_and_names_like(session: Session, name: str) -> tuple[int | None, list[tuple[int, str]]]:
    """The id of the occupation called ``name`` (or None) and every occupation with the same KldB 5-digit code
    (chamber variants such as "Koch/Köchin (IH)" and "(HwEx)"), as (id, name)."""
    own = session.scalar(select(Occupation.id).where(Occupation.name == name))
    kldb5 = select(Occupation.kldb5).where(Occupation.name == name).scalar_subquery()
    rows = session.execute(select(Occupation.id, Occupation.name).where(Occupation.kldb5 == kldb5)).all()
    return own, [(row.id, row.name) for row in rows]


def occupation_ids_in_areas(session: Session, kldb2: list[str]) -> list[int]:
    """Every occupation of the given KldB occupational main groups (2 digits)."""
    return list(session.scalars(select(Occupation.id).where(Occupation.kldb2.in_(kldb2))))


def interest_field(session: Session, key: str) -> InterestField | None:
    return session.get(InterestField, key)


def interest_fields(session: Session) -> list[InterestField]:
    """All fields of interest, alphabetically by label."""
    return list(session.scalars(select(InterestField).order_by(InterestField.label)))


def faq_examples(session: Session) -> list[tuple[str, str]]:
    """(article key, example question) of every FAQ article, in content order."""
    rows = session.execute(
        select(Article.key, ArticleExample.text)
        .join(ArticleExample, ArticleExample.article_id == Article.id)
        .order_by(Article.key, ArticleExample.position)
    )
    return [(key, text) for key, text in rows]


def article(session: Session, key: str) -> Article | None:
    return session.scalar(select(Article).where(Article.key == key))


def funding_program(session: Session, key: str) -> FundingProgram | None:
    return session.scalar(
        select(FundingProgram).where(FundingProgram.key == key).options(selectinload(FundingProgram.amounts))
    )


def funding_programs(session: Session) -> list[FundingProgram]:
    return list(session.scalars(select(FundingProgram).order_by(FundingProgram.id)))


def minimum_pay(session: Session) -> list[MinimumTrainingPay]:
    return list(
        session.scalars(
            select(MinimumTrainingPay).order_by(MinimumTrainingPay.start_year, MinimumTrainingPay.training_year)
        )
    )


def lookup_names(session: Session) -> list[str]:
    """Every readable occupation name and alias, for the NLU lookup table (no gender slashes)."""
    names = session.scalars(select(OccupationAlias.alias).distinct().order_by(OccupationAlias.alias))
    return [n for n in names if "/" not in n and "(" not in n and len(n) >= 3]


def search_articles(session: Session, query: str, limit: int = 8) -> list[Article]:
    """Articles whose title, key or short text contains every word of ``query`` (case-insensitive), title
    matches first; for the adviser console's reply box."""
    words = [w[:60] for w in query.split()[:5]]
    if not words:
        return []
    stmt = select(Article)
    for word in words:
        pattern = "%" + word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(func.lower(Article.title).like(pattern, escape="\\"),
                              func.lower(Article.key).like(pattern, escape="\\"),
                              func.lower(Article.summary).like(pattern, escape="\\")))
    found = list(session.scalars(stmt.order_by(Article.title).limit(100)))
    first = words[0].lower()
    found.sort(key=lambda a: (first not in a.title.lower(), a.title.lower()))
    return found[:limit]


def article_titles(session: Session) -> list[tuple[str, str]]:
    """(key, title) of every topic article, by key (the console's review of missed messages offers them)."""
    return [(key, title) for key, title in session.execute(select(Article.key, Article.title).order_by(Article.key))]


def faq_articles(session: Session) -> list[Article]:
    """Every FAQ article (the articles that have example questions) with its examples, ordered by key."""
    has_examples = select(ArticleExample.article_id).distinct()
    stmt = (
        select(Article)
        .where(Article.id.in_(has_examples))
        .options(selectinload(Article.examples))
        .order_by(Article.key)
    )
    return list(session.scalars(stmt))
