"""Start the real action server, Rasa server, adviser console and web chat page as subprocesses on free loopback
ports."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from core.protocol import (
    CONVERSATION_TOKEN_HEADER,
    REST_OUTBOX_ACK_PATH,
    REST_OUTBOX_PATH,
    REST_WEBHOOK_PATH,
    outbox_ids,
)
from core.stack import programs as stack_programs
from tests.rasa_cli import MODEL, ROOT, rasa_env, require_model

APP_PYTHON = ROOT / ".venv" / "bin" / "python"
CONSOLE_HEALTH = "/healthz"
WEBCHAT_HEALTH = "/healthz"


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
    cwd: Path = ROOT  # the folder it runs in (the vanilla bench bot: its own project)
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self, timeout: float = 300) -> None:
        handle = self.log.open("ab")
        self.proc = subprocess.Popen(
            self.args, cwd=self.cwd, env=self.env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
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
    rasa_token: str = ""  # Rasa's --auth-token: query parameter ``token`` of its HTTP API
    console: Process | None = None
    console_url: str = ""
    inbound_token: str = ""  # X-Inbound-Token shared by the REST channel and the console
    adviser_user: str = ""  # an adviser account of the console, created for the tests
    adviser_password: str = ""
    adviser_token: str = ""  # bearer token of that account for the console's JSON API (/api/v1)
    env: dict[str, str] = field(default_factory=dict)  # the environment all processes got
    webchat: Process | None = None  # the web chat page (channels/webchat); the browser talks to Rasa directly
    webchat_url: str = ""
    telegram_port: int = 0  # reserved for a Telegram bridge: the console pushes adviser replies there
    tokens: dict[str, str] = field(default_factory=dict)  # conversation token per sender id used in say()

    @property
    def api(self) -> dict[str, str]:
        """Query parameters for Rasa's HTTP API (``params=stack.api``)."""
        return {"token": self.rasa_token} if self.rasa_token else {}

    def say(self, sender: str, message: object, timeout: float = 30, ack: bool = True) -> list[dict]:
        """One message as a well-behaved REST client sends it: the first message of ``sender`` proposes that id,
        later ones present the conversation token the server issued (``X-Conversation-Token``); outbox messages
        in the reply are acknowledged unless ``ack=False``."""
        token = self.tokens.get(sender)
        body: dict[str, object] = {"message": message} if token else {"sender": sender, "message": message}
        headers = {CONVERSATION_TOKEN_HEADER: token} if token else {}
        r = httpx.post(f"{self.rasa_url}{REST_WEBHOOK_PATH}", json=body, headers=headers, timeout=timeout)
        r.raise_for_status()
        self.tokens[sender] = r.headers[CONVERSATION_TOKEN_HEADER]
        messages = r.json()
        if ack:
            self.ack(sender, messages)
        return messages

    def outbox(self, sender: str, timeout: float = 30, ack: bool = True) -> list[dict]:
        """Pending adviser / bot messages of a conversation, as a REST client polls them (and acknowledges)."""
        r = httpx.get(f"{self.rasa_url}{REST_OUTBOX_PATH}", headers={CONVERSATION_TOKEN_HEADER: self.tokens[sender]},
                      timeout=timeout)
        r.raise_for_status()
        messages = r.json()
        if ack:
            self.ack(sender, messages)
        return messages

    def ack(self, sender: str, messages: list[dict]) -> None:
        ids = outbox_ids(messages)
        if ids:
            r = httpx.post(f"{self.rasa_url}{REST_OUTBOX_ACK_PATH}", json={"ids": ids},
                           headers={CONVERSATION_TOKEN_HEADER: self.tokens[sender]}, timeout=30)
            r.raise_for_status()

    def parse(self, text: str) -> dict:
        r = httpx.post(f"{self.rasa_url}/model/parse", json={"text": text}, params=self.api, timeout=30)
        r.raise_for_status()
        return r.json()

    def tracker(self, sender: str) -> dict:
        r = httpx.get(f"{self.rasa_url}/conversations/{sender}/tracker", params=self.api, timeout=30)
        r.raise_for_status()
        return r.json()

    def stop(self) -> None:
        if self.webchat:
            self.webchat.stop()
        self.rasa.stop()
        if self.console:
            self.console.stop()
        self.actions.stop()


def console_cli(env: dict[str, str], *args: str, stdin: str = "") -> str:
    """``python -m channels.console.cli ARGS`` (accounts of the adviser console); returns its output."""
    done = subprocess.run(
        [str(APP_PYTHON), "-m", "channels.console.cli", *args],
        cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"console cli {' '.join(args[:1])} failed: {done.stdout}{done.stderr}")
    return done.stdout


def create_adviser(env: dict[str, str], username: str, password: str, role: str = "adviser") -> str:
    """An adviser account (password on standard input); returns a personal API token for the JSON API."""
    console_cli(env, "create-user", username, "--role", role, "--password-stdin", stdin=password + "\n")
    return console_cli(env, "issue-token", username).strip().splitlines()[-1].strip()


def start_stack(
    workdir: Path, kb_url: str, endpoints: str = "bot/endpoints.yml", console: bool = True, webchat: bool = False,
    **extra_env: str,
) -> Stack:
    """Action server + adviser console + Rasa server (token from ``RASA_TOKEN``, ``--cors "*"``, as `make run`);
    ``endpoints`` and ``extra_env`` select e.g. the production stores. All three share the knowledge-base
    database (hand-offs live there). ``webchat`` also serves the web chat page, talking to this Rasa."""
    require_model("starting Rasa")
    action_port, rasa_port, console_port, telegram_port = free_port(), free_port(), free_port(), free_port()
    rasa_url, console_url = f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{console_port}"
    rasa_token = secrets.token_hex(24)
    env = rasa_env(
        KB_DATABASE_URL=kb_url,
        ACTION_SERVER_URL=f"http://127.0.0.1:{action_port}/webhook",
        TRACKER_DB_PATH=str(workdir / "tracker.sqlite3"),
        RASA_URL=rasa_url,
        RASA_TOKEN=rasa_token,
        CONSOLE_URL=console_url,
        CONSOLE_HOST="127.0.0.1",
        CONSOLE_PORT=str(console_port),
        CONSOLE_INBOUND_TOKEN=secrets.token_urlsafe(24),
        PSEUDONYM_KEY=secrets.token_urlsafe(24),
        REST_SESSION_KEY=secrets.token_urlsafe(32),
        CONSOLE_SECRET_KEY=secrets.token_urlsafe(32),
        CONSOLE_ADMIN_USER="e2e-admin",
        CONSOLE_ADMIN_PASSWORD=secrets.token_urlsafe(16),
        TELEGRAM_PUSH_URL=f"http://127.0.0.1:{telegram_port}/internal/push",
        RETENTION_INTERVAL_HOURS="0",  # no retention job on the tests' data (tests/retention/ runs it)
        **extra_env,
    )
    # The action server and Rasa exactly as `make run` starts them (command line and per-process environment
    # from core/stack.py): actions.server with the X-Action-Token check, Rasa via rasa_plugins.serve.
    env.update(ACTION_PORT=str(action_port), RASA_PORT=str(rasa_port))
    env.setdefault("ACTION_SERVER_TOKEN", secrets.token_urlsafe(24))
    programs = {p.name: p for p in stack_programs(env, endpoints=endpoints, model=str(MODEL))}
    actions = Process("action server", list(programs["actions"].argv), programs["actions"].env,
                      workdir / "actions.log", programs["actions"].health_url)
    rasa = Process("rasa server", list(programs["rasa"].argv), programs["rasa"].env, workdir / "rasa.log",
                   f"{rasa_url}/status?token={rasa_token}")
    stack = Stack(actions, rasa, rasa_url, rasa_token=rasa_token, console_url=console_url,
                  inbound_token=env["CONSOLE_INBOUND_TOKEN"], env=env, telegram_port=telegram_port)
    try:
        actions.start()
        if console:
            stack.console = Process(
                "adviser console",
                [str(APP_PYTHON), "-m", "channels.console"],
                env,
                workdir / "console.log",
                f"{console_url}{CONSOLE_HEALTH}",
            )
            stack.console.start(timeout=60)
            stack.adviser_user = f"e2e-adviser-{secrets.token_hex(3)}"  # stacks may share a database
            stack.adviser_password = secrets.token_urlsafe(16)
            stack.adviser_token = create_adviser(env, stack.adviser_user, stack.adviser_password)
        if webchat:
            start_webchat(stack, workdir)
        rasa.start()
    except BaseException:
        stack.stop()
        raise
    return stack


def start_webchat(stack: Stack, workdir: Path) -> None:
    """``python -m channels.webchat`` on a free port, pointed at the stack's Rasa (``stack.webchat_url``)."""
    port = free_port()
    stack.webchat_url = f"http://127.0.0.1:{port}"
    env = {**stack.env, "WEBCHAT_HOST": "127.0.0.1", "WEBCHAT_PORT": str(port), "WEBCHAT_RASA_URL": stack.rasa_url}
    stack.webchat = Process(
        "web chat", [str(APP_PYTHON), "-m", "channels.webchat"], env, workdir / "webchat.log",
        f"{stack.webchat_url}{WEBCHAT_HEALTH}",
    )
    stack.webchat.start(timeout=60)


# the operator named in the privacy text of the shared stack (tests/e2e/test_privacy_export.py checks it)
TEST_OPERATOR = {
    "PRIVACY_OPERATOR_NAME": "Testbetrieb Jugendberufsagentur Hessen",
    "PRIVACY_OPERATOR_CONTACT": "Teststraße 1, 65000 Wiesbaden, datenschutz@test.example",
    "PRIVACY_DPO_CONTACT": "dsb@test.example",
}
_shared: Stack | None = None


def shared_stack(kb_url: str, workdir: Path, config: Any) -> Stack:
    """One stack for the whole pytest session, used by tests/e2e and tests/browser alike; stopped at the end of
    the session (``config.add_cleanup``)."""
    global _shared
    if _shared is None:
        _shared = start_stack(workdir, kb_url, webchat=True, **TEST_OPERATOR)

        def stop() -> None:
            global _shared
            if _shared is not None:
                _shared.stop()
                _shared = None

        config.add_cleanup(stop)
    return _shared
