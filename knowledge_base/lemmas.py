"""German lemmas with spaCy's tokenizer and the lookup lemmatizer from spacy-lookups-data ("Köchen" → "Koch")."""

from __future__ import annotations

from functools import lru_cache

import spacy
from spacy.language import Language


@lru_cache(maxsize=1)
def german() -> Language:
    nlp = spacy.blank("de")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


MAX_TEXT = 2000
# spaCy splits prefixes and suffixes off a run without spaces one at a time, searching the rest of the run each
# time: quadratic in the run's length (2,000 emoji took 0.4 s). No word we look up is longer than this.
MAX_RUN = 64


def tokens_and_lemmas(text: str) -> list[tuple[str, str]]:
    """(surface, lemma) for every word token; punctuation and spaces are dropped."""
    text = text[:MAX_TEXT]
    if len(text) > MAX_RUN:
        text = " ".join(run[:MAX_RUN] for run in text.split())
    doc = german()(text)
    return [(t.text, t.lemma_ or t.text) for t in doc if not (t.is_punct or t.is_space)]
