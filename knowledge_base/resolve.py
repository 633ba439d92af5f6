"""Resolve free text to occupations, funding programmes and interest fields.

Matching order: exact alias (all official gender forms, curated aliases), German lemma of the words, then fuzzy
matching (rapidfuzz) for typos. The result lists candidates with scores so the bot can ask "did you mean".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge_base.lemmas import tokens_and_lemmas
from knowledge_base.models import FundingProgram, InterestField, Occupation, OccupationAlias
from knowledge_base.text import normalize

FUZZY_CUTOFF = 84.0
CONTAINED_SCORE = 80.0  # a word of the text is a whole word of a longer name ("Kaufmann" → "Kaufmann im …")
SURE_SCORE = 90.0
SURE_MARGIN = 4.0
MAX_NGRAM = 6
MAX_FUZZY_WORDS = 3  # typo matching only for phrases of up to 3 words …
MAX_FUZZY_PHRASES = 300  # … and a bounded number of them, so a 5,000-character message stays fast
MAX_TEXT = 1000

# Words that never name an occupation on their own, even if an alias happens to contain them.
STOPWORDS = frozenset(
    normalize(w)
    for w in ["ich", "du", "sie", "er", "es", "wir", "ihr", "man", "mein", "meine", "dein", "deine", "was", "wie", "wo", "wer", "wann", "warum", "welche", "welcher", "welches", "der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer", "zum", "zur", "als", "für", "fuer", "bei", "beim", "im", "in", "mit", "und", "oder", "ausbildung", "ausbildungen", "beruf", "berufe", "lehre", "job", "arbeit", "werden", "machen", "möchte", "will", "würde", "gern", "gerne", "lange", "dauert", "dauer", "jahre", "monate", "brauche", "braucht", "abschluss", "info", "infos", "über", "ueber", "zu", "von", "auf", "ist", "sind", "bin", "bist", "hab", "habe", "hat", "kann", "könnte", "ja", "nein", "bitte", "danke", "mal", "auch", "noch", "nur", "so", "ne", "na", "denn", "doch"]
)

# Everyday words that are one word of a longer official name ("… in den Gliedkirchen der Evangelischen Kirchen in
# Deutschland", "OP-Schwester", "Fischwirt … kleine Hochseefischerei", "Sport- und Fitnesskaufmann"): a message
# containing one ("meine kleine Schwester", "Einreise nach Deutschland", "Lehre im Handwerk") does not name that
# occupation. Found in the messages of the development sets (tests/nlu/dev*/), where such a word brought up a "did you
# mean" for an occupation nobody asked about ("schwester" is also a typo of "OP-Schwester" and of "Schweißer"). Only
# the partial matches ignore them (a word inside a longer name, a typo); an alias that is exactly such a word resolves.
GENERIC_NAME_WORDS = frozenset(
    normalize(w)
    for w in ["Deutschland", "Hessen", "Schwester", "kleine", "online", "Daten", "privat", "digital", "Sport",
              "Handwerk", "System", "Schutz", "Sicherheit", "Freizeit", "anerkannte", "staatlich", "groß",
              "gesetzliche", "Technik", "technische", "Klinik", "Zusammenfassung", "Rahmen", "Taschen", "Fenster",
              "Restaurant", "Restaurants", "Küche", "Maschinen", "Metall", "Autos", "Reifen", "Druck", "Garten",
              "Chemie", "Print", "Möbel", "Textil", "Geräte", "Eisen", "Beton", "Finanzen", "Versicherungen",
              "Bibliothek", "Straßen", "weben", "Schmuck", "Rentenversicherung", "Sozialversicherung",
              "Unfallversicherung", "Krankenversicherung", "Gesundheitswesen", "Forschung", "Industrie", "Verkehr"]
)


@dataclass(frozen=True)
class Candidate:
    occupation_id: int
    name: str
    score: float
    matched: str


@dataclass
class Resolution:
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def is_sure(self) -> bool:
        """One clear winner: high score and clearly ahead of the next occupation."""
        if not self.candidates or self.candidates[0].score < SURE_SCORE:
            return False
        if len(self.candidates) == 1:
            return True
        first, second = self.candidates[0], self.candidates[1]
        if first.score - second.score >= SURE_MARGIN:
            return True
        # "Fachinformatiker AE" beats "Fachinformatiker": the longer phrase that contains the other wins
        return first.score >= second.score and len(first.matched) > len(second.matched) and (
            second.matched in first.matched
        )


@dataclass
class AliasIndex:
    """All names and aliases in memory: normalized form → occupation ids (built once per process)."""

    by_form: dict[str, set[int]]
    names: dict[int, str]
    curated: set[int]
    forms: list[str] = field(init=False)
    by_word: dict[str, list[str]] = field(init=False)

    def __post_init__(self) -> None:
        self.forms = list(self.by_form)
        by_word: dict[str, list[str]] = defaultdict(list)
        for form in self.forms:
            for word in set(form.split()):
                if len(word) >= 5 and word not in STOPWORDS and word not in GENERIC_NAME_WORDS:
                    by_word[word].append(form)
        self.by_word = {w: sorted(forms, key=len) for w, forms in by_word.items()}

    @classmethod
    def build(cls, session: Session) -> AliasIndex:
        by_form: dict[str, set[int]] = defaultdict(set)
        for normalized, occ_id in session.execute(select(OccupationAlias.normalized, OccupationAlias.occupation_id)):
            by_form[normalized].add(occ_id)
        rows = session.execute(select(Occupation.id, Occupation.name, Occupation.curated)).all()
        curated = {r.id for r in rows if r.curated}
        for form, ids in by_form.items():
            # "Koch/Köchin (IH)" and "(HwEx)" share every form: the curated main entry stands for both
            if len(ids) > 1 and len(ids & curated) == 1:
                by_form[form] = ids & curated
        return cls(
            by_form=dict(by_form),
            names={r.id: r.name for r in rows},
            curated=curated,
        )

    def resolve(self, text: str, limit: int = 5) -> Resolution:
        phrases = _phrases(text)
        best: dict[int, Candidate] = {}

        def offer(occ_id: int, score: float, matched: str) -> None:
            # prefer curated (commonly chosen) occupations a little when scores tie
            score = min(100.0, score + (0.5 if occ_id in self.curated else 0.0))
            current = best.get(occ_id)
            if current is None or score > current.score:
                best[occ_id] = Candidate(occ_id, self.names[occ_id], round(score, 1), matched)

        for phrase, weight in phrases:
            for occ_id in self.by_form.get(phrase, ()):
                offer(occ_id, 100.0 * weight, phrase)
        if not any(c.score >= SURE_SCORE for c in best.values()):
            for phrase, weight in phrases:
                for form in self.by_word.get(phrase, [])[:12]:
                    for occ_id in self.by_form[form]:
                        offer(occ_id, CONTAINED_SCORE * weight, form)
            fuzzy = [(p, w) for p, w in phrases
                     if len(p) >= 4 and p.count(" ") < MAX_FUZZY_WORDS and p not in GENERIC_NAME_WORDS]
            for phrase, weight in fuzzy[:MAX_FUZZY_PHRASES]:
                for form, score, _ in process.extract(
                    phrase, self.forms, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=8
                ):
                    for occ_id in self.by_form[form]:
                        offer(occ_id, score * weight, form)
        ranked = sorted(best.values(), key=lambda c: (-c.score, -len(c.matched), c.name))
        return Resolution(ranked[:limit])


def _phrases(text: str) -> list[tuple[str, float]]:
    """Candidate phrases (word n-grams of surface forms and lemmas) with a small weight for lemmas.

    Longer phrases come first; phrases made only of stop words are skipped.
    """
    text = text[:MAX_TEXT]
    pairs = tokens_and_lemmas(text)
    surface = [normalize(s) for s, _ in pairs]
    lemmas = [normalize(lemma) for _, lemma in pairs]
    out: dict[str, float] = {}
    for words, weight in ((surface, 1.0), (lemmas, 0.99)):
        words = [w for w in words if w]
        for n in range(min(MAX_NGRAM, len(words)), 0, -1):
            for i in range(len(words) - n + 1):
                gram = words[i : i + n]
                if all(w in STOPWORDS for w in gram) or gram[0] in STOPWORDS or gram[-1] in STOPWORDS:
                    continue
                phrase = " ".join(gram)
                out[phrase] = max(out.get(phrase, 0.0), weight)
    whole = normalize(text)
    if whole and whole not in out and len(whole) <= 80:
        out[whole] = 1.0
    return list(out.items())


# ---------------------------------------------------------------------------------------------- funding


def find_funding(session: Session, text: str) -> FundingProgram | None:
    """A funding programme by key, name, short name or synonym (exact, then fuzzy)."""
    programs = list(session.scalars(select(FundingProgram)))
    forms: dict[str, FundingProgram] = {}
    for p in programs:
        for form in (p.key, p.name, p.short_name, *p.synonyms):
            forms.setdefault(normalize(form), p)
    norm = normalize(text)
    if norm in forms:
        return forms[norm]
    words = norm.split()
    for n in range(min(5, len(words)), 0, -1):
        for i in range(len(words) - n + 1):
            gram = " ".join(words[i : i + n])
            if gram in forms and gram not in STOPWORDS:
                return forms[gram]
    match = process.extractOne(norm, list(forms), scorer=fuzz.ratio, score_cutoff=88)
    return forms[match[0]] if match else None


# ---------------------------------------------------------------------------------------------- interests


@dataclass(frozen=True)
class Suggestion:
    interest_key: str
    interest_label: str
    occupations: list[Occupation]


def match_interest(session: Session, text: str) -> InterestField | None:
    """The interest field whose keywords best match the text (lemmas and typos tolerated)."""
    words = {normalize(w) for pair in tokens_and_lemmas(text) for w in pair} - STOPWORDS
    words.discard("")
    best: tuple[float, InterestField | None] = (0.0, None)
    for interest in session.scalars(select(InterestField).order_by(InterestField.key)):
        keywords = [normalize(k) for k in interest.keywords] + [normalize(interest.label)]
        for word in words:
            match = process.extractOne(word, keywords, scorer=fuzz.ratio, score_cutoff=85)
            if match and match[1] > best[0]:
                best = (match[1], interest)
    return best[1]


def suggest_occupations(session: Session, interest: InterestField, limit: int = 6) -> Suggestion:
    """Curated occupations tagged with the interest first (main interest first, then most chosen), then others
    from the same KldB main groups."""
    curated = sorted(
        (
            o
            for o in session.scalars(select(Occupation).where(Occupation.curated))
            if interest.key in (o.interests or [])
        ),
        key=lambda o: (o.interests.index(interest.key), o.rank or 10_000),
    )
    chosen = curated[:limit]
    if len(chosen) < limit:
        more = session.scalars(
            select(Occupation)
            .where(Occupation.kldb2.in_(interest.kldb2), Occupation.curated)
            .order_by(Occupation.rank)
        )
        for occ in more:
            if occ not in chosen:
                chosen.append(occ)
            if len(chosen) >= limit:
                break
    return Suggestion(interest.key, interest.label, chosen)


def related_occupations(session: Session, occupation: Occupation, limit: int = 4) -> list[Occupation]:
    """Occupations from the same KldB main group, curated ones first."""
    rows = session.scalars(
        select(Occupation)
        .where(Occupation.kldb2 == occupation.kldb2, Occupation.id != occupation.id)
        .order_by(Occupation.curated.desc(), Occupation.name)
        .limit(limit)
    )
    return list(rows)
