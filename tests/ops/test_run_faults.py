"""`make run` under fault (issue 13 §1, issue 12 §2): scripts/run.sh in a temporary RUN_DIR with free loopback
ports, processes supervised by supervisord.

One start of the whole stack, then in order: each process has only its secrets (/proc/<pid>/environ) and Rasa's
token is not on its command line; a forged action call is refused (403) while Rasa's calls work; the action server
killed with SIGKILL → the others keep running, a message during the outage gets the technical-problem reply
within 10 s, the action server is back within 15 s and answers normally; a hung action server (accepts, never
answers) → the technical-problem reply within 10 s and the user's message is in the tracker; SIGINT to run.sh
stops every process."""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from core import protocol
from tests.rasa_cli import MODEL, ROOT
from tests.servers import free_port

pytestmark = pytest.mark.e2e

TECHNICAL = "technisch"  # utter_technical_problem (both variants)
QUESTION = "Was ist BAB?"  # answered by a custom action (knowledge base)
SUPERVISORCTL = ROOT / ".venv" / "bin" / "supervisorctl"


@dataclass
class RunningStack:
    proc: subprocess.Popen[bytes]
    env: dict[str, str]
    run_dir: Path
    log: Path

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.env['RASA_PORT']}"

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.env['ACTION_PORT']}"

    def ctl(self, *args: str) -> str:
        done = subprocess.run([str(SUPERVISORCTL), "-c", str(self.run_dir / "supervisord.conf"), *args],
                              capture_output=True, text=True, timeout=60)
        return done.stdout

    def pids(self) -> dict[str, int]:
        """Program → pid of the running ones (``supervisorctl status``)."""
        return {m.group(1): int(m.group(2))
                for m in re.finditer(r"^(\w+)\s+RUNNING\s+pid (\d+)", self.ctl("status"), re.MULTILINE)}

    def ready(self) -> bool:
        urls = [f"{self.rasa_url}/", f"{self.action_url}{protocol.ACTION_HEALTH_PATH}",
                f"http://127.0.0.1:{self.env['CONSOLE_PORT']}/healthz", f"http://127.0.0.1:{self.env['WEBCHAT_PORT']}/healthz"]
        try:
            return all(httpx.get(url, timeout=2).status_code == 200 for url in urls)
        except httpx.HTTPError:
            return False

    def say(self, message: str, timeout: float = 30) -> tuple[str, float, str]:
        """A message in a new conversation: (reply text, seconds, conversation id)."""
        sender = f"ops-{secrets.token_hex(6)}"
        start = time.monotonic()
        r = httpx.post(f"{self.rasa_url}{protocol.REST_WEBHOOK_PATH}", json={"sender": sender, "message": message},
                       timeout=timeout)
        elapsed = time.monotonic() - start
        r.raise_for_status()
        return "\n".join(m.get("text", "") for m in r.json()), elapsed, sender


def environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode("utf-8", "replace").split("\0") if "=" in item)


def cmdline_of(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


@pytest.fixture(scope="module")
def running(kb_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    if not MODEL.exists():
        pytest.fail("no trained model: run the suite through `make test`")
    run_dir = tmp_path_factory.mktemp("run") / "var"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8", "PYTHONPATH": str(ROOT), "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2", "RASA_TELEMETRY_ENABLED": "false",
        "RUN_DIR": str(run_dir), "KB_DATABASE_URL": kb_url, "TRACKER_DB_PATH": str(run_dir / "tracker.sqlite3"),
        "RASA_PORT": str(free_port()), "ACTION_PORT": str(free_port()), "CONSOLE_PORT": str(free_port()),
        "WEBCHAT_PORT": str(free_port()), "CONSOLE_ADMIN_USER": "ops-admin",
        "CONSOLE_ADMIN_PASSWORD": secrets.token_urlsafe(16), "ACTION_TIMEOUT": "4",
    }
    log = run_dir.parent / "run.log"
    with log.open("wb") as handle:
        proc = subprocess.Popen(["bash", "scripts/run.sh"], cwd=ROOT, env=env, stdout=handle,
                                stderr=subprocess.STDOUT, start_new_session=True)
    stack = RunningStack(proc, env, run_dir, log)
    seen: set[int] = set()
    try:
        deadline = time.monotonic() + 600  # Rasa loads its model; slow when the machine is busy
        while not ("is running." in log.read_text(errors="replace") and stack.ready()):
            assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            time.sleep(1)
        seen |= set(stack.pids().values())
        yield stack
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        for pid in seen | set(stack.pids().values()):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_each_process_has_only_its_secrets_and_no_token_on_a_command_line(running: RunningStack) -> None:
    pids = running.pids()
    assert set(pids) == {"actions", "console", "webchat", "rasa"}, running.ctl("status")
    secrets_file = dict(line.split("=", 1) for line in (running.run_dir / "secrets.env").read_text().split())
    env = {name: environ_of(pid) for name, pid in pids.items()}
    assert env["console"]["CONSOLE_SECRET_KEY"] == secrets_file["CONSOLE_SECRET_KEY"]
    assert all("CONSOLE_SECRET_KEY" not in env[name] for name in ("rasa", "actions", "webchat"))
    assert env["rasa"]["RASA_TOKEN"] == secrets_file["RASA_TOKEN"]
    assert all("RASA_TOKEN" not in env[name] for name in ("actions", "webchat"))
    assert env["actions"]["ACTION_SERVER_TOKEN"] == env["rasa"]["ACTION_SERVER_TOKEN"]
    assert all("ACTION_SERVER_TOKEN" not in env[name] for name in ("console", "webchat"))
    assert "CONSOLE_ADMIN_PASSWORD" not in env["rasa"] and "KB_DATABASE_URL" not in env["rasa"]
    for pid in pids.values():
        line = cmdline_of(pid)
        assert not any(value in line for value in secrets_file.values()), line
    assert "rasa_plugins.serve" in cmdline_of(pids["rasa"]) and "--auth-token" not in cmdline_of(pids["rasa"])
    # the token still works: Rasa got it in-process
    token = secrets_file["RASA_TOKEN"]
    assert httpx.get(f"{running.rasa_url}/status", params={"token": token}, timeout=10).status_code == 200
    assert httpx.get(f"{running.rasa_url}/status", timeout=10).status_code == 401
    assert oct((running.run_dir / "supervisord.conf").stat().st_mode & 0o777) == "0o600"


def test_forged_action_calls_are_refused_and_rasas_calls_work(running: RunningStack) -> None:
    call = {"next_action": "action_delete_conversation", "sender_id": "ops-forged", "tracker": {}, "domain": {},
            "version": "3.6.21"}
    url = f"{running.action_url}/webhook"
    assert httpx.post(url, json=call, timeout=10).status_code == 403
    assert httpx.post(url, json=call, headers={protocol.ACTION_TOKEN_HEADER: "x" * 64}, timeout=10).status_code == 403
    # refused before the body is parsed: a malformed body with a wrong token is 403, not 400
    r = httpx.post(url, content=b"{not json", headers={protocol.ACTION_TOKEN_HEADER: "wrong"}, timeout=10)
    assert r.status_code == 403 and "events" not in r.text
    assert httpx.get(f"{running.action_url}/actions", timeout=10).status_code == 403
    assert httpx.get(f"{running.action_url}{protocol.ACTION_HEALTH_PATH}", timeout=10).status_code == 200
    text, _, _ = running.say(QUESTION)
    assert text and TECHNICAL not in text, text


def test_killed_action_server_is_restarted_and_nothing_else_stops(running: RunningStack) -> None:
    before = running.pids()
    os.kill(before["actions"], signal.SIGKILL)
    text, elapsed, _ = running.say(QUESTION)
    assert TECHNICAL in text and elapsed < 10, (text, elapsed)
    deadline = time.monotonic() + 20
    while True:
        now = running.pids()
        if now.get("actions") not in (None, before["actions"]):
            try:
                if httpx.get(f"{running.action_url}{protocol.ACTION_HEALTH_PATH}", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
        assert time.monotonic() < deadline, running.ctl("status")
        time.sleep(0.5)
    back = 20 - (deadline - time.monotonic())
    assert back < 20
    assert {k: v for k, v in now.items() if k != "actions"} == {k: v for k, v in before.items() if k != "actions"}
    text, elapsed, _ = running.say(QUESTION)
    assert text and TECHNICAL not in text and elapsed < 10, (text, elapsed)


def test_hung_action_server_gives_the_technical_reply_in_time(running: RunningStack) -> None:
    assert "stopped" in running.ctl("stop", "actions")
    hung = socket.socket()
    hung.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    hung.bind(("127.0.0.1", int(running.env["ACTION_PORT"])))
    hung.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept_and_never_answer() -> None:
        hung.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(hung.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept_and_never_answer, daemon=True)
    thread.start()
    try:
        text, elapsed, sender = running.say(QUESTION)
        assert TECHNICAL in text and elapsed < 10, (text, elapsed)
        assert accepted, "Rasa never called the hung action server"
        token = dict(line.split("=", 1) for line in (running.run_dir / "secrets.env").read_text().split())["RASA_TOKEN"]
        tracker = httpx.get(f"{running.rasa_url}/conversations/{sender}/tracker", params={"token": token},
                            timeout=10).json()
        assert QUESTION in [e.get("text") for e in tracker["events"] if e["event"] == "user"]
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in accepted:
            conn.close()
        hung.close()
        running.ctl("start", "actions")


def test_sigint_stops_every_process(running: RunningStack) -> None:
    pids = running.pids()
    supervisord = int((running.run_dir / "supervisord.pid").read_text().strip())
    assert len(pids) == 4 and alive(supervisord)
    running.proc.send_signal(signal.SIGINT)
    running.proc.wait(timeout=60)
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in [*pids.values(), supervisord]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [name for name, pid in pids.items() if alive(pid)]
    assert not alive(supervisord)
    assert "Stopped." in running.log.read_text(errors="replace")
