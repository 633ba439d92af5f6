"""The bot turn with and without the FAQ retrieval (issue 11 §6: "the turn must not get slower by more than 20 %"),
measured in one run: two stacks on the same model and knowledge base, one with ``FAQ_RETRIEVAL=false`` (the turn as
before the retrieval: the intents' own answers and the usual fallback), one as shipped; every message goes to both,
alternating, each time in a new conversation, so that the machine's noise hits both alike.

Two groups of messages: questions about the training (development set 3, which the retrieval answers or checks:
broad topic intents, ``nlu_fallback``) and the knowledge-base questions of ``make bench`` (occupations, funding …,
which the retrieval must not slow down). Part of ``make bench``; alone:

    PYTHONPATH=. .venv/bin/python -m tests.bench.faq_turn_bench
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.bench import side_by_side
from tests.bench.stats import percentile
from tests.conftest import build_kb
from tests.servers import Stack, start_stack

ROOT = Path(__file__).resolve().parents[2]
DEV_SET = ROOT / "tests" / "nlu" / "dev3" / "faq_dev3.yml"
FAQ_MESSAGES = 120
KB_ROUNDS = 10


@dataclass(frozen=True)
class Timing:
    n: int
    p50: float
    p95: float

    @classmethod
    def of(cls, values: list[float]) -> Timing:
        return cls(len(values), statistics.median(values), percentile(values, 0.95))


@dataclass(frozen=True)
class FaqTurnResult:
    faq_before: Timing
    faq_after: Timing
    kb_before: Timing
    kb_after: Timing

    def section(self) -> str:
        def row(what: str, before: Timing, after: Timing) -> str:
            change = (after.p50 / before.p50 - 1) * 100
            return (f"| {what} ({before.n} turns each) | {before.p50:.0f} / {before.p95:.0f} ms | "
                    f"{after.p50:.0f} / {after.p95:.0f} ms | {change:+.0f} % |")

        return "\n".join([
            "### The turn with and without the FAQ retrieval (tests/bench/faq_turn_bench.py)",
            "",
            "Two stacks on the same model, `FAQ_RETRIEVAL=false` (before) and as shipped (after); every message to "
            "both, alternating, each in a new conversation. Issue 11 §6: at most 20 % slower.",
            "",
            "| messages | before: p50 / p95 | after: p50 / p95 | p50 change |",
            "|---|---|---|---|",
            row("questions about the training (development set 3)", self.faq_before, self.faq_after),
            row("knowledge-base questions of `make bench`", self.kb_before, self.kb_after),
        ])


def timed(stack: Stack, text: str) -> float:
    started = time.perf_counter()
    stack.say(f"bench-{uuid.uuid4().hex[:10]}", text)
    return (time.perf_counter() - started) * 1000


def run() -> FaqTurnResult:
    faq = [m["text"] for m in yaml.safe_load(DEV_SET.read_text(encoding="utf-8"))["messages"]][:FAQ_MESSAGES]
    kb = list(side_by_side.OUR_MESSAGES) * KB_ROUNDS
    with tempfile.TemporaryDirectory(prefix="faq-turn-") as tmp:
        work = Path(tmp)
        kb_url = f"sqlite:///{work / 'kb.sqlite3'}"
        build_kb(kb_url, demo_offers="small")
        (work / "before").mkdir()
        (work / "after").mkdir()
        before = start_stack(work / "before", kb_url, console=False, FAQ_RETRIEVAL="false")
        try:
            after = start_stack(work / "after", kb_url, console=False, FAQ_RETRIEVAL="true")
            try:
                for text in faq[:10] + kb[:8]:  # warm-up: models loaded, index read, caches filled
                    timed(before, text)
                    timed(after, text)
                times: dict[tuple[str, str], list[float]] = {}
                for group, texts in (("faq", faq), ("kb", kb)):
                    for i, text in enumerate(texts):
                        order = ((before, "before"), (after, "after"))
                        for stack, name in order if i % 2 == 0 else order[::-1]:
                            times.setdefault((group, name), []).append(timed(stack, text))
            finally:
                after.stop()
        finally:
            before.stop()
    return FaqTurnResult(Timing.of(times[("faq", "before")]), Timing.of(times[("faq", "after")]),
                         Timing.of(times[("kb", "before")]), Timing.of(times[("kb", "after")]))


if __name__ == "__main__":
    print(run().section())
