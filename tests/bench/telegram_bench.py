"""Telegram bridge latency: from the update reaching the (fake) Bot API to the bot's last answer message,
through python-telegram-bot polling, the bridge, Rasa's REST channel and the action server; compared with the
same questions over REST directly. Part of `make bench` (run_bench.py)."""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.bench.stats import percentile
from tests.servers import Stack
from tests.telegram.conftest import new_chat, new_token, start_bridge
from tests.telegram.fake_bot_api import FakeTelegram


@dataclass
class TelegramResult:
    n: int
    p50: float
    p95: float
    max: float
    rss: float


def _last_send_at(fake: FakeTelegram, chat: int) -> float:
    return max(c.at for c in fake.calls_of("sendMessage") if c.ok and c.result and c.result["chat"]["id"] == chat)


def run(stack: Stack, workdir: Path, questions: list[str], rounds: int,
        rss_mib: Callable[[int], float]) -> TelegramResult:
    with FakeTelegram(token=new_token()) as fake:
        bridge = start_bridge(stack, fake, workdir)
        try:
            latencies: list[float] = []
            for round_ in range(rounds + 1):  # round 0 warms up
                chat, reference = new_chat(), f"bench-tg-{uuid.uuid4().hex[:8]}"
                for question in questions:
                    expected = len(stack.say(reference, question))  # same dialogue state over REST
                    before = len(fake.sent_messages(chat))
                    pushed = time.monotonic()
                    fake.user_text(chat, question)
                    fake.wait_for(lambda c=chat, n=before + expected: len(fake.sent_messages(c)) >= n, timeout=60,
                                  what="the bot's answer")
                    if round_:
                        latencies.append((_last_send_at(fake, chat) - pushed) * 1000)
            assert bridge.process.proc is not None
            return TelegramResult(len(latencies), statistics.median(latencies), percentile(latencies, 0.95),
                                  max(latencies), rss_mib(bridge.process.proc.pid))
        finally:
            bridge.stop()
