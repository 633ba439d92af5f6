"""Where does a turn's time go as a conversation grows? (issue 13 §4; a tool, not part of `make bench`)

Starts our stack (action server, console, Rasa; tests/servers.start_stack), then runs tests/bench/profile_inner.py
in Rasa's environment against that action server and console: one conversation of ``--turns`` turns through

* ``channel/sql``: our REST channel's turn logic and the SQLite tracker store (what `make run` does),
* ``rasa/sql``: Rasa's ``agent.handle_message`` alone (no channel extras), SQLite tracker store,
* ``channel/plain``: our channel with Rasa's own SQL tracker store, without ``rasa_plugins.speedups`` (before),
* ``channel/memory``: our channel with Rasa's in-memory tracker store,

and prints the median per-turn latency of turns 1–8 and the last 8, and (``--profile``) the top functions of a
cProfile of the last 10 turns of ``channel/sql``.

    .venv/bin/python -m tests.bench.profile_turn [--turns 100] [--profile] [--variants channel/plain,channel/sql]
"""

from __future__ import annotations

import argparse
import json
import pstats
import statistics
import subprocess
import tempfile
from pathlib import Path

from tests.conftest import build_kb
from tests.rasa_cli import ROOT
from tests.servers import start_stack

RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=100)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--variants", default="channel/plain,channel/sql,rasa/sql,channel/memory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        kb_url = f"sqlite:///{work / 'kb.sqlite3'}"
        build_kb(kb_url)
        stack = start_stack(work, kb_url)
        try:
            for variant in args.variants.split(","):
                path, store = variant.split("/")
                prof = work / f"{path}-{store}.prof"
                cmd = [str(RASA_PYTHON), "-m", "tests.bench.profile_inner", "--turns", str(args.turns),
                       "--store", store, "--path", path]
                if args.profile and variant == "channel/sql":
                    cmd += ["--profile", str(prof)]
                env = {**stack.env, "TRACKER_DB_PATH": str(work / f"tracker-{path}-{store}.sqlite3")}
                done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    raise RuntimeError(done.stderr[-3000:])
                result = json.loads(done.stdout.strip().splitlines()[-1])
                times = result["times"]
                first, last = statistics.median(times[:8]), statistics.median(times[-8:])
                print(f"{variant:16s} turns 1-8 {first:6.1f} ms   last 8 {last:6.1f} ms   ratio {last / first:.2f}"
                      f"   events {result['events']}", flush=True)
                if prof.exists():
                    stats = pstats.Stats(str(prof))
                    stats.sort_stats("cumulative").print_stats(70)
                    stats.sort_stats("tottime").print_stats(30)
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
