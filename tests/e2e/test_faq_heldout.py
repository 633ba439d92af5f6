"""FAQ answers end to end on the held-out set tests/nlu/heldout/faq.yml (written separately, never used for
training or tuning): every message goes through the real Rasa server and action server as a new conversation;
a message counts as right when the bot answers with the expected article (its title opens the reply). Reports
top-1, top-2 (expected article answered or offered as a button), the per-area table, the intents of the missed
messages and how many out-of-scope messages got an article. The issue's bar of 90 % top-1 fails the test. The
FAQ retrieval answers the messages DIET does not understand, the announced questions and the questions DIET gives
to a broad topic intent when an article is clearly closer (docs/nlu.md), while the safety intents, the offer search
and the occupation answers keep theirs."""

from __future__ import annotations

import collections
import json
import statistics
import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge_base import queries
from knowledge_base.faq_search import nlu_examples
from knowledge_base.models import Article
from tests.rasa_cli import write_result
from tests.servers import Stack

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
HELDOUT = ROOT / "tests" / "nlu" / "heldout" / "faq.yml"
BAR_TOP1 = 0.90  # the bar: measured 359/394 = 91.1 % (2026-12-02, tenth round; 89.8 % in the ninth)
MAX_OUT_OF_SCOPE_ANSWERED = 0.10  # measured 1/44 = 2.3 %


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def training_texts(session: Session) -> set[str]:
    """Every text the model or the retrieval learned from: NLU examples and the articles' example questions."""
    texts = {_norm(t) for path in (ROOT / "nlu_data").glob("*.yml") for t in nlu_examples(path)}
    return texts | {_norm(t) for _, t in queries.faq_examples(session)}


def answered_key(messages: list[dict], titles: dict[str, str]) -> str | None:
    """The article whose title opens one of the bot's messages (utter_faq_answer, utter_article)."""
    for m in messages:
        first = (m.get("text") or "").split("\n", 1)[0].strip()
        if first in titles:
            return titles[first]
    return None


def offered_keys(messages: list[dict]) -> list[str]:
    keys = []
    for m in messages:
        for b in m.get("buttons") or []:
            payload = str(b.get("payload", ""))
            if payload.startswith("/ask_faq{"):
                keys.append(json.loads(payload[len("/ask_faq"):])["faq_key"])
    return keys


def test_faq_heldout_end_to_end(stack: Stack, session: Session) -> None:
    messages = yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))["messages"]
    articles = {a.key: a for a in session.scalars(select(Article))}
    titles = {a.title: a.key for a in articles.values()}
    assert len(titles) == len(articles), "article titles must be unique to tell the answers apart"
    seen = training_texts(session)
    kept = [m for m in messages if _norm(m["text"]) not in seen]
    removed = len(messages) - len(kept)
    inside = [m for m in kept if m["key"] != "out_of_scope"]
    outside = [m for m in kept if m["key"] == "out_of_scope"]
    assert all(m["key"] in articles for m in inside), "held-out keys must be articles of the knowledge base"

    top1: collections.Counter[str] = collections.Counter()
    top2: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    missed_intents: collections.Counter[str] = collections.Counter()
    seconds: list[float] = []
    for i, m in enumerate(inside):
        started = time.perf_counter()
        reply = stack.say(f"faq-heldout-{i}", m["text"])
        seconds.append(time.perf_counter() - started)
        area = articles[m["key"]].topic
        total[area] += 1
        got = answered_key(reply, titles)
        top1[area] += got == m["key"]
        top2[area] += got == m["key"] or (got is None and m["key"] in offered_keys(reply)[:2])
        if got != m["key"]:
            missed_intents[stack.parse(m["text"])["intent"]["name"]] += 1
    answered_outside = sum(
        answered_key(stack.say(f"faq-heldout-oos-{i}", m["text"]), titles) is not None for i, m in enumerate(outside)
    )

    n = sum(total.values())
    rate1, rate2 = sum(top1.values()) / n, sum(top2.values()) / n
    lines = [
        f"FAQ held-out end to end ({HELDOUT.relative_to(ROOT)}): {n} in-scope, {len(outside)} out-of-scope "
        f"messages; {removed} removed because they appear verbatim in the training data",
        f"top-1 (answered with the expected article): {sum(top1.values())}/{n} = {rate1:.1%} (issue's bar {BAR_TOP1:.0%}: "
        f"{'met' if rate1 >= BAR_TOP1 else 'NOT met'})",
        f"top-2 (answered, or offered among the two buttons when unsure): {sum(top2.values())}/{n} = {rate2:.1%}",
        "| area | top-1 | top-2 |",
        *(f"| {area} | {top1[area]}/{total[area]} = {top1[area] / total[area]:.0%} | {top2[area]}/{total[area]} |"
          for area in sorted(total)),
        f"out of scope answered with an article: {answered_outside}/{len(outside)}",
        "intent of the missed messages: " + ", ".join(f"{k} {v}" for k, v in missed_intents.most_common()),
        f"turn time (REST round trip, this machine): median {statistics.median(seconds) * 1000:.0f} ms, "
        f"p90 {statistics.quantiles(seconds, n=10)[-1] * 1000:.0f} ms",
    ]
    write_result("faq_heldout.txt", "\n".join(lines))
    assert len(inside) >= 300
    assert rate1 >= BAR_TOP1, "\n".join(lines)
    assert answered_outside / len(outside) <= MAX_OUT_OF_SCOPE_ANSWERED, "\n".join(lines)
