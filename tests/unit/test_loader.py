"""Loading content: validated first, one transaction, idempotent, errors name file, row and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from core.db import make_engine, make_session_factory, session_scope
from core.migrate import upgrade
from knowledge_base.loader import ContentError, load_content, read_content
from knowledge_base.models import Article, FundingProgram, MinimumTrainingPay, Occupation, OccupationAlias


def _fresh_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    upgrade(url)
    return url


def _edit(path: Path, mutate) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutate(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_good_content_loads_everything(session) -> None:  # type: ignore[no-untyped-def]
    assert session.scalar(select(func.count()).select_from(Occupation)) >= 500
    curated = session.scalar(select(func.count()).select_from(Occupation).where(Occupation.curated))
    assert curated >= 60
    schulisch = session.scalars(select(Occupation.name).where(Occupation.training_type == "schulisch")).all()
    assert any("Erzieher" in n for n in schulisch)
    assert any("Pflegefach" in n for n in schulisch)
    assert session.scalar(select(func.count()).select_from(OccupationAlias)) > 1000
    keys = set(session.scalars(select(FundingProgram.key)))
    assert {"bab", "asa_flex", "bvb", "eq", "aufstiegs_bafoeg", "kindergeld", "quabb", "schuelerticket"} <= keys
    assert session.scalar(select(Article).where(Article.key == "teilzeitausbildung")) is not None
    assert session.scalar(select(func.count()).select_from(MinimumTrainingPay)) >= 8


def test_every_fact_has_source_and_stand(session) -> None:  # type: ignore[no-untyped-def]
    for model in (Occupation, FundingProgram, Article, MinimumTrainingPay):
        for row in session.scalars(select(model)):
            assert row.source_url.startswith("https://"), (model.__name__, row.source_url)
            assert row.source_name and row.stand is not None


def test_loading_twice_changes_nothing(tmp_path: Path) -> None:
    url = _fresh_db(tmp_path)
    factory = make_session_factory(make_engine(url))
    content = read_content()
    with session_scope(factory) as s:
        first = load_content(s, content)
    with session_scope(factory) as s:
        second = load_content(s, content)
    assert first.changed > 0
    assert second.changed == 0, second.lines()


def test_changed_content_is_synced(tmp_path: Path, content_copy: Path) -> None:
    url = _fresh_db(tmp_path)
    factory = make_session_factory(make_engine(url))
    with session_scope(factory) as s:
        load_content(s, read_content(content_copy))

    def drop_last_article_and_rename_first(data: dict) -> None:
        dropped = data["articles"].pop()["key"]
        for article in data["articles"]:
            article["related"] = [r for r in article.get("related", []) if r != dropped]
        data["articles"][0]["title"] = "Neuer Titel"

    _edit(content_copy / "articles.yml", drop_last_article_and_rename_first)
    with session_scope(factory) as s:
        report = load_content(s, read_content(content_copy))
    assert report.tables["article"].updated >= 1  # the renamed one (+ those that referenced the dropped one)
    assert report.tables["article"].deleted == 1
    assert report.tables["occupation"].changed == 0


@pytest.mark.parametrize(
    ("file", "mutate", "row", "field"),
    [
        ("occupations.yml", lambda d: d["occupations"][2].pop("duration_months"), "occupations[3]", "duration_months"),
        ("occupations.yml", lambda d: d["occupations"][0].update(duration_months="lang"), "occupations[1]",
         "duration_months"),
        ("funding.yml", lambda d: d["programs"][1].update(stand="gestern"), "programs[2]", "stand"),
        ("funding.yml", lambda d: d["programs"][0].update(source_url="keine url"), "programs[1]", "source_url"),
        ("articles.yml", lambda d: d["articles"][0].update(topic="quatsch"), "articles[1]", "topic"),
        ("funding.yml", lambda d: d["programs"][0].update(article="gibtsnicht"), "programs[1]", "article"),
        ("funding.yml", lambda d: [p for p in d["programs"] if p["key"] == "kindergeld"][0].update(
            amounts=[{"label": "Kindergeld", "amount_eur": 255, "period": "monatlich", "valid_from": "2025-01-01"}]),
         "programs[", "amounts"),
        ("occupations.yml", lambda d: d["occupations"][0].update(name="Zauberer/-in"), "occupations[1]", "name"),
        ("occupations.yml", lambda d: d["occupations"][0].update(interests=["gibtsnicht"]), "occupations[1]",
         "interests"),
    ],
)
def test_bad_row_names_file_row_and_field(content_copy: Path, file, mutate, row, field) -> None:  # type: ignore[no-untyped-def]
    _edit(content_copy / file, mutate)
    with pytest.raises(ContentError) as info:
        read_content(content_copy)
    err = info.value
    assert err.file == file
    assert err.row is not None and err.row.startswith(row)
    assert err.field_name == field
    assert file in str(err) and field in str(err)


def test_duplicate_alias_is_rejected(content_copy: Path) -> None:
    def dupe(data: dict) -> None:
        data["occupations"][1]["aliases"].append(data["occupations"][0]["aliases"][0])

    _edit(content_copy / "occupations.yml", dupe)
    with pytest.raises(ContentError, match="Alias"):
        read_content(content_copy)


def test_broken_yaml_is_rejected(content_copy: Path) -> None:
    (content_copy / "funding.yml").write_text("programs: [ {key: bab\n", encoding="utf-8")
    with pytest.raises(ContentError, match="funding.yml"):
        read_content(content_copy)


def test_cli_loads_nothing_when_a_file_is_bad(tmp_path: Path, content_copy: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from knowledge_base.cli import main

    url = _fresh_db(tmp_path)
    monkeypatch.setenv("KB_DATABASE_URL", url)
    _edit(content_copy / "minimum_pay.yml", lambda d: d["rates"][0].update(amount_eur=-5))
    assert main(["load", "--content", str(content_copy)]) == 2
    assert "minimum_pay.yml" in capsys.readouterr().err
    factory = make_session_factory(make_engine(url))
    with session_scope(factory) as s:
        assert s.scalar(select(func.count()).select_from(Occupation)) == 0


def test_failed_write_rolls_back_everything(tmp_path: Path) -> None:
    url = _fresh_db(tmp_path)
    factory = make_session_factory(make_engine(url))
    with pytest.raises(RuntimeError), session_scope(factory) as s:
        load_content(s, read_content())
        raise RuntimeError("crash after writing")
    with session_scope(factory) as s:
        assert s.scalar(select(func.count()).select_from(Occupation)) == 0


# --- FAQ articles (knowledge_base/content/faq/*.yml) -------------------------------------------------------------


def test_faq_articles_are_loaded_with_source_stand_next_step_and_examples(session) -> None:  # type: ignore[no-untyped-def]
    from knowledge_base import queries

    faq = list(session.scalars(select(Article).where(Article.next_step.is_not(None))))
    assert len(faq) >= 80
    areas = {a.topic for a in faq}
    assert areas == {"bewerbung", "vertrag_start", "rechte_pflichten", "pruefungen", "geld_leben", "wege",
                     "grundlagen"}
    for article in faq:
        assert article.source_url.startswith("https://") and article.stand and article.source_name
        assert 1 <= len(article.summary.splitlines()) <= 8, article.key
        assert len(article.examples) >= 3, article.key
    examples = queries.faq_examples(session)
    assert len(examples) >= 3 * len(faq)
    assert ("vertrag_probezeit", queries.article(session, "vertrag_probezeit").examples[0].text) in examples


def test_a_faq_answer_longer_than_a_chat_bubble_is_rejected(content_copy: Path) -> None:
    path = content_copy / "faq" / "vertrag_start.yml"
    _edit(path, lambda d: d["articles"][1].update(answer="\n".join(f"Zeile {i}" for i in range(9))))
    with pytest.raises(ContentError) as info:
        read_content(content_copy)
    assert info.value.file == "vertrag_start.yml" and info.value.field_name == "answer"
    assert info.value.row is not None and info.value.row.startswith("articles[2]")


def test_a_faq_key_that_exists_twice_is_rejected(content_copy: Path) -> None:
    _edit(content_copy / "faq" / "grundlagen.yml", lambda d: d["articles"][0].update(key="teilzeitausbildung"))
    with pytest.raises(ContentError, match="teilzeitausbildung"):
        read_content(content_copy)
