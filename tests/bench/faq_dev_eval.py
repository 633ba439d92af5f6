"""Development measurement of the FAQ answers and the safety net on the development sets (never on a held-out
set): every message goes through the real Rasa server and action server as a new conversation, like
tests/e2e/test_faq_heldout.py. Prints top-1 per area, where the misses went, and the safety rates. Used to choose
thresholds and routing; not part of `make test`.

    PYTHONPATH=. .venv/bin/python -m tests.bench.faq_dev_eval [tests/nlu/dev11/faq_dev11.yml] [tests/nlu/dev8/safety_dev8.yml]
"""

from __future__ import annotations

import collections
import json
import sys
import tempfile
from pathlib import Path

import yaml
from sqlalchemy import select

from actions.faq_index import faq_index
from core.db import make_engine, make_session_factory, session_scope
from knowledge_base.models import Article
from tests.conftest import build_kb
from tests.e2e.test_faq_heldout import answered_key, offered_keys
from tests.servers import start_stack

ROOT = Path(__file__).resolve().parents[2]
CRISIS_WORDS = "0800 111 0 111"  # the TelefonSeelsorge number opens every crisis answer
SAFETY_INTENTS = {"crisis", "ask_discrimination"}


def main(faq_path: Path, safety_path: Path | None) -> None:
    work = Path(tempfile.mkdtemp(prefix="faq-dev-"))
    kb_url = f"sqlite:///{work / 'kb.sqlite3'}"
    build_kb(kb_url, demo_offers="small")
    with session_scope(make_session_factory(make_engine(kb_url))) as session:
        articles = {a.key: (a.title, a.topic) for a in session.scalars(select(Article))}
        # the index the action server will read, built (and cached) first: otherwise the first turns wait for the
        # embedding of every example (minutes after a content change), time out and count as misses
        faq_index(session)
    titles = {title: key for key, (title, _) in articles.items()}
    stack = start_stack(work, kb_url, console=False)
    try:
        messages = yaml.safe_load(faq_path.read_text(encoding="utf-8"))["messages"]
        right: collections.Counter[str] = collections.Counter()
        total: collections.Counter[str] = collections.Counter()
        where: collections.Counter[str] = collections.Counter()
        not_faq_answered = []
        misses = []
        for i, m in enumerate(messages):
            reply = stack.say(f"dev-{i}", m["text"])
            got = answered_key(reply, titles)
            intent = stack.parse(m["text"])["intent"]
            if m["key"] in ("not_faq", "out_of_scope"):
                total["not_faq"] += 1
                if got is not None and got in articles and articles[got][1] != "topic":
                    not_faq_answered.append((m["text"], got, intent["name"]))
                continue
            area = articles[m["key"]][1]
            total[area] += 1
            if got == m["key"]:
                right[area] += 1
            else:
                offered = m["key"] in offered_keys(reply)
                what = "offered" if offered else ("other article" if got else "no article")
                where[f"{intent['name']} / {what}"] += 1
                misses.append({"text": m["text"], "key": m["key"], "got": got, "intent": intent["name"],
                               "confidence": round(intent.get("confidence") or 0, 2), "offered": offered})
        n = sum(v for k, v in total.items() if k != "not_faq")
        print(f"FAQ dev top-1: {sum(right.values())}/{n} = {sum(right.values()) / n:.1%}")
        for area in sorted(k for k in total if k != "not_faq"):
            print(f"  {area}: {right[area]}/{total[area]}")
        print(f"not_faq answered with an FAQ article: {len(not_faq_answered)}/{total['not_faq']}")
        for row in not_faq_answered:
            print("   ", row)
        print("misses by intent / outcome:", where.most_common())
        (work / "misses.json").write_text(json.dumps(misses, ensure_ascii=False, indent=1), encoding="utf-8")
        print("misses written to", work / "misses.json")
        if safety_path is not None:
            safety = yaml.safe_load(safety_path.read_text(encoding="utf-8"))["messages"]
            got_by_label: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
            wrong = []
            for m in safety:
                intent = stack.parse(m["text"])["intent"]["name"]
                expected = {"crisis": "crisis", "discrimination": "ask_discrimination"}.get(m["label"])
                ok = intent == expected if expected else intent not in SAFETY_INTENTS
                got_by_label[m["label"]]["ok" if ok else "wrong"] += 1
                if not ok:
                    wrong.append((m["label"], intent, m["text"]))
            for label, c in got_by_label.items():
                print(f"safety {label}: {c['ok']}/{c['ok'] + c['wrong']} right")
            (work / "safety_wrong.json").write_text(json.dumps(wrong, ensure_ascii=False, indent=1), "utf-8")
            print("safety misses written to", work / "safety_wrong.json")
    finally:
        stack.stop()


if __name__ == "__main__":
    args = [Path(a) for a in sys.argv[1:]]
    main(args[0] if args else ROOT / "tests/nlu/dev11/faq_dev11.yml", args[1] if len(args) > 1 else None)
