"""Part of `make bench` (issue 13 §4): the production profile's throughput with 1 and with 2 Rasa replicas behind
nginx (PostgreSQL tracker store, Redis lock store, 2 action servers), each started fresh by
tests/ops/prod_stack.py. ``USERS`` conversations at once, each sending ``MESSAGES`` one after another over HTTPS
(one client address per conversation: nginx's rate limit counts per address). Not a test: numbers are recorded.

    .venv/bin/python -m tests.bench.prod_scaling     (alone; `make bench` runs it as part of tests/bench/run_bench.py)
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from core import protocol
from tests.ops import prod_stack

USERS = 40
MESSAGES = ("Was ist BAB?", "Wie lange dauert die Ausbildung zum Kfz-Mechatroniker?", "Was macht eine Bürokauffrau?",
            "Was verdient man in der Ausbildung?", "Was ist eine Teilzeitausbildung?") * 2
WARM_UP_USERS = 4


@dataclass
class Scaling:
    replicas: int
    messages: int
    failed: int
    seconds: float
    p50_ms: float
    p95_ms: float

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds


async def _user(profile: prod_stack.Profile, index: int, latencies: list[float], failures: list[int]) -> None:
    headers = {"Host": "localhost"}
    transport = httpx.AsyncHTTPTransport(local_address=f"127.0.0.{10 + index}", verify=False)
    async with httpx.AsyncClient(transport=transport, timeout=60) as client:
        for message in MESSAGES:
            start = time.perf_counter()
            try:
                r = await client.post(f"{profile.https}{protocol.REST_WEBHOOK_PATH}", json={"message": message},
                                      headers=headers)
                ok = r.status_code == 200 and bool(r.json())
                token = r.headers.get(protocol.CONVERSATION_TOKEN_HEADER)
                if token:
                    headers.setdefault(protocol.CONVERSATION_TOKEN_HEADER, token)
            except (httpx.HTTPError, ValueError):
                ok = False
            latencies.append((time.perf_counter() - start) * 1000)
            if not ok:
                failures.append(1)


async def _drive(profile: prod_stack.Profile, users: int) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    failures: list[int] = []
    start = time.perf_counter()
    await asyncio.gather(*(_user(profile, i, latencies, failures) for i in range(users)))
    return latencies, len(failures), time.perf_counter() - start


def measure(replicas: int) -> Scaling:
    with tempfile.TemporaryDirectory() as tmp, \
            prod_stack.running(Path(tmp), {"PROD_RASA_REPLICAS": str(replicas)}) as profile:
        for name in profile.replicas:
            profile.wait_replica_ready(name)
        asyncio.run(_drive(profile, WARM_UP_USERS))
        latencies, failed, seconds = asyncio.run(_drive(profile, USERS))
    ordered = sorted(latencies)
    return Scaling(replicas, len(latencies), failed, seconds, statistics.median(ordered),
                   ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))])


def run() -> list[Scaling]:
    return [measure(replicas) for replicas in (1, 2)]


def section(results: list[Scaling], how: str) -> str:
    rows = "\n".join(f"| {r.replicas} | {r.messages} | {r.failed} | {r.per_second:.1f} | {r.p50_ms:.0f} ms | "
                     f"{r.p95_ms:.0f} ms |" for r in results)
    one = next((r for r in results if r.replicas == 1), None)
    two = next((r for r in results if r.replicas == 2), None)
    ratio = f"{two.per_second / one.per_second:.2f}" if one and two else "–"
    return f"""## Production profile: 1 and 2 Rasa replicas ({how}, tests/bench/prod_scaling.py)

`scripts/run-prod.sh` started fresh for each row (PostgreSQL tracker store, Redis lock store, 2 action servers,
nginx with HTTPS in front); {USERS} conversations at once, {len(MESSAGES)} knowledge-base questions each, one after
another; {os.cpu_count()} cores.

| Rasa replicas | messages | failed | messages/s | p50 | p95 |
|---|---|---|---|---|---|
{rows}

Two replicas against one: {ratio}×."""


if __name__ == "__main__":
    print(section(run(), "run alone"))
