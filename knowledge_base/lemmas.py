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


def tokens_and_lemmas(text: str) -> list[tuple[str, str]]:
    """(surface, lemma) for every word token; punctuation and spaces are dropped."""
    doc = german()(text[:2000])
    return [(t.text, t.lemma_ or t.text) for t in doc if not (t.is_punct or t.is_space)]
