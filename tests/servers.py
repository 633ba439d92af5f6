"""Start the real action server and Rasa server as subprocesses on free loopback ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.rasa_cli import MODEL, RASA, ROOT, rasa_env

APP_PYTHON = ROOT / ".venv" / "bin" / "python"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Process:
    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    health_url: str
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self, timeout: float = 180) -> None:
        handle = self.log.open("ab")
        self.proc = subprocess.Popen(
            self.args, cwd=ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.health_url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} did not become ready: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None


@dataclass
class Stack:
    actions: Process
    rasa: Process
    rasa_url: str

    def say(self, sender: str, message: object, timeout: float = 30) -> list[dict]:
        r = httpx.post(
            f"{self.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=timeout
        )
        r.raise_for_status()
        return r.json()

    def parse(self, text: str) -> dict:
        r = httpx.post(f"{self.rasa_url}/model/parse", json={"text": text}, timeout=30)
        r.raise_for_status()
        return r.json()

    def stop(self) -> None:
        self.rasa.stop()
        self.actions.stop()


def start_stack(
    workdir: Path, kb_url: str, endpoints: str = "bot/endpoints.yml", **extra_env: str
) -> Stack:
    """Action server + Rasa server; ``endpoints`` and ``extra_env`` select e.g. the production stores."""
    action_port, rasa_port = free_port(), free_port()
    env = rasa_env(
        KB_DATABASE_URL=kb_url,
        ACTION_SERVER_URL=f"http://127.0.0.1:{action_port}/webhook",
        TRACKER_DB_PATH=str(workdir / "tracker.sqlite3"),
        **extra_env,
    )
    actions = Process(
        "action server",
        [str(APP_PYTHON), "-m", "rasa_sdk", "--actions", "actions", "--port", str(action_port),
         "--endpoints", "bot/endpoints.yml"],
        env,
        workdir / "actions.log",
        f"http://127.0.0.1:{action_port}/health",
    )
    rasa = Process(
        "rasa server",
        [
            str(RASA), "run", "--model", str(MODEL), "--enable-api", "--port", str(rasa_port),
            "--endpoints", endpoints, "--credentials", "bot/credentials.yml",
        ],
        env,
        workdir / "rasa.log",
        f"http://127.0.0.1:{rasa_port}/status",
    )
    actions.start()
    rasa.start()
    return Stack(actions, rasa, f"http://127.0.0.1:{rasa_port}")
