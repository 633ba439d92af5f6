"""Cold start of `make run` (issue 13 §1): from starting scripts/run.sh (everything installed and trained) until
each process answers its health check and until the first user message is answered over REST, with the phases of
Rasa's start read from its log. Recorded in docs/perf.md, not asserted.

    .venv/bin/python -m tests.bench.cold_start [--runs 2]

Uses a temporary RUN_DIR, free ports and a copy of the knowledge base, so a running `make run` is not disturbed.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx

from core import protocol
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
KB = ROOT / "var" / "kb.sqlite3"
RASA_PHASES = (  # Rasa's own log lines, in the order they appear
    ("process started → Rasa imports done", r"Starting Rasa server on"),
    ("→ model loading starts", r"Loading model"),
    ("→ model loaded, server up", r"Rasa server is up and running"),
)
_STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})")


@dataclass
class ColdStart:
    ready: dict[str, float] = field(default_factory=dict)  # health URL → seconds after start
    first_answer: float = 0.0
    rasa_log: dict[str, float] = field(default_factory=dict)  # phase → seconds after start (1 s resolution)


def _rasa_phases(log: Path, started_wall: float) -> dict[str, float]:
    found: dict[str, float] = {}
    for line in log.read_text(errors="replace").splitlines():
        for name, pattern in RASA_PHASES:
            stamp = _STAMP.match(line)
            if name not in found and stamp and re.search(pattern, line):
                found[name] = datetime.strptime(stamp.group(1), "%Y-%m-%d %H:%M:%S").timestamp() - started_wall
    return found


def one_run(workdir: Path) -> ColdStart:
    run_dir = workdir / "var"
    kb = workdir / "kb.sqlite3"
    shutil.copy(KB, kb)
    ports = {name: str(free_port()) for name in ("RASA_PORT", "ACTION_PORT", "CONSOLE_PORT", "WEBCHAT_PORT")}
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8", "PYTHONPATH": str(ROOT), "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2", "RASA_TELEMETRY_ENABLED": "false", "RUN_DIR": str(run_dir),
        "KB_DATABASE_URL": f"sqlite:///{kb}", "TRACKER_DB_PATH": str(run_dir / "tracker.sqlite3"),
        "CONSOLE_ADMIN_USER": "bench-admin", "CONSOLE_ADMIN_PASSWORD": secrets.token_urlsafe(16), **ports,
    }
    health = {
        "action server": f"http://{protocol.LOOPBACK}:{ports['ACTION_PORT']}{protocol.ACTION_HEALTH_PATH}",
        "console": f"http://{protocol.LOOPBACK}:{ports['CONSOLE_PORT']}/healthz",
        "web chat": f"http://{protocol.LOOPBACK}:{ports['WEBCHAT_PORT']}/healthz",
        "Rasa": f"http://{protocol.LOOPBACK}:{ports['RASA_PORT']}/",
    }
    result = ColdStart()
    started_wall, started = time.time(), time.monotonic()
    proc = subprocess.Popen(["bash", "scripts/run.sh"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        with httpx.Client(timeout=2) as client:
            while len(result.ready) < len(health):
                for name, url in health.items():
                    if name not in result.ready:
                        try:
                            if client.get(url).status_code == 200:
                                result.ready[name] = time.monotonic() - started
                        except httpx.HTTPError:
                            pass
                if time.monotonic() - started > 900:
                    raise RuntimeError(f"not ready after 900 s: {result.ready}")
                time.sleep(0.2)
        url = f"http://{protocol.LOOPBACK}:{ports['RASA_PORT']}{protocol.REST_WEBHOOK_PATH}"
        reply = httpx.post(url, json={"message": "Was ist BAB?"}, timeout=60)
        assert reply.status_code == 200 and reply.json(), reply.text[:300]
        result.first_answer = time.monotonic() - started
        result.rasa_log = _rasa_phases(run_dir / "log" / "rasa.log", started_wall)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    load = os.getloadavg()
    runs = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="cold-start-") as tmp:
            runs.append(one_run(Path(tmp)))
    names = list(runs[0].ready) + ["first answer (\u201eWas ist BAB?\u201c over REST)"]
    print(f"load average before: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}; {os.cpu_count()} cores")
    print("| ready | " + " | ".join(f"run {i + 1}" for i in range(len(runs))) + " |")
    print("|---|" + "---|" * len(runs))
    for name in names:
        values = [r.first_answer if name.startswith("first answer") else r.ready[name] for r in runs]
        print(f"| {name} | " + " | ".join(f"{v:.1f} s" for v in values) + " |")
    for phase, _ in RASA_PHASES:
        values = [r.rasa_log.get(phase) for r in runs]
        print(f"| Rasa log: {phase} | " + " | ".join("–" if v is None else f"{v:.0f} s" for v in values) + " |")


if __name__ == "__main__":
    main()
