"""Normalising German text for matching: case, umlauts (ä→ae …), punctuation, official gender forms."""

from __future__ import annotations

import re
import unicodedata

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e"})
_NON_WORD = re.compile(r"[^a-z0-9]+")
_PARENTHESIS = re.compile(r"\([^()]*\)")  # linear: no whitespace runs around it, no "(" inside


def normalize(text: str) -> str:
    """Lower-case ASCII form: "Kfz-Mechatroniker/-in" → "kfz mechatroniker in"; "Gießen" → "giessen"."""
    text = unicodedata.normalize("NFC", text).casefold().translate(_UMLAUTS)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NON_WORD.sub(" ", text).strip()


CUE_TEXT_LIMIT = 500  # a cue is looked for at the start of a message only: bounded work on any input


def has_cue(pattern: re.Pattern[str], text: str) -> bool:
    """``pattern`` (written for normalize()d text) occurs in the first ``CUE_TEXT_LIMIT`` characters of ``text``."""
    return bool(pattern.search(normalize(text[:CUE_TEXT_LIMIT])))


def gender_forms(name: str) -> list[str]:
    """Readable single forms of an official name with gender notation.

    "Tischler/-in" → ["Tischler", "Tischlerin"]; "Kaufmann/Kauffrau im Einzelhandel" →
    ["Kaufmann im Einzelhandel", "Kauffrau im Einzelhandel"]; "Medizinische/-r Fachangestellte/-r" →
    ["Medizinischer Fachangestellter", "Medizinische Fachangestellte"]. Chamber qualifiers such as "(IH)" are
    dropped; "FR" (Fachrichtung) gives forms with and without the word "Fachrichtung".
    """
    base = " ".join(_PARENTHESIS.sub(" ", name).split())
    if " FR " in base:  # "Fachinformatiker/-in FR Anwendungsentwicklung": with and without the word
        return gender_forms(base.replace(" FR ", " Fachrichtung ")) + gender_forms(base.replace(" FR ", " "))
    first: list[str] = []
    second: list[str] = []
    for token in base.split():
        a, b = _split_token(token)
        first.append(a)
        second.append(b)
    forms = [" ".join(first), " ".join(second)]
    # "Medizinische/-r" puts the female form first: keep a stable, de-duplicated order
    return list(dict.fromkeys(f for f in forms if f))


def _split_token(token: str) -> tuple[str, str]:
    if "/" not in token or token.startswith("/") or token.endswith("/"):
        return token, token
    a, b = token.split("/", 1)
    if "/" in b:  # e.g. "Kaufmann/Kauffrau/..." – keep the first alternative only
        b = b.split("/", 1)[0]
    if not b.startswith("-"):
        return a, b  # "Kaufmann/Kauffrau", "Koch/Köchin"
    suffix = b[1:]
    if suffix in {"in", "r", "n", "e", "innen"}:
        return a, a + suffix
    if suffix.startswith("frau") and a.endswith("mann"):
        return a, a[: -len("mann")] + suffix
    anchor = a.rfind(suffix[:4]) if len(suffix) >= 4 else -1
    if anchor > 0:
        return a, a[:anchor] + suffix
    return a, a + suffix
