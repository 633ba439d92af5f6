"""Side by side with a vanilla Rasa bot (issue 13 §4), part of `make bench`; recorded in docs/perf.md, not asserted.

Ours: the `make run` profile (tests/servers.start_stack: SQLite tracker store, our action server, adviser console,
REST channel with the conversation-token flow). Vanilla: ``rasa init`` + one custom action on the same rasa-sdk
(tests/bench/vanilla.py), in-memory tracker store. Both run at the same time on their own ports and are measured
alternately (A B B A per load level), so drift of the shared machine's load hits both alike.

* load: 1, 20 and 50 concurrent users, each user in its own conversation sending messages one after another;
  per-message latency p50/p95, messages per second, the servers' CPU time per message, the ratios ours/vanilla;
* growth: per-turn latency at turn 1, 20 and 100 of one long conversation (three conversations per bot, their
  turns interleaved with the other bot's), and medians of the windows of turns 1–8, 17–24 and 93–100 (one cycle of
  the 8 messages each).

``python -m tests.bench.side_by_side`` runs only this part and replaces its section of docs/perf.md.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from core.protocol import CONVERSATION_TOKEN_HEADER, REST_WEBHOOK_PATH
from tests.bench import vanilla
from tests.bench.stats import percentile
from tests.conftest import build_kb
from tests.rasa_cli import ROOT
from tests.servers import start_stack

OUR_MESSAGES = [  # knowledge-base questions (also tests/bench/run_bench.py's QUESTIONS)
    "Wie lange dauert die Ausbildung zum Kfz-Mechatroniker?",
    "Was ist BAB?",
    "Kann ich die Ausbildung in Teilzeit machen?",
    "Was macht eine Bürokauffrau?",
    "Wie viel verdient man in der Ausbildung?",
    "Welchen Abschluss brauche ich für Bankkaufmann?",
    "Ich mag Tiere, welche Berufe passen?",
    "Wo bekomme ich Beratung?",
]
LEVELS = {1: 40, 20: 8, 50: 5}  # concurrent users → messages per user (per round)
ROUNDS = 2  # A B, then B A
WARMUP = 16
LONG_TURNS = 100
LONG_CONVERSATIONS = 3
WINDOWS = ((1, 8), (17, 24), (93, 100))
TURNS = (1, 20, 100)
SECTION_BEGIN = "<!-- side-by-side: begin (tests/bench/side_by_side.py) -->"
SECTION_END = "<!-- side-by-side: end -->"
TIMEOUT = 120.0


@dataclass
class Bot:
    name: str
    webhook: str
    messages: list[str]
    pids: dict[str, int]  # process role (rasa, actions, console) → pid
    token_flow: bool  # ours: X-Conversation-Token; vanilla: the sender id in every body
    always_replies: bool = True  # ours answers every message; rasa init's bot may answer a message outside its
    # stories with nothing (a conversation may start anywhere in the cycle): still a whole turn, HTTP 200


@dataclass
class Conversation:
    bot: Bot
    sender: str
    offset: int = 0
    token: str | None = None
    sent: int = 0

    async def say(self, client: httpx.AsyncClient) -> float:
        """One message; its latency in ms. A reply must be HTTP 200 (ours: with at least one message)."""
        text = self.bot.messages[(self.offset + self.sent) % len(self.bot.messages)]
        if self.bot.token_flow:
            body: dict[str, str] = {"message": text}
            headers = {CONVERSATION_TOKEN_HEADER: self.token} if self.token else {}
        else:
            body, headers = {"sender": self.sender, "message": text}, {}
        start = time.perf_counter()
        r = await client.post(self.bot.webhook, json=body, headers=headers, timeout=TIMEOUT)
        elapsed = (time.perf_counter() - start) * 1000
        r.raise_for_status()
        if self.bot.token_flow:
            self.token = r.headers[CONVERSATION_TOKEN_HEADER]
        if self.bot.always_replies and not r.json():
            raise RuntimeError(f"{self.bot.name}: empty reply to {text!r}")
        self.sent += 1
        return elapsed


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its descendants (seconds)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, pids = 0.0, [pid]
    while pids:
        p = pids.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            pids.extend(int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split())
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
    return total


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # process role → CPU seconds
    loads: list[float] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.latencies)

    @property
    def cpu_ms(self) -> float:
        """CPU time of all the bot's server processes per message (ms)."""
        return sum(self.cpu.values()) / self.n * 1000

    def role_ms(self, role: str) -> float:
        return self.cpu.get(role, 0.0) / self.n * 1000

    @property
    def rate(self) -> float:
        return self.n / self.seconds if self.seconds else 0.0


async def _user(client: httpx.AsyncClient, conversation: Conversation, count: int, out: list[float]) -> None:
    for _ in range(count):
        out.append(await conversation.say(client))


async def run_load(bot: Bot, users: int, per_user: int, tag: str, result: LoadResult) -> None:
    """``users`` conversations at once, ``per_user`` messages each, one after another within a conversation."""
    conversations = [Conversation(bot, f"bench-{tag}-{i}", offset=i) for i in range(users)]
    limits = httpx.Limits(max_connections=users + 5, max_keepalive_connections=users + 5)
    async with httpx.AsyncClient(limits=limits) as client:
        result.loads.append(os.getloadavg()[0])
        cpu0 = {role: cpu_seconds(pid) for role, pid in bot.pids.items()}
        start = time.perf_counter()
        await asyncio.gather(*(_user(client, c, per_user, result.latencies) for c in conversations))
        result.seconds += time.perf_counter() - start
        for role, pid in bot.pids.items():
            result.cpu[role] = result.cpu.get(role, 0.0) + cpu_seconds(pid) - cpu0[role]
        result.loads.append(os.getloadavg()[0])


async def warm_up(bot: Bot) -> None:
    async with httpx.AsyncClient() as client:
        conversation = Conversation(bot, "bench-warmup")
        for _ in range(WARMUP):
            await conversation.say(client)


async def run_growth(bots: list[Bot]) -> dict[str, list[list[float]]]:
    """``LONG_CONVERSATIONS`` conversations of ``LONG_TURNS`` turns per bot; the bots' turns interleaved."""
    per_bot: dict[str, list[list[float]]] = {b.name: [[] for _ in range(LONG_CONVERSATIONS)] for b in bots}
    conversations = {b.name: [Conversation(b, f"bench-long-{i}") for i in range(LONG_CONVERSATIONS)] for b in bots}
    async with httpx.AsyncClient() as client:
        for _ in range(LONG_TURNS):
            for i in range(LONG_CONVERSATIONS):
                for b in bots:
                    per_bot[b.name][i].append(await conversations[b.name][i].say(client))
    return per_bot


@dataclass
class Measurement:
    load: dict[tuple[int, str], LoadResult]
    growth: dict[str, list[list[float]]]
    started: str
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    seconds: float


def measure(bots: list[Bot]) -> tuple[dict[tuple[int, str], LoadResult], dict[str, list[list[float]]]]:
    async def main() -> tuple[dict[tuple[int, str], LoadResult], dict[str, list[list[float]]]]:
        for b in bots:
            await warm_up(b)
        load: dict[tuple[int, str], LoadResult] = {}
        for users, per_user in LEVELS.items():
            for r in range(ROUNDS):
                order = bots if r % 2 == 0 else list(reversed(bots))
                for b in order:
                    result = load.setdefault((users, b.name), LoadResult())
                    await run_load(b, users, per_user, f"{users}-{r}", result)
                    print(f"  {b.name:8s} {users:2d} users round {r + 1}: {len(result.latencies)} messages",
                          flush=True)
        growth = await run_growth(bots)
        return load, growth

    return asyncio.run(main())


@contextmanager
def stacks(work: Path) -> Iterator[list[Bot]]:
    """Both bots running; ours exactly as `make run` (SQLite tracker store, action server, console)."""
    project = vanilla.prepare()
    kb_url = f"sqlite:///{work / 'kb.sqlite3'}"
    build_kb(kb_url)
    ours = start_stack(work, kb_url)
    theirs = vanilla.VanillaStack(project, work)
    try:
        theirs.start()
        assert ours.rasa.proc and ours.actions.proc and ours.console and ours.console.proc
        assert theirs.rasa.proc and theirs.actions.proc
        yield [
            Bot("ours", ours.rasa_url + REST_WEBHOOK_PATH, OUR_MESSAGES,
                {"rasa": ours.rasa.proc.pid, "actions": ours.actions.proc.pid, "console": ours.console.proc.pid},
                token_flow=True),
            Bot("vanilla", theirs.rasa_url + "/webhooks/rest/webhook", vanilla.MESSAGES,
                {"rasa": theirs.rasa.proc.pid, "actions": theirs.actions.proc.pid}, token_flow=False,
                always_replies=False),
        ]
    finally:
        theirs.stop()
        ours.stop()


def run() -> Measurement:
    before = os.getloadavg()
    started = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")  # noqa: UP017
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, stacks(Path(tmp)) as bots:
        load, growth = measure(bots)
    return Measurement(load, growth, started, before, os.getloadavg(), time.perf_counter() - start)


def _ms(value: float) -> str:
    return f"{value:.0f} ms"


def _window(runs: list[list[float]], first: int, last: int) -> float:
    return statistics.median(v for run in runs for v in run[first - 1:last])


def _turn(runs: list[list[float]], turn: int) -> float:
    return statistics.median(run[turn - 1] for run in runs)


def section(m: Measurement, command: str) -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    rows, ratios = [], []
    for users in LEVELS:
        ours, theirs = m.load[(users, "ours")], m.load[(users, "vanilla")]
        for name, r in (("ours", ours), ("vanilla", theirs)):
            rows.append(f"| {users} | {name} | {r.n} | {r.rate:.1f} | {_ms(statistics.median(r.latencies))} | "
                        f"{_ms(percentile(r.latencies, 0.95))} | {_ms(max(r.latencies))} | "
                        f"{r.cpu_ms:.0f} ms | {r.role_ms('rasa'):.0f} / {r.role_ms('actions'):.0f} / "
                        f"{r.role_ms('console'):.0f} ms | {min(r.loads):.2f}–{max(r.loads):.2f} |")
        rate_ratio = ours.rate / theirs.rate
        p95_ratio = percentile(ours.latencies, 0.95) / percentile(theirs.latencies, 0.95)
        targets = f"≥ 1.00 {'erfüllt' if rate_ratio >= 1 else 'nicht erfüllt'}"
        if users in (1, 50):
            targets += f"; p95 ≤ 1.5: {'erfüllt' if p95_ratio <= 1.5 else 'nicht erfüllt'}"
        ratios.append(f"| {users} | {rate_ratio:.2f} | "
                      f"{statistics.median(ours.latencies) / statistics.median(theirs.latencies):.2f} | "
                      f"{p95_ratio:.2f} | {ours.cpu_ms / theirs.cpu_ms:.2f} | "
                      f"{ours.role_ms('rasa') / theirs.role_ms('rasa'):.2f} | {targets} |")
    growth_rows = []
    for name, runs in m.growth.items():
        windows = [_window(runs, a, b) for a, b in WINDOWS]
        growth_rows.append(f"| {name} | " + " | ".join(_ms(_turn(runs, t)) for t in TURNS) + " | "
                           + " | ".join(_ms(w) for w in windows) + f" | {windows[-1] / windows[0]:.2f} |")
    levels = ", ".join(f"{u} × {n}" for u, n in LEVELS.items())
    return f"""{SECTION_BEGIN}
## Side by side with a vanilla Rasa bot (issue 13 §4)

Measured by `{command}` (tests/bench/side_by_side.py); recorded, not asserted.

- Date: {m.started}; duration {m.seconds:.0f} s
- Machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}; load average (1/5/15 min)
  before {' / '.join(f'{v:.2f}' for v in m.load_before)}, after {' / '.join(f'{v:.2f}' for v in m.load_after)}
- Ours: the `make run` profile (SQLite tracker store, our action server, adviser console, REST channel with
  conversation tokens), the knowledge-base questions of the table above. Vanilla: `rasa init --no-prompt` (Rasa
  {vanilla.rasa_version()}) + `action_hello_world` on rasa-sdk from `.venv` (the same version as ours) for
  „are you a bot?“/„are you a human?“, in-memory tracker store; messages {', '.join(f'„{t}“' for t in vanilla.MESSAGES)}.
- Both stacks run at the same time and are measured alternately ({ROUNDS} rounds per level, A B then B A), each user
  in its own conversation, messages one after another per user (users × messages per round: {levels}), after
  {WARMUP} warm-up messages each. CPU = user + system time of the bot's server processes per message.

| users | bot | messages | msg/s | p50 | p95 | max | CPU / msg | of it Rasa / actions / console | load avg (1 min) |
|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

| users | msg/s ours/vanilla | p50 ours/vanilla | p95 ours/vanilla | CPU/msg ours/vanilla | Rasa CPU/msg ours/vanilla | targets |
|---|---|---|---|---|---|---|
{chr(10).join(ratios)}

### Cost per turn as a conversation grows

{LONG_CONVERSATIONS} conversations of {LONG_TURNS} turns per bot, turn by turn alternating between the bots; median
over the conversations at the turn, and over every turn of the window.

| bot | turn 1 | turn 20 | turn 100 | turns 1–8 | turns 17–24 | turns 93–100 | 93–100 / 1–8 |
|---|---|---|---|---|---|---|---|
{chr(10).join(growth_rows)}
{SECTION_END}"""


def replace_section(text: str, new: str, marker: str) -> str:
    """``text`` with the side-by-side section replaced, or inserted before ``marker`` (or at the end)."""
    if SECTION_BEGIN in text and SECTION_END in text:
        head, rest = text.split(SECTION_BEGIN, 1)
        return head + new + rest.split(SECTION_END, 1)[1]
    if marker in text:
        head, tail = text.split(marker, 1)
        return head.rstrip() + "\n\n" + new + "\n\n" + marker + tail
    return text.rstrip() + "\n\n" + new + "\n"


def main() -> None:
    from tests.bench.run_bench import NOTES_MARKER

    m = run()
    text = section(m, "python -m tests.bench.side_by_side")
    path = ROOT / "docs" / "perf.md"
    path.write_text(replace_section(path.read_text(encoding="utf-8"), text, NOTES_MARKER), encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
