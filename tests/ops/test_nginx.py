"""deploy/nginx/berufsorientierung.conf: valid for Debian's nginx (`nginx -t`), and run on free loopback ports in
front of a fake backend it exposes exactly the public entries, with body-size and rate limits.

nginx comes from Debian (scripts/ensure-nginx.sh, run by `make test`); without it the test skips with the reason
(and fails under CI=true)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from core import protocol
from tests.rasa_cli import ROOT
from tests.servers import free_port

CONF = ROOT / "deploy" / "nginx" / "berufsorientierung.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
CHAT, CONSOLE = "chat.example.org", "console.example.org"


def need_nginx() -> str:
    if NGINX is None:
        reason = "nginx is not installed (scripts/ensure-nginx.sh installs Debian's nginx-light)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return NGINX


class Backend(BaseHTTPRequestHandler):
    """Answers every request with the upstream's name and the path it received."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = f"{self.server.name} {self.path}".encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


def site(tmp_path: Path, ports: dict[str, int], https: int, http: int) -> str:
    """The example with test certificates, free ports and the fake backends as upstreams."""
    text = CONF.read_text(encoding="utf-8")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(tmp_path / "key.pem"),
                    "-out", str(tmp_path / "cert.pem"), "-days", "1", "-subj", "/CN=test"],
                   check=True, capture_output=True, timeout=60)
    text = re.sub(r"/etc/letsencrypt/live/[^/]+/fullchain\.pem", str(tmp_path / "cert.pem"), text)
    text = re.sub(r"/etc/letsencrypt/live/[^/]+/privkey\.pem", str(tmp_path / "key.pem"), text)
    text = re.sub(r"listen \[::\]:\d+( ssl)?;", "", text)
    text = text.replace("listen 443 ssl;", f"listen 127.0.0.1:{https} ssl;").replace("listen 80;", f"listen 127.0.0.1:{http};")
    for upstream, default in (("bo_rasa", 5005), ("bo_webchat", 8080), ("bo_telegram", 8081), ("bo_console", 8000)):
        text = text.replace(f"server 127.0.0.1:{default};", f"server 127.0.0.1:{ports[upstream]};")
    return text


def nginx_conf(tmp_path: Path, site_text: str) -> Path:
    (tmp_path / "site.conf").write_text(site_text, encoding="utf-8")
    (tmp_path / "logs").mkdir(exist_ok=True)
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/logs/error.log;\ndaemon off;\n"
                    f"events {{}}\nhttp {{\n  access_log off;\n  include {tmp_path}/site.conf;\n}}\n", encoding="utf-8")
    return conf


def test_the_example_exposes_no_action_server_and_no_rasa_api() -> None:
    text = CONF.read_text(encoding="utf-8")
    assert str(protocol.DEFAULT_ACTION_PORT) not in re.sub(r"#.*", "", text)
    assert "client_max_body_size" in text and "limit_req zone=" in text


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    nginx = need_nginx()
    tmp_path = tmp_path_factory.mktemp("nginx")
    servers = []
    ports: dict[str, int] = {}
    for name in ("bo_rasa", "bo_webchat", "bo_telegram", "bo_console"):
        server = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
        server.name = name  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        ports[name] = server.server_address[1]
    https, http = free_port(), free_port()
    conf = nginx_conf(tmp_path, site(tmp_path, ports, https, http))
    checked = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(conf)], capture_output=True, text=True,
                             timeout=60)
    assert checked.returncode == 0, checked.stderr
    proc = subprocess.Popen([nginx, "-p", str(tmp_path), "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{http}/", timeout=1)
                break
            except httpx.HTTPError:
                assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "logs/error.log").read_text()
                time.sleep(0.2)
        yield https, http
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        for server in servers:
            server.shutdown()


def get(https: int, host: str, path: str, method: str = "GET", content: bytes = b"") -> httpx.Response:
    return httpx.request(method, f"https://127.0.0.1:{https}{path}", headers={"Host": host}, content=content,
                         verify=False, timeout=10)


PUBLIC = [
    (CHAT, "GET", "/", "bo_webchat /"),
    (CHAT, "GET", "/static/chat.js", "bo_webchat /static/chat.js"),
    (CHAT, "POST", protocol.REST_WEBHOOK_PATH, f"bo_rasa {protocol.REST_WEBHOOK_PATH}"),
    (CHAT, "GET", protocol.REST_OUTBOX_PATH, f"bo_rasa {protocol.REST_OUTBOX_PATH}"),
    (CHAT, "POST", protocol.REST_OUTBOX_ACK_PATH, f"bo_rasa {protocol.REST_OUTBOX_ACK_PATH}"),
    (CHAT, "GET", "/rasa/webhooks/rest/outbox?x=1", "bo_rasa /webhooks/rest/outbox?x=1"),
    (CHAT, "POST", "/rasa" + protocol.REST_WEBHOOK_PATH, f"bo_rasa {protocol.REST_WEBHOOK_PATH}"),
    (CHAT, "POST", "/webhooks/facebook/webhook", "bo_rasa /webhooks/facebook/webhook"),
    (CHAT, "POST", "/telegram/webhook", "bo_telegram /telegram/webhook"),
    (CONSOLE, "GET", "/", "bo_console /"),
    (CONSOLE, "GET", "/handoffs/1", "bo_console /handoffs/1"),
    (CONSOLE, "POST", "/login", "bo_console /login"),
    (CONSOLE, "GET", "/api/v1/handoffs", "bo_console /api/v1/handoffs"),
]
INTERNAL = [
    (CHAT, "/model/parse"), (CHAT, "/conversations/x/tracker"), (CHAT, "/status"), (CHAT, "/version"),
    (CHAT, protocol.REST_DELETE_PATH), (CHAT, "/webhooks/rest/bridge"), (CHAT, protocol.PUSH_PATH),
    (CHAT, "/rasa/model/parse"), (CHAT, "/webhook"), (CHAT, "/health"), (CHAT, "/actions"),
    (CONSOLE, protocol.CONSOLE_INBOUND_PATH), (CONSOLE, protocol.CONSOLE_OUTBOX_PENDING_PATH),
    (CONSOLE, protocol.CONSOLE_CONVERSATIONS_PATH + "/x"), (CONSOLE, "/healthz"), (CONSOLE, "/docs"),
    (CONSOLE, "/openapi.json"),
]


@pytest.mark.parametrize(("host", "method", "path", "expected"), PUBLIC)
def test_public_entries_reach_their_process(proxy: tuple[int, int], host: str, method: str, path: str,
                                            expected: str) -> None:
    r = get(proxy[0], host, path, method, b"{}" if method == "POST" else b"")
    assert (r.status_code, r.text) == (200, expected)
    assert r.headers.get("server") == "nginx"  # no version (server_tokens off)


@pytest.mark.parametrize(("host", "path"), INTERNAL)
def test_internal_paths_are_not_exposed(proxy: tuple[int, int], host: str, path: str) -> None:
    for method in ("GET", "POST"):
        assert get(proxy[0], host, path, method).status_code == 404, (host, method, path)


def test_plain_http_redirects_and_bodies_and_rates_are_limited(proxy: tuple[int, int]) -> None:
    https, http = proxy
    r = httpx.get(f"http://127.0.0.1:{http}/webhooks/rest/webhook", headers={"Host": CHAT}, timeout=10)
    assert r.status_code == 301 and r.headers["location"].startswith(f"https://{CHAT}/")
    assert get(https, CHAT, protocol.REST_WEBHOOK_PATH, "POST", b"x" * 70_000).status_code == 413
    assert get(https, CHAT, "/telegram/webhook", "POST", b"x" * 70_000).status_code == 200
    codes = [get(https, CONSOLE, "/login", "POST", b"{}").status_code for _ in range(12)]
    assert 429 in codes and codes[0] == 200
