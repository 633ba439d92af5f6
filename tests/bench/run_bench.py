"""`make bench`: latency per message over REST, training time, resident memory → docs/perf.md; the offer
search at 100,000 demo offers (tests/bench/offer_bench.py: query latency, bot turns, action-server memory); and
side by side with a vanilla Rasa bot at 1, 20 and 50 users and over a long conversation (tests/bench/side_by_side.py);
the production profile with 1 and 2 Rasa replicas (tests/bench/prod_scaling.py); the turn with and without the FAQ
retrieval (tests/bench/faq_turn_bench.py).

Not a test: numbers are recorded, not asserted. Targets on the 2-core machine: p95 ≤ 150 ms per message,
training ≤ 5 minutes, offer query p95 ≤ 10 ms.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from tests.bench import faq_turn_bench, offer_bench, prod_scaling, side_by_side, telegram_bench
from tests.bench.stats import percentile
from tests.conftest import build_kb
from tests.rasa_cli import RASA, ROOT, rasa_env
from tests.servers import start_stack

QUESTIONS = side_by_side.OUR_MESSAGES  # the knowledge-base questions, also sent in the side-by-side run
ROUNDS = 25


def rss_mib(pid: int) -> float:
    """Resident memory of a process and all its children (MiB)."""
    total = 0
    pids = [pid]
    while pids:
        p = pids.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
            pids.extend(int(c) for c in children)
        except FileNotFoundError:
            continue
    return total / 1024


TELEGRAM_ROUNDS = 10


def measure_latency(workdir: Path) -> tuple[dict[str, float], telegram_bench.TelegramResult]:
    kb_url = f"sqlite:///{workdir / 'kb.sqlite3'}"
    build_kb(kb_url)
    stack = start_stack(workdir, kb_url)
    try:
        for q in QUESTIONS:  # warm-up
            stack.say("warmup", q)
        latencies = []
        for _ in range(ROUNDS):
            who = f"bench-{uuid.uuid4().hex[:8]}"
            for q in QUESTIONS:
                start = time.perf_counter()
                stack.say(who, q)
                latencies.append((time.perf_counter() - start) * 1000)
        assert stack.rasa.proc and stack.actions.proc
        rest = {
            "n": len(latencies),
            "p50": statistics.median(latencies),
            "p95": percentile(latencies, 0.95),
            "max": max(latencies),
            "rasa_rss": rss_mib(stack.rasa.proc.pid),
            "actions_rss": rss_mib(stack.actions.proc.pid),
        }
        return rest, telegram_bench.run(stack, workdir, QUESTIONS, TELEGRAM_ROUNDS, rss_mib)
    finally:
        stack.stop()


def measure_training(workdir: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [str(RASA), "train", "--config", "bot/config.yml", "--domain", "bot/domain", "--data", "bot/data",
         "nlu_data", "--out", str(workdir / "models"), "--force", "--quiet"],
        cwd=ROOT, env=rasa_env(), check=True, capture_output=True,
    )
    return time.perf_counter() - start


NOTES_MARKER = "<!-- hand-written notes below: kept by make bench -->"


def kept_notes(path: Path) -> str:
    """The hand-written analysis at the end of docs/perf.md (after the marker), so a new run keeps it."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    notes = text.split(NOTES_MARKER, 1)[1].strip() if NOTES_MARKER in text else ""
    return f"{NOTES_MARKER}\n\n{notes}\n" if notes else f"{NOTES_MARKER}\n"


def main() -> None:
    compared = side_by_side.run()  # first: both bots on a machine that no other part of the bench loads
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        lat, tg = measure_latency(work)
        train_s = measure_training(work)
    faq_turn = faq_turn_bench.run()
    offers = offer_bench.run()
    scaling = prod_scaling.run()
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    report = f"""# Performance

Measured by `make bench` (tests/bench/run_bench.py); numbers are recorded here, not asserted in tests.

- Date: {dt.datetime.now().strftime('%Y-%m-%d %H:%M')}
- Machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, Python app 3.11 / Rasa 3.6.21 on 3.10
- Set-up: SQLite knowledge base and SQLite tracker store, Rasa server and action server on loopback

| measure | value | target |
|---|---|---|
| latency per message over REST, p50 ({lat['n']:.0f} knowledge-base answers) | {lat['p50']:.0f} ms | |
| latency per message over REST, p95 | {lat['p95']:.0f} ms | ≤ 150 ms |
| latency per message over REST, max | {lat['max']:.0f} ms | |
| model training (`rasa train --force`) | {train_s:.0f} s | ≤ 300 s |
| resident memory, Rasa server | {lat['rasa_rss']:.0f} MiB | |
| resident memory, action server | {lat['actions_rss']:.0f} MiB | |
| Telegram: update → last answer message, p50 ({tg.n} answers, bridge + fake Bot API, polling) | {tg.p50:.0f} ms | |
| Telegram: update → last answer message, p95 | {tg.p95:.0f} ms | |
| Telegram: update → last answer message, max | {tg.max:.0f} ms | |
| resident memory, Telegram bridge | {tg.rss:.0f} MiB | |

Questions: {', '.join(f'„{q}“' for q in QUESTIONS)}; {ROUNDS} rounds, each round in a new conversation.
Telegram: the same questions, {TELEGRAM_ROUNDS} rounds (tests/bench/telegram_bench.py); measured from handing the
update to the local fake Bot API until the bridge's last `sendMessage` of the answer arrived there, i.e. long
polling, the bridge (queue in SQLite, typing indicator, rendering), the REST hop and the bot turn.

{faq_turn.section()}

{offer_bench.section(offers.kb, offers.queries, offers.turns, "make bench")}

{side_by_side.section(compared, "make bench")}

{prod_scaling.section(scaling, "make bench")}"""
    (ROOT / "docs").mkdir(exist_ok=True)
    path = ROOT / "docs" / "perf.md"
    report = report.rstrip() + "\n\n" + kept_notes(path)
    path.write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
