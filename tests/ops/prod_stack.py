"""The production profile started for a test or a bench: ``scripts/run-prod.sh`` in a temporary ``RUN_DIR`` on free
loopback ports, with two PostgreSQL databases of its own in the local server (created here, dropped afterwards) and
a ``redis-server`` of its own on its own port (the machine's Redis is never touched).

    with running(tmp, {"PROD_RASA_REPLICAS": "1"}) as profile:
        profile.https, profile.ctl("status"), profile.pids(), profile.redis.stop() …

Used by tests/ops/test_prod_profile.py and tests/bench/prod_scaling.py."""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

from core import protocol
from tests.rasa_cli import ROOT
from tests.servers import free_port

PG_HOST = os.environ.get("TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("TEST_PG_USER", "postgres")
NGINX = Path("/usr/sbin/nginx")
REDIS_SERVER = "/usr/bin/redis-server"
SUPERVISORCTL = ROOT / ".venv" / "bin" / "supervisorctl"


def ports(count: int) -> int:
    """A free port with ``count - 1`` free ports after it (nginx on the first, the replicas on the others)."""
    for _ in range(200):
        base = free_port()
        try:
            for offset in range(count):
                with socket.socket() as s:
                    s.bind((protocol.LOOPBACK, base + offset))
            return base
        except OSError:
            continue
    raise RuntimeError("no run of free ports")


def admin() -> psycopg.Connection:
    return psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="test", autocommit=True,
                           connect_timeout=3)


class Redis:
    """A redis-server of its own on its own port."""

    def __init__(self, port: int, workdir: Path) -> None:
        self.port, self.workdir = port, workdir
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([REDIS_SERVER, "--port", str(self.port), "--bind", protocol.LOOPBACK,
                                      "--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection((protocol.LOOPBACK, self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@dataclass
class Profile:
    proc: subprocess.Popen[bytes]
    env: dict[str, str]
    run_dir: Path
    log: Path
    tracker_db: str
    redis: Redis
    app_db: str = ""
    seen: set[int] = field(default_factory=set)

    @property
    def https(self) -> str:
        return f"https://{protocol.LOOPBACK}:{self.env['PROD_HTTPS_PORT']}"

    @property
    def replicas(self) -> list[str]:
        return [f"rasa{i}" for i in range(1, int(self.env.get("PROD_RASA_REPLICAS", "2")) + 1)]

    def ctl(self, *args: str) -> str:
        return subprocess.run([str(SUPERVISORCTL), "-c", str(self.run_dir / "supervisord.conf"), *args],
                              capture_output=True, text=True, timeout=60).stdout

    def pids(self) -> dict[str, int]:
        found = {m.group(1): int(m.group(2))
                 for m in re.finditer(r"^(\S+)\s+RUNNING\s+pid (\d+)", self.ctl("status"), re.MULTILINE)}
        self.seen |= set(found.values())
        return found

    def session_key(self) -> str:
        return dict(line.split("=", 1) for line in (self.run_dir / "secrets.env").read_text().split())[
            "REST_SESSION_KEY"]

    def wait_replica_ready(self, name: str, old_pid: int | None = None, timeout: float = 300) -> None:
        """Until supervisor runs a (new, if ``old_pid``) process for ``name`` and it answers ``/`` on its port."""
        port = int(self.env["RASA_PORT"]) + int(name.removeprefix("rasa"))
        deadline = time.monotonic() + timeout
        while True:
            pid = self.pids().get(name)
            if pid not in (None, old_pid):
                try:
                    if httpx.get(f"http://{protocol.LOOPBACK}:{port}/", timeout=2).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} not ready after {timeout:.0f} s: {self.ctl('status')}")
            time.sleep(1)


@contextmanager
def running(tmp: Path, overrides: Mapping[str, str] | None = None, start_timeout: float = 420) -> Iterator[Profile]:
    """The whole profile, up ("is running." printed by ``scripts/run.sh``: every process answers its health check);
    stopped with SIGINT afterwards, its databases dropped and its redis-server stopped."""
    suffix = uuid.uuid4().hex[:8]
    app_db, tracker_db = f"bo_prod_{suffix}", f"bo_prodtrk_{suffix}"
    with admin() as conn:
        for name in (app_db, tracker_db):
            conn.execute(f'CREATE DATABASE "{name}"')
    run_dir = tmp / "var"
    redis = Redis(free_port(), tmp)
    proc: subprocess.Popen[bytes] | None = None
    seen: set[int] = set()
    try:
        redis.start()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root"),
            "LANG": "C.UTF-8", "PYTHONPATH": str(ROOT), "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2", "RASA_TELEMETRY_ENABLED": "false", "RUN_DIR": str(run_dir),
            "PROD_DATABASE_URL": f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{app_db}",
            "PROD_TRACKER_DATABASE_URL": f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{tracker_db}",
            "PROD_REDIS_URL": f"redis://{protocol.LOOPBACK}:{redis.port}/0",
            "PROD_LISTEN_HOST": protocol.LOOPBACK, "PROD_HTTPS_PORT": str(free_port()),
            "PROD_HTTP_PORT": str(free_port()), "RASA_PORT": str(ports(9)), "ACTION_PORT": str(ports(9)),
            "CONSOLE_PORT": str(free_port()), "WEBCHAT_PORT": str(free_port()), "CONSOLE_ADMIN_USER": "ops-admin",
            "CONSOLE_ADMIN_PASSWORD": secrets.token_urlsafe(16), **(overrides or {}),
        }
        log = tmp / "run-prod.log"
        with log.open("wb") as handle:
            proc = subprocess.Popen(["bash", "scripts/run-prod.sh"], cwd=ROOT, env=env, stdout=handle,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        profile = Profile(proc, env, run_dir, log, tracker_db, redis, app_db=app_db, seen=seen)
        deadline = time.monotonic() + start_timeout  # the Rasa replicas load their model side by side
        while "is running." not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("production profile did not start:\n" + log.read_text(errors="replace")[-3000:])
            time.sleep(1)
        profile.pids()
        yield profile
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        for pid in seen:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        redis.stop()
        with admin() as conn:
            for name in (app_db, tracker_db):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
