"""Load the content files into the database: validate everything first, then write in one transaction.

Loading is a sync by natural keys: rows are inserted, updated or deleted so that the database equals the files.
Loading the same files twice therefore changes nothing. The postcode gazetteer (``plz_de.csv``, ~16,500 places) is
synced with bulk statements (``bulk_sync``) so that a load stays fast.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from sqlalchemy import ColumnElement, delete, insert, select, update
from sqlalchemy.orm import Session

from core.db import Base
from knowledge_base import schemas
from knowledge_base.gazetteer import GazetteerError, read_gazetteer
from knowledge_base.models import (
    Article,
    ArticleExample,
    FundingAmount,
    FundingProgram,
    InterestField,
    KldbArea,
    MinimumTrainingPay,
    Occupation,
    OccupationAlias,
    Place,
    PlaceAlias,
)
from knowledge_base.text import gender_forms, normalize

CONTENT_DIR = Path(__file__).resolve().parent / "content"
BIBB_SOURCE_URL = "https://www.bibb.de/de/14309.php"
M = TypeVar("M", bound=BaseModel)


class ContentError(Exception):
    """A content file is invalid; the message names file, row and field."""

    def __init__(self, file: str, message: str, row: str | None = None, field_name: str | None = None):
        self.file, self.row, self.field_name = file, row, field_name
        where = file + (f", Eintrag {row}" if row else "") + (f", Feld '{field_name}'" if field_name else "")
        super().__init__(f"{where}: {message}")


@dataclass
class Content:
    """All content files, parsed and validated."""

    bibb: schemas.BibbFile
    bibb_meta_stand: str
    kldb_classes: dict[str, str]
    areas: schemas.KldbAreasFile
    occupations: schemas.OccupationsFile
    interests: schemas.InterestsFile
    funding: schemas.FundingFile
    articles: schemas.ArticlesFile
    faq: dict[str, schemas.FaqFile]  # file name (faq/<area>.yml) → its articles
    minimum_pay: schemas.MinimumPayFile
    places: list[schemas.PlaceRow]
    place_aliases: schemas.PlaceAliasesFile


@dataclass
class TableCount:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> int:
        return self.inserted + self.updated + self.deleted


@dataclass
class LoadReport:
    tables: dict[str, TableCount] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return sum(t.changed for t in self.tables.values())

    def lines(self) -> list[str]:
        return [
            f"{name:24} +{c.inserted:<5} ~{c.updated:<5} -{c.deleted:<5} ={c.unchanged}"
            for name, c in self.tables.items()
        ]


# ---------------------------------------------------------------------------------------------- reading


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContentError(path.name, "Datei fehlt") from None
    try:
        return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise ContentError(path.name, f"keine gültige Datei: {exc}") from None


def _validate(model: type[M], path: Path) -> M:
    data = _read(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        row, field_name = _row_and_field(data, loc)
        raise ContentError(path.name, err["msg"], row=row, field_name=field_name) from None


def _row_and_field(data: Any, loc: list[str]) -> tuple[str | None, str | None]:
    """Turn a pydantic location like ('occupations', '11', 'tasks', '0') into row 12 (name) and field."""
    for i, part in enumerate(loc):
        if part.isdigit() and i > 0:
            index = int(part)
            label = f"{loc[i - 1]}[{index + 1}]"
            try:
                row = data[loc[i - 1]][index]
                ident = row.get("name") or row.get("key") if isinstance(row, dict) else None
                if ident:
                    label += f" ({ident})"
            except (KeyError, IndexError, TypeError):
                pass
            rest = ".".join(loc[i + 1 :]) or None
            return label, rest
    return None, ".".join(loc) or None


def read_content(content_dir: Path = CONTENT_DIR) -> Content:
    bibb = _validate(schemas.BibbFile, content_dir / "bibb_ausbildungsberufe.json")
    kldb = _validate(schemas.KldbFile, content_dir / "kldb2010_classes.json")
    content = Content(
        bibb=bibb,
        bibb_meta_stand=str(bibb.meta.get("extracted", "")),
        kldb_classes={c.code: c.name for c in kldb.kldbClasses},
        areas=_validate(schemas.KldbAreasFile, content_dir / "kldb_areas.yml"),
        occupations=_validate(schemas.OccupationsFile, content_dir / "occupations.yml"),
        interests=_validate(schemas.InterestsFile, content_dir / "interests.yml"),
        funding=_validate(schemas.FundingFile, content_dir / "funding.yml"),
        articles=_validate(schemas.ArticlesFile, content_dir / "articles.yml"),
        faq={f"faq/{p.name}": _validate(schemas.FaqFile, p) for p in sorted((content_dir / "faq").glob("*.yml"))},
        minimum_pay=_validate(schemas.MinimumPayFile, content_dir / "minimum_pay.yml"),
        places=_read_places(content_dir / "plz_de.csv"),
        place_aliases=_validate(schemas.PlaceAliasesFile, content_dir / "place_aliases.yml"),
    )
    check_references(content)
    check_place_aliases(content)
    return content


def _read_places(path: Path) -> list[schemas.PlaceRow]:
    try:
        return read_gazetteer(path).places
    except FileNotFoundError:
        raise ContentError(path.name, "Datei fehlt") from None
    except UnicodeDecodeError as exc:
        raise ContentError(path.name, f"keine gültige UTF-8-Datei: {exc}") from None
    except GazetteerError as exc:
        raise ContentError(path.name, str(exc), row=exc.row, field_name=exc.field_name) from None


def check_place_aliases(c: Content) -> None:
    """Every alias names a place of the gazetteer, unambiguously; no alias twice."""
    districts: dict[str, set[str]] = {}
    for place in c.places:
        districts.setdefault(place.name, set()).add(place.district_code)
    seen: set[str] = set()
    for n, a in enumerate(c.place_aliases.aliases, start=1):
        row = f"aliases[{n}] ({a.alias})"
        norm = normalize(a.alias)
        if not norm or norm in seen:
            raise ContentError("place_aliases.yml", f"Alias '{a.alias}' doppelt oder leer", row, "alias")
        seen.add(norm)
        codes = districts.get(a.place)
        if not codes:
            raise ContentError("place_aliases.yml", f"Ort '{a.place}' fehlt in plz_de.csv", row, "place")
        if a.district_code is None and len(codes) > 1:
            raise ContentError("place_aliases.yml", f"Ort '{a.place}' ist mehrdeutig: district_code angeben", row,
                               "district_code")
        if a.district_code is not None and a.district_code not in codes:
            raise ContentError("place_aliases.yml", f"Ort '{a.place}' liegt nicht im Kreis {a.district_code}", row,
                               "district_code")


def _duplicates(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    dupes = []
    for v in values:
        if v in seen:
            dupes.append(v)
        seen.add(v)
    return dupes


def check_references(c: Content) -> None:
    """Checks across files: names exist in the BIBB list, keys are unique, references resolve."""
    bibb_names = {o.name for o in c.bibb.ausbildungsberufe}
    area_codes = {a.code for a in c.areas.areas}
    interest_keys = {i.key for i in c.interests.interests}
    seen_aliases: dict[str, str] = {}
    for n, occ in enumerate(c.occupations.occupations, start=1):
        row = f"occupations[{n}] ({occ.name})"
        if occ.training_type == "dual" and occ.name not in bibb_names:
            raise ContentError("occupations.yml", "duale Ausbildung fehlt in der BIBB-Liste", row, "name")
        if occ.name not in bibb_names and occ.kldb5 is None:
            raise ContentError("occupations.yml", "Beruf außerhalb der BIBB-Liste braucht kldb5", row, "kldb5")
        if occ.kldb5 and occ.kldb5 not in c.kldb_classes:
            raise ContentError("occupations.yml", f"KldB-Code {occ.kldb5} unbekannt", row, "kldb5")
        if occ.training_type == "schulisch" and occ.pay_rule is None:
            raise ContentError("occupations.yml", "schulische Ausbildung braucht pay_rule (Artikel zur Vergütung)",
                               row, "pay_rule")
        for key in occ.interests:
            if key not in interest_keys:
                raise ContentError("occupations.yml", f"Interesse '{key}' fehlt in interests.yml", row, "interests")
        for alias in occ.aliases:
            norm = normalize(alias)
            if norm in seen_aliases and seen_aliases[norm] != occ.name:
                raise ContentError(
                    "occupations.yml", f"Alias '{alias}' gehört schon zu {seen_aliases[norm]}", row, "aliases"
                )
            seen_aliases[norm] = occ.name
    for dupe in _duplicates(o.name for o in c.occupations.occupations):
        raise ContentError("occupations.yml", f"Beruf '{dupe}' doppelt", None, "name")
    for fname, keys in (
        ("funding.yml", [p.key for p in c.funding.programs]),
        ("articles.yml", [a.key for a in c.articles.articles]),
        ("interests.yml", list(interest_keys)),
    ):
        for dupe in _duplicates(keys):
            raise ContentError(fname, f"Schlüssel '{dupe}' doppelt", None, "key")
    for n, interest in enumerate(c.interests.interests, start=1):
        for code in interest.kldb2:
            if code not in area_codes:
                raise ContentError(
                    "interests.yml", f"KldB-Gruppe {code} fehlt in kldb_areas.yml", f"interests[{n}]", "kldb2"
                )
    article_keys = [a.key for a in c.articles.articles] + [a.key for f in c.faq.values() for a in f.articles]
    for dupe in _duplicates(article_keys):
        raise ContentError("faq/", f"Artikel-Schlüssel '{dupe}' doppelt (articles.yml und faq/*.yml)", None, "key")
    for n, occ in enumerate(c.occupations.occupations, start=1):
        if occ.pay_rule is not None and occ.pay_rule not in article_keys:
            raise ContentError("occupations.yml", f"Artikel '{occ.pay_rule}' fehlt", f"occupations[{n}] ({occ.name})",
                               "pay_rule")
    for n, program in enumerate(c.funding.programs, start=1):
        if program.article is not None and program.article not in article_keys:
            raise ContentError("funding.yml", f"Artikel '{program.article}' fehlt", f"programs[{n}] ({program.key})",
                               "article")
        if program.article is not None and program.amounts:
            raise ContentError("funding.yml", "Beträge stehen im Artikel, nicht im Programm (eine Stelle pro Zahl)",
                               f"programs[{n}] ({program.key})", "amounts")
    known = {p.key for p in c.funding.programs} | set(article_keys)
    for n, article in enumerate(c.articles.articles, start=1):
        for ref in article.related:
            if ref not in known:
                raise ContentError("articles.yml", f"unbekannter Verweis '{ref}'", f"articles[{n}]", "related")
    for fname, faq in c.faq.items():
        for n, item in enumerate(faq.articles, start=1):
            for ref in item.related:
                if ref not in known:
                    raise ContentError(fname, f"unbekannter Verweis '{ref}'", f"articles[{n}] ({item.key})", "related")
    for bibb in c.bibb.ausbildungsberufe:
        if bibb.kldb5[:2] not in area_codes:
            raise ContentError("kldb_areas.yml", f"Berufshauptgruppe {bibb.kldb5[:2]} fehlt", None, "areas")
    pairs = [(r.start_year, r.training_year) for r in c.minimum_pay.rates]
    for dupe in _duplicates(f"{y}/{t}" for y, t in pairs):
        raise ContentError("minimum_pay.yml", f"Wert für {dupe} doppelt", None, "rates")


# ---------------------------------------------------------------------------------------------- desired rows


def occupation_rows(c: Content) -> list[dict[str, Any]]:
    curated = {o.name: o for o in c.occupations.occupations}
    doc = c.occupations
    rows: dict[str, dict[str, Any]] = {}
    for b in c.bibb.ausbildungsberufe:
        rows.setdefault(
            b.name,
            dict(
                name=b.name,
                kldb5=b.kldb5,
                kldb2=b.kldb5[:2],
                kldb_class_name=c.kldb_classes.get(b.kldb5),
                reorganised_year=b.neuordnung,
                training_type="dual",
                in_bibb_list=True,
                curated=False,
                duration_months=None,
                school_qualification=None,
                description=None,
                tasks=[],
                parttime_common=None,
                interests=[],
                pay_rule=None,
                rank=None,
                source_name="BIBB – Erhebungsberufe der Berufsbildungsstatistik, Berichtsjahr 2024",
                source_url=BIBB_SOURCE_URL,
                stand=_date(c.bibb_meta_stand),
                to_verify=False,
            ),
        )
    for rank, (name, occ) in enumerate(curated.items(), start=1):
        row = rows.get(name)
        if row is None:
            assert occ.kldb5 is not None
            row = rows[name] = dict(
                name=name,
                kldb5=occ.kldb5,
                kldb2=occ.kldb5[:2],
                kldb_class_name=c.kldb_classes.get(occ.kldb5),
                reorganised_year=None,
                in_bibb_list=False,
            )
        row.update(
            training_type=occ.training_type,
            curated=True,
            duration_months=occ.duration_months,
            school_qualification=occ.school_qualification,
            description=occ.description,
            tasks=list(occ.tasks),
            parttime_common=occ.parttime_common,
            interests=list(occ.interests),
            pay_rule=occ.pay_rule,
            rank=rank,
            source_name=occ.source_name or doc.source_name,
            source_url=str(occ.source_url or doc.source_url),
            stand=doc.stand,
            to_verify=occ.to_verify,
        )
    return list(rows.values())


def alias_rows(c: Content, ids: dict[str, int]) -> list[dict[str, Any]]:
    rows: dict[tuple[str, int], dict[str, Any]] = {}

    def add(alias: str, occupation: str, kind: str) -> None:
        norm = normalize(alias)
        if norm:
            rows.setdefault(
                (norm, ids[occupation]),
                dict(alias=alias, normalized=norm, occupation_id=ids[occupation], kind=kind),
            )

    for occ in c.occupations.occupations:
        for alias in occ.aliases:
            add(alias, occ.name, "curated")
    for name in ids:
        add(name, name, "official")
        for form in gender_forms(name):
            add(form, name, "official")
    return list(rows.values())


def _date(value: str) -> dt.date:
    return dt.date.fromisoformat(value[:10]) if value else dt.date(2024, 12, 31)


# ---------------------------------------------------------------------------------------------- sync


def sync_rows(
    session: Session, model: type[Base], key: Sequence[str], desired: list[dict[str, Any]]
) -> TableCount:
    """Make the table equal to ``desired`` (matched by the natural ``key`` columns)."""
    count = TableCount()
    existing = {tuple(getattr(obj, k) for k in key): obj for obj in session.scalars(select(model))}
    wanted_keys = set()
    for values in desired:
        k = tuple(values[c] for c in key)
        wanted_keys.add(k)
        obj = existing.get(k)
        if obj is None:
            session.add(model(**values))
            count.inserted += 1
            continue
        changed = False
        for column, value in values.items():
            if _differs(getattr(obj, column), value):
                setattr(obj, column, value)
                changed = True
        count.updated += changed
        count.unchanged += not changed
    for k, obj in existing.items():
        if k not in wanted_keys:
            session.delete(obj)
            count.deleted += 1
    session.flush()
    return count


def bulk_sync(
    session: Session,
    model: type[Base],
    key: Sequence[str],
    desired: list[dict[str, Any]],
    where: ColumnElement[bool] | None = None,
    delete_stale: bool = True,
    chunk: int = 5000,
) -> TableCount:
    """Like ``sync_rows`` for large tables: compares plain rows and writes with bulk INSERT/UPDATE/DELETE.

    ``model`` needs an integer primary key ``id``; every row of ``desired`` has the same columns. Only rows
    matching ``where`` take part (e.g. the demo offers of a table that also holds imported ones).
    """
    count = TableCount()
    columns = list(desired[0]) if desired else list(key)
    query = select(*(getattr(model, c) for c in ("id", *columns)))
    if where is not None:
        query = query.where(where)
    existing = {tuple(getattr(r, k) for k in key): r for r in session.execute(query)}
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    wanted = set()
    for values in desired:
        k = tuple(values[c] for c in key)
        wanted.add(k)
        row = existing.get(k)
        if row is None:
            inserts.append(values)
        elif any(_differs(getattr(row, c), values[c]) for c in columns):
            updates.append({"id": row.id, **values})
        else:
            count.unchanged += 1
    stale = [row.id for k, row in existing.items() if k not in wanted] if delete_stale else []
    ident = model.id  # type: ignore[attr-defined]
    for start in range(0, len(stale), chunk):
        session.execute(delete(model).where(ident.in_(stale[start : start + chunk])))
    for start in range(0, len(updates), chunk):
        session.execute(update(model), updates[start : start + chunk])
    for start in range(0, len(inserts), chunk):
        session.execute(insert(model), inserts[start : start + chunk])
    count.inserted, count.updated, count.deleted = len(inserts), len(updates), len(stale)
    return count


def _differs(current: Any, wanted: Any) -> bool:
    if isinstance(current, Decimal) or isinstance(wanted, Decimal):
        return Decimal(str(current)) != Decimal(str(wanted))
    return bool(current != wanted)


def load_content(session: Session, content: Content) -> LoadReport:
    """Write validated content; the caller owns the transaction."""
    report = LoadReport()
    t = report.tables
    t["kldb_area"] = sync_rows(
        session, KldbArea, ["code"], [dict(code=a.code, name=a.name) for a in content.areas.areas]
    )
    t["interest_field"] = sync_rows(
        session, InterestField, ["key"], [i.model_dump() for i in content.interests.interests]
    )
    t["occupation"] = sync_rows(session, Occupation, ["name"], occupation_rows(content))
    ids = dict(session.execute(select(Occupation.name, Occupation.id)).all())
    t["occupation_alias"] = sync_rows(
        session, OccupationAlias, ["normalized", "occupation_id"], alias_rows(content, ids)
    )
    programs = []
    for p in content.funding.programs:
        values = p.model_dump(exclude={"amounts"})
        values.update(source_url=str(p.source_url), apply_url=str(p.apply_url))
        programs.append(values)
    t["funding_program"] = sync_rows(session, FundingProgram, ["key"], programs)
    program_ids = dict(session.execute(select(FundingProgram.key, FundingProgram.id)).all())
    amounts = [
        dict(program_id=program_ids[p.key], position=i, **a.model_dump())
        for p in content.funding.programs
        for i, a in enumerate(p.amounts)
    ]
    t["funding_amount"] = sync_rows(session, FundingAmount, ["program_id", "position"], amounts)
    articles = []
    for a in content.articles.articles:
        values = a.model_dump()
        values.update(source_url=str(a.source_url), next_step=None, next_url=None)
        articles.append(values)
    for faq in content.faq.values():
        for item in faq.articles:
            values = item.model_dump(exclude={"examples", "answer"})
            values.update(topic=faq.area, summary=item.answer, body="", source_url=str(item.source_url),
                          next_url=str(item.next_url) if item.next_url else None)
            articles.append(values)
    t["article"] = sync_rows(session, Article, ["key"], articles)
    article_ids = dict(session.execute(select(Article.key, Article.id)).all())
    examples = [
        dict(article_id=article_ids[item.key], position=i, text=text)
        for faq in content.faq.values()
        for item in faq.articles
        for i, text in enumerate(item.examples)
    ]
    t["article_example"] = sync_rows(session, ArticleExample, ["article_id", "position"], examples)
    mp = content.minimum_pay
    pay = [
        dict(
            start_year=r.start_year,
            training_year=r.training_year,
            amount_eur=r.amount_eur,
            note=mp.note,
            source_name=mp.source_name,
            source_url=str(mp.source_url),
            stand=mp.stand,
            to_verify=mp.to_verify,
        )
        for r in mp.rates
    ]
    t["minimum_training_pay"] = sync_rows(session, MinimumTrainingPay, ["start_year", "training_year"], pay)
    t["place"] = bulk_sync(session, Place, ["postcode", "name"], [p.model_dump() for p in content.places])
    t["place_alias"] = sync_rows(session, PlaceAlias, ["normalized"], place_alias_rows(content))
    return report


def place_alias_rows(c: Content) -> list[dict[str, Any]]:
    return [
        dict(normalized=normalize(a.alias), alias=a.alias, place_name=a.place, district_code=a.district_code)
        for a in c.place_aliases.aliases
    ]
