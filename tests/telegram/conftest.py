"""The Telegram bridge as it runs in production (``python -m channels.telegram``, its own process) against the
fake Bot API (tests/telegram/fake_bot_api.py) and the real Rasa + action server + console (shared stack)."""

from __future__ import annotations

import secrets
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.rasa_cli import MODEL
from tests.servers import APP_PYTHON, Process, Stack, free_port, shared_stack
from tests.telegram.fake_bot_api import FakeTelegram

TOKEN = "123456:TEST-token-for-the-fake"


def new_token() -> str:
    """A token of another bot (own bot id): update ids count per bot, like on Telegram."""
    return f"{200_000 + secrets.randbelow(10**8)}:TEST-{secrets.token_hex(8)}"


@pytest.fixture(scope="session")
def stack(kb_url: str, tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[Stack]:
    if not MODEL.exists():
        pytest.fail("no trained model: run the suite through `make test`")
    yield shared_stack(kb_url, tmp_path_factory.mktemp("stack"), pytestconfig)


@dataclass
class Bridge:
    """One ``python -m channels.telegram`` process (started and stopped like the stack's servers)."""

    process: Process
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Bridge:
        self.process.start(timeout=60)
        return self

    def stop(self) -> None:
        self.process.stop()

    def logs(self) -> str:
        return self.process.log.read_text(encoding="utf-8", errors="replace")


def bridge_env(stack: Stack, fake: FakeTelegram, port: int, **extra: str) -> dict[str, str]:
    env = dict(stack.env)
    env.update(
        TELEGRAM_BOT_TOKEN=fake.token,
        TELEGRAM_API_BASE_URL=fake.base_url.removesuffix("/bot"),
        TELEGRAM_PORT=str(port),
        TELEGRAM_RETRY_INTERVAL="1",
        TELEGRAM_OUTBOX_INTERVAL="2",
    )
    env.update(extra)
    return env


def start_bridge(stack: Stack, fake: FakeTelegram, workdir: Path, port: int | None = None, **extra: str) -> Bridge:
    port = port or free_port()
    process = Process("telegram bridge", [str(APP_PYTHON), "-m", "channels.telegram"],
                      bridge_env(stack, fake, port, **extra), workdir / f"bridge-{port}.log",
                      f"http://127.0.0.1:{port}/healthz")
    return Bridge(process, port).start()


class Forwarder:
    """A TCP port that forwards to Rasa once switched on; before that nothing listens (Rasa "down")."""

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self.target_port = target_port
        self._server: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(16)
        self._server = server
        threading.Thread(target=self._accept, daemon=True).start()

    def down(self) -> None:
        if self._server:
            self._server.close()
            self._server = None

    def _accept(self) -> None:
        assert self._server is not None
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def new_chat() -> int:
    return 10_000 + secrets.randbelow(10**9)
