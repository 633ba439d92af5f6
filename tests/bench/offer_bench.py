"""Offer search at scale (part of `make bench`): 100,000 demo offers in a separate knowledge base.

1. Builds ``var/bench-kb.sqlite3`` (migrate, load content, ``load_demo_offers(size="bench")``) or reuses it when
   it was built with the same size, seed and inputs (``var/bench-kb.json``).
2. Times the knowledge-base query alone (``search_offers``; for searches without hits also the fallback that the
   bot runs: ``related_occupations`` + ``advice_services``) over a seeded, realistic mix of query shapes.
3. Times full bot turns over the REST webhook (Rasa + action server on the 100k knowledge base), each message in a
   new conversation, and reads the action server's resident memory; then the same messages on a knowledge base of
   the `make run` size (``var/bench-kb-small.sqlite3``) for comparison. Needs ``bot/domain/offers.yml`` and a
   trained model; otherwise the section says why it was not measured.

Not a test: numbers are recorded in docs/perf.md, not asserted. Targets: query p95 ≤ 10 ms, bot turn p95 ≤ 150 ms.

    python -m tests.bench.offer_bench [--queries 400] [--turns 120] [--no-bot] [--model PATH] [--rebuild]

run alone, it replaces only its own section of docs/perf.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import statistics
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from random import Random

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.db import make_engine, make_session_factory, session_scope
from knowledge_base.demo_offers import DEFAULT_SEED, DEMO_SIZES, curated_occupations, load_demo_offers
from knowledge_base.gazetteer import HESSEN
from knowledge_base.loader import CONTENT_DIR
from knowledge_base.models import Offer, Place
from knowledge_base.offer_search import (
    OfferPage,
    OfferQuery,
    advice_services,
    related_occupations,
    search_offers,
)
from knowledge_base.places import resolve_place
from tests.bench.stats import percentile
from tests.conftest import build_kb
from tests.rasa_cli import MODEL, ROOT

SECTION = "## Angebotssuche (100.000 Demo-Angebote)"
BENCH_DB = ROOT / "var" / "bench-kb.sqlite3"
BENCH_STAMP = ROOT / "var" / "bench-kb.json"
BASELINE_DB = ROOT / "var" / "bench-kb-small.sqlite3"  # the `make run` size, to tell the offer volume's share
BASELINE_STAMP = ROOT / "var" / "bench-kb-small.json"
PERF_MD = ROOT / "docs" / "perf.md"
QUERY_TARGET_MS = 10
TURN_TARGET_MS = 150
SEED = 4711
CITIES = ("Frankfurt am Main", "Wiesbaden", "Kassel", "Darmstadt", "Offenbach", "Hanau", "Gießen", "Marburg",
          "Fulda", "Rüsselsheim", "Wetzlar", "Bad Homburg", "Limburg", "Bad Hersfeld", "Eschwege", "Korbach")
# (shape, weight); a shape decides which criteria the query has
SHAPES = (
    ("Beruf + Ort", 30),
    ("Beruf + Ort, Seite 2", 10),
    ("Beruf + Ort, Umkreis 50/100 km", 8),
    ("Beruf + Ort + Teilzeit", 10),
    ("Angebotsart + Ort", 12),
    ("nur Ort", 12),
    ("Beruf, ganz Hessen", 12),
    ("ohne Ort und Beruf", 6),
)
OFFER_TYPES = ("praktikum", "praktikum", "eq", "dual_studium", "schulisch", "berufsvorbereitung", "beratung")
# What users type: the NLU must find occupation and place (see nlu_data/offers.yml).
TURN_OCCUPATIONS = ("Tischler", "Koch", "Elektroniker", "Friseurin", "Kfz-Mechatroniker", "Industriekaufmann",
                    "Bäcker", "Maler und Lackierer", "Verkäuferin", "Fachinformatiker", "Bankkaufmann",
                    "Zahnmedizinische Fachangestellte", "Anlagenmechaniker", "Kauffrau im Einzelhandel")
TURN_CITIES = ("Kassel", "Darmstadt", "Fulda", "Frankfurt", "Wiesbaden", "Gießen", "Marburg", "Offenbach", "Hanau",
               "Bad Homburg", "Limburg", "Wetzlar")
TURN_TEMPLATES = (
    "Gibt es Ausbildungsplätze als {occ} in {city}?",
    "Ausbildung als {occ} in {city}",
    "Ich suche einen Ausbildungsplatz als {occ} in {city}",
    "Praktikum als {occ} in {city}",
    "Praktikum in {city}",
)


# ---------------------------------------------------------------------------------------------- statistics


@dataclass
class Stats:
    n: int
    p50: float
    p95: float
    max: float

    @classmethod
    def of(cls, ms: list[float]) -> Stats:
        return cls(len(ms), statistics.median(ms), percentile(ms, 0.95), max(ms))

    def cells(self) -> str:
        return f"{self.n} | {self.p50:.1f} ms | {self.p95:.1f} ms | {self.max:.1f} ms"


def rss_mib(pid: int) -> float:
    from tests.bench.run_bench import rss_mib as rss

    return rss(pid)


# ---------------------------------------------------------------------------------------------- the knowledge base


def _fingerprint(size: int, seed: int) -> dict[str, object]:
    """What the bench knowledge base depends on: size, seed and the files it is built from."""
    digest = hashlib.sha256()
    kb_dir = ROOT / "knowledge_base"
    files = sorted([*CONTENT_DIR.iterdir(), kb_dir / "demo_offers.py", kb_dir / "loader.py", kb_dir / "models.py",
                    *(kb_dir / "migrations" / "versions").glob("*.py")])
    for path in files:
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return {"size": size, "seed": seed, "inputs": digest.hexdigest()[:16]}


@dataclass
class BenchKB:
    url: str
    path: Path
    offers: int
    demo_offers: int
    built_seconds: float | None  # None: reused
    file_mib: float
    built_on: str


def ensure_bench_kb(size: str | int = "bench", seed: int = DEFAULT_SEED, rebuild: bool = False,
                    path: Path = BENCH_DB, stamp: Path = BENCH_STAMP) -> BenchKB:
    total = DEMO_SIZES[size] if isinstance(size, str) else int(size)
    url = f"sqlite:///{path}"
    wanted = _fingerprint(total, seed)
    built: float | None = None
    old = json.loads(stamp.read_text()) if stamp.exists() else {}
    if rebuild or not path.exists() or {k: old.get(k) for k in wanted} != wanted:
        print(f"Building {path} with {total:,} demo offers ...", flush=True)
        start = time.perf_counter()
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in (path, path.with_name(path.name + "-journal")):
            stale.unlink(missing_ok=True)
        build_kb(url)
        factory = make_session_factory(make_engine(url))
        with session_scope(factory) as s:
            load_demo_offers(s, total, seed=seed, quiet=False)
        with make_engine(url).connect() as conn:  # fresh statistics for the query planner
            conn.exec_driver_sql("ANALYZE")
        built = time.perf_counter() - start
        stamp.write_text(json.dumps({**wanted, "built_on": dt.date.today().isoformat()}, indent=2))
        old = json.loads(stamp.read_text())
    factory = make_session_factory(make_engine(url))
    with session_scope(factory) as s:
        offers = s.scalar(select(func.count()).select_from(Offer)) or 0
        demo = s.scalar(select(func.count()).select_from(Offer).where(Offer.is_demo)) or 0
    if demo != total:
        raise RuntimeError(f"{path}: {demo} demo offers instead of {total}; run with --rebuild")
    return BenchKB(url, path, offers, demo, built, path.stat().st_size / 2**20, str(old.get("built_on", "?")))


# ---------------------------------------------------------------------------------------------- query mix


@dataclass(frozen=True)
class PlannedQuery:
    shape: str
    query: OfferQuery
    place: str | None


def plan_queries(session: Session, n: int, seed: int = SEED) -> list[PlannedQuery]:
    """``n`` seeded queries: curated occupations (weighted like the demo data), big cities and random Hessian
    postcodes, the shapes of ``SHAPES``."""
    rng = Random(seed)
    occupations = curated_occupations(session)
    weights = [1 / o.rank**0.5 for o in occupations]
    postcodes = session.execute(
        select(Place.postcode, Place.name, Place.lat, Place.lon).where(Place.state == HESSEN).order_by(Place.id)
    ).all()
    cities = []
    for name in CITIES:
        best = resolve_place(session, name).best
        if best is not None and best.is_hessian:
            cities.append((best.name, best.lat, best.lon))

    def place() -> tuple[str, float, float]:
        if rng.random() < 0.5:
            return rng.choice(cities)
        p = rng.choice(postcodes)
        return f"{p.postcode} {p.name}", p.lat, p.lon

    plans = []
    names, shape_weights = [s for s, _ in SHAPES], [w for _, w in SHAPES]
    for _ in range(n):
        shape = rng.choices(names, shape_weights)[0]
        occupation = (rng.choices(occupations, weights)[0].id,)
        where, lat, lon = place()
        kw: dict[str, object] = dict(lat=lat, lon=lon, occupation_ids=occupation, page_size=4)
        if shape == "Beruf + Ort, Seite 2":
            kw["page"] = 1
        elif shape == "Beruf + Ort, Umkreis 50/100 km":
            kw["radius_km"] = rng.choice((50.0, 100.0))
        elif shape == "Beruf + Ort + Teilzeit":
            kw["parttime_only"] = True
        elif shape == "Angebotsart + Ort":
            kw.update(occupation_ids=(), offer_types=(rng.choice(OFFER_TYPES),))
        elif shape == "nur Ort":
            kw["occupation_ids"] = ()
            if rng.random() < 0.3:
                kw["parttime_only"] = True
        elif shape == "Beruf, ganz Hessen":
            kw.update(lat=None, lon=None)
            where = None
        elif shape == "ohne Ort und Beruf":
            kw.update(lat=None, lon=None, occupation_ids=())
            where = None
            if rng.random() < 0.5:
                kw["page"] = 1
        plans.append(PlannedQuery(shape, OfferQuery(**kw), where))  # type: ignore[arg-type]
    return plans


@dataclass
class QueryResults:
    by_shape: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    by_type: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # "Angebotsart + Ort"
    fallback: list[float] = field(default_factory=list)  # related occupations + advice services
    resolve: list[float] = field(default_factory=list)
    empty: int = 0
    capped: int = 0
    hits_total: list[int] = field(default_factory=list)
    load_before: str = ""

    @property
    def all(self) -> list[float]:
        return [ms for values in self.by_shape.values() for ms in values]


def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def measure_queries(factory: sessionmaker[Session], n: int, warmup: int = 30) -> QueryResults:
    """Each query in its own session, as in the action server (``actions.kb.kb_session``)."""
    with session_scope(factory) as s:
        plans = plan_queries(s, n + warmup)
        resolve_place(s, "Kassel")  # builds the cached place index
    results = QueryResults(load_before=" / ".join(f"{x:.2f}" for x in os.getloadavg()))
    for i, plan in enumerate(plans):
        with session_scope(factory) as s:
            ms, page = _timed(lambda plan=plan, s=s: search_offers(s, plan.query))
            assert isinstance(page, OfferPage)
            fallback = None
            # what the bot adds when a search finds nothing; timed for every search without hits and, to have
            # enough samples, every 8th occupation search (its cost does not depend on the hits)
            if plan.query.occupation_ids and (not page.hits or i % 8 == 0):
                q = plan.query
                fallback, _ = _timed(lambda q=q, s=s: (related_occupations(s, q.occupation_ids[0], q, limit=3),
                                                       advice_services(s, q.lat, q.lon, limit=3)))
            resolve_ms = None
            if plan.place is not None:
                resolve_ms, _ = _timed(lambda plan=plan, s=s: resolve_place(s, plan.place or ""))
        if i < warmup:
            continue
        results.by_shape[plan.shape].append(ms)
        if plan.shape == "Angebotsart + Ort":
            results.by_type[plan.query.offer_types[0]].append(ms)
        results.hits_total.append(page.total)
        results.empty += not page.hits
        results.capped += page.total_capped
        if fallback is not None:
            results.fallback.append(fallback)
        if resolve_ms is not None:
            results.resolve.append(resolve_ms)
    return results


# ---------------------------------------------------------------------------------------------- bot turns


@dataclass
class TurnResults:
    all: list[float] = field(default_factory=list)
    with_offers: list[float] = field(default_factory=list)  # the reply lists (demo) offers
    actions_rss: float = 0.0
    rasa_rss: float = 0.0
    skipped: str | None = None
    examples: list[str] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)  # the same messages on the smaller knowledge base
    baseline_offers: int = 0


def bot_turn_prerequisites(model: Path) -> str | None:
    """Why bot turns cannot be measured, or None."""
    if not (ROOT / "bot" / "domain" / "offers.yml").exists():
        return "bot/domain/offers.yml fehlt (Dialog für die Angebotssuche noch nicht fertig)"
    if not model.exists():
        return f"kein trainiertes Modell unter {model}"
    if not (ROOT / ".venv-rasa" / "bin" / "rasa").exists():
        return "Rasa-Umgebung .venv-rasa fehlt"
    return None


@contextmanager
def _model(path: Path) -> Iterator[None]:
    """start_stack always serves tests.servers.MODEL; point it at ``path`` for this run."""
    from tests import servers

    old = servers.MODEL
    servers.MODEL = path
    try:
        yield
    finally:
        servers.MODEL = old


def turn_messages(n: int, seed: int = SEED) -> list[str]:
    rng = Random(seed)
    return [rng.choice(TURN_TEMPLATES).format(occ=rng.choice(TURN_OCCUPATIONS), city=rng.choice(TURN_CITIES))
            for _ in range(n)]


def measure_turns(kb_url: str, n: int, model: Path = MODEL, warmup: int = 5) -> TurnResults:
    from tests.servers import start_stack

    results = TurnResults()
    reason = bot_turn_prerequisites(model)
    if reason:
        results.skipped = reason
        return results
    with tempfile.TemporaryDirectory() as tmp, _model(model):
        stack = start_stack(Path(tmp), kb_url)
        try:
            for text in turn_messages(warmup, seed=SEED + 1):
                stack.say(f"warmup-{uuid.uuid4().hex[:8]}", text)
            for text in turn_messages(n):
                who = f"offer-bench-{uuid.uuid4().hex[:8]}"  # a new conversation: every message is a new search
                start = time.perf_counter()
                reply = stack.say(who, text)
                ms = (time.perf_counter() - start) * 1000
                results.all.append(ms)
                joined = "\n".join(m.get("text", "") for m in reply)
                listed = "[Demo]" in joined or "Demo-Angebote" in joined  # offer lines or the demo hint
                if listed:
                    results.with_offers.append(ms)
                if len(results.examples) < 2 and listed:
                    results.examples.append(f"„{text}“ → {joined.splitlines()[0][:160]}")
            assert stack.actions.proc and stack.rasa.proc
            results.actions_rss = rss_mib(stack.actions.proc.pid)
            results.rasa_rss = rss_mib(stack.rasa.proc.pid)
        finally:
            stack.stop()
    return results


# ---------------------------------------------------------------------------------------------- report


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, Python {platform.python_version()}"


def verdict(value: float, target: float) -> str:
    return "erfüllt" if value <= target else "**nicht erfüllt**"


def section(kb: BenchKB, q: QueryResults, t: TurnResults, command: str) -> str:
    overall = Stats.of(q.all)
    offers = f"{kb.demo_offers:,}".replace(",", ".")
    build = (f"built in this run in {kb.built_seconds:.0f} s" if kb.built_seconds is not None
             else f"reused (built {kb.built_on})")
    lines = [
        SECTION,
        "",
        f"Measured by `{command}` (tests/bench/offer_bench.py); recorded, not asserted.",
        "",
        f"- Date: {dt.datetime.now().strftime('%Y-%m-%d %H:%M')}",
        f"- Machine: {machine()}; load average before the queries {q.load_before}",
        f"- Knowledge base: `{kb.path.relative_to(ROOT) if kb.path.is_relative_to(ROOT) else kb.path}` (SQLite, {kb.file_mib:.0f} MiB), {kb.offers:,} offers of which "
        f"{offers} demo offers (`load_demo_offers(size=\"bench\")`), {build}",
        f"- Targets: knowledge-base query p95 ≤ {QUERY_TARGET_MS} ms, bot turn p95 ≤ {TURN_TARGET_MS} ms",
        "",
        f"### Knowledge-base query (`search_offers`, {overall.n} queries, seeded mix)",
        "",
        "| query shape | n | p50 | p95 | max |",
        "|---|---|---|---|---|",
        f"| **all** | {overall.cells()} |",
    ]
    for shape, _ in SHAPES:
        if q.by_shape.get(shape):
            lines.append(f"| {shape} | {Stats.of(q.by_shape[shape]).cells()} |")
        if shape == "Angebotsart + Ort":
            for offer_type, ms in sorted(q.by_type.items()):
                lines.append(f"| ↳ {offer_type} | {Stats.of(ms).cells()} |")
    lines.append("")
    lines.append(f"Query p95 {overall.p95:.1f} ms vs. target ≤ {QUERY_TARGET_MS} ms: "
                 f"{verdict(overall.p95, QUERY_TARGET_MS)}. {q.capped} searches hit the count cap (1.000), "
                 f"{q.empty} found nothing; median total {statistics.median(q.hits_total):.0f} offers.")
    lines.append("")
    extra = ["| additional work per turn | n | p50 | p95 | max |", "|---|---|---|---|---|"]
    if q.fallback:
        extra.append(f"| no hits → `related_occupations` + `advice_services` | {Stats.of(q.fallback).cells()} |")
    if q.resolve:
        extra.append(f"| place resolution (`resolve_place`, index cached) | {Stats.of(q.resolve).cells()} |")
    if len(extra) > 2:
        lines += extra + [""]
    lines.append("Shapes: occupation = curated occupation weighted by popularity; place = one of 16 Hessian cities or "
                 "a random Hessian postcode (half each); radius 25 km unless stated; page size 4 as in the bot; "
                 "each query in its own session after 30 warm-up queries.")
    lines.append("")
    lines.append("### Bot turn over REST (Rasa + action server, 100k knowledge base)")
    lines.append("")
    if t.skipped:
        lines.append(f"Not measured: {t.skipped}. Run `make bench` (or `python -m tests.bench.offer_bench`) once "
                     "the offer dialogue is trained.")
    else:
        a = Stats.of(t.all)
        lines += [
            "| measure | n | p50 | p95 | max |",
            "|---|---|---|---|---|",
            f"| every message (new conversation each) | {a.cells()} |",
        ]
        if t.with_offers:
            lines.append(f"| replies that list offers | {Stats.of(t.with_offers).cells()} |")
        if t.baseline:
            small = f"{t.baseline_offers:,}".replace(",", ".")
            lines.append(f"| for comparison: every message, knowledge base with {small} demo offers "
                         f"(`make run` size) | {Stats.of(t.baseline).cells()} |")
        lines += [
            "",
            f"Bot turn p95 {a.p95:.0f} ms vs. target ≤ {TURN_TARGET_MS} ms: {verdict(a.p95, TURN_TARGET_MS)}. "
            f"Resident memory after the run: action server {t.actions_rss:.0f} MiB, Rasa server {t.rasa_rss:.0f} MiB.",
            "",
            "Messages: " + ", ".join(f"„{m}“" for m in TURN_TEMPLATES) + " with occupations and cities drawn "
            "(seeded) from " + ", ".join(TURN_CITIES) + ".",
        ]
        if t.examples:
            lines += ["", "Example replies: " + " / ".join(t.examples)]
    return "\n".join(lines) + "\n"


def replace_section(document: str, new: str) -> str:
    """``document`` with its offer-search section replaced by ``new`` (or ``new`` appended)."""
    start = document.find(SECTION)
    if start < 0:
        return document.rstrip("\n") + "\n\n" + new
    end = document.find("\n## ", start + len(SECTION))
    return document[:start] + (new.rstrip("\n") + "\n\n" + document[end + 1:] if end >= 0 else new)


@dataclass
class OfferBench:
    kb: BenchKB
    queries: QueryResults
    turns: TurnResults


def run(queries: int = 400, turns: int = 120, bot: bool = True, model: Path = MODEL, rebuild: bool = False,
        size: str | int = "bench") -> OfferBench:
    kb = ensure_bench_kb(size, rebuild=rebuild)
    factory = make_session_factory(make_engine(kb.url))
    print(f"Timing {queries} knowledge-base queries on {kb.demo_offers:,} demo offers ...", flush=True)
    q = measure_queries(factory, queries)
    t = TurnResults(skipped="übersprungen (--no-bot)")
    if bot:
        print(f"Timing {turns} bot turns ...", flush=True)
        t = measure_turns(kb.url, turns, model)
        if not t.skipped:
            small = ensure_bench_kb("small", path=BASELINE_DB, stamp=BASELINE_STAMP)
            print(f"Timing {turns} bot turns on {small.demo_offers:,} demo offers (baseline) ...", flush=True)
            t.baseline = measure_turns(small.url, turns, model).all
            t.baseline_offers = small.demo_offers
    return OfferBench(kb, q, t)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--turns", type=int, default=120)
    parser.add_argument("--no-bot", action="store_true", help="only the knowledge-base queries")
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--rebuild", action="store_true", help="rebuild var/bench-kb.sqlite3")
    args = parser.parse_args(argv)
    result = run(args.queries, args.turns, not args.no_bot, args.model.resolve(), args.rebuild)
    text = section(result.kb, result.queries, result.turns, "python -m tests.bench.offer_bench")
    PERF_MD.parent.mkdir(exist_ok=True)
    current = PERF_MD.read_text(encoding="utf-8") if PERF_MD.exists() else "# Performance\n"
    PERF_MD.write_text(replace_section(current, text), encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
