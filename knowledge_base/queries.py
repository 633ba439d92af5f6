"""Read queries used by the actions (SQLAlchemy 2.0 select style)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from knowledge_base.models import Article, FundingProgram, MinimumTrainingPay, Occupation, OccupationAlias


def occupation_by_id(session: Session, occupation_id: int) -> Occupation | None:
    return session.get(Occupation, occupation_id)


def occupation_by_name(session: Session, name: str) -> Occupation | None:
    return session.scalar(select(Occupation).where(Occupation.name == name))


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
