"""rasa_plugins.lock_store.ResilientRedisLockStore against a redis-server of this test (own port, own process; the
machine's Redis is never touched), in Rasa's environment: a message whose lock is taken while Redis restarts waits
for Redis instead of failing; Rasa's own RedisLockStore fails the same message at once (so the test can fail); an
outage longer than the retry budget still ends in bounded time."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.rasa_cli import rasa_env
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"

SCRIPT = r'''
import asyncio, json, socket, subprocess, sys, threading, time
from rasa.core.lock_store import RedisLockStore
from rasa_plugins.lock_store import ResilientRedisLockStore

server, port, workdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def start():
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", workdir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")

async def turn(store, conversation):
    async with store.lock(conversation):
        await asyncio.sleep(0.01)

def message_during_restart(store, gap):
    """One turn taken while Redis is down; Redis comes back after ``gap`` seconds."""
    global proc
    asyncio.run(turn(store, "before"))
    proc.terminate(); proc.wait()
    timer = threading.Timer(gap, lambda: globals().__setitem__("proc", start()))
    timer.start()
    started = time.monotonic()
    try:
        asyncio.run(turn(store, "during"))
        outcome = "answered"
    except Exception as error:
        outcome = type(error).__name__
    seconds = time.monotonic() - started
    timer.join()
    asyncio.run(turn(store, "after"))  # both kinds work again once Redis is back
    return {"outcome": outcome, "seconds": round(seconds, 2)}

proc = start()
result = {
    "rasa": message_during_restart(RedisLockStore(port=port, db=1, key_prefix="t"), 1.5),
    "resilient": message_during_restart(ResilientRedisLockStore(port=port, db=1, key_prefix="t"), 1.5),
    "resilient_long_outage": message_during_restart(
        ResilientRedisLockStore(port=port, db=1, key_prefix="t", retry_seconds=2), 5.0),
}
proc.terminate()
print(json.dumps(result))
'''


def test_a_message_during_a_redis_restart_waits_instead_of_failing(tmp_path: Path) -> None:
    rasa_python = ROOT / ".venv-rasa" / "bin" / "python"
    if not rasa_python.exists():
        pytest.fail("no Rasa environment: run the suite through `make test`")
    if not Path(REDIS_SERVER).exists():
        pytest.skip("redis-server is not installed")
    done = subprocess.run([str(rasa_python), "-c", SCRIPT, REDIS_SERVER, str(free_port()), str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env=rasa_env(TF_CPP_MIN_LOG_LEVEL="3"))
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["rasa"]["outcome"] == "LockError", result  # Rasa's store: fails at once
    assert result["rasa"]["seconds"] < 1.0, result
    assert result["resilient"]["outcome"] == "answered", result  # waits the 1.5 s for Redis
    assert 1.0 <= result["resilient"]["seconds"] < 5.0, result
    long_outage = result["resilient_long_outage"]  # 5 s down, 2 s budget: fails, but within a bound
    assert long_outage["outcome"] == "LockError", result
    assert long_outage["seconds"] < 4.0, result
