"""The single-machine production profile (``make run-prod``, ``scripts/run-prod.sh``), built from the programs of
``core/stack.py``: the same command lines and per-process environments, only more of them and nginx in front.

* knowledge base on PostgreSQL (``PROD_DATABASE_URL`` → ``KB_DATABASE_URL``), Rasa's tracker store on PostgreSQL
  and its lock store on Redis (``bot/endpoints.production.yml``; ``PROD_TRACKER_DATABASE_URL`` → ``TRACKER_DB_*``,
  ``PROD_REDIS_URL`` → ``REDIS_*``);
* ``PROD_RASA_REPLICAS`` Rasa servers on ``RASA_PORT + 1 …`` and ``PROD_ACTION_WORKERS`` action servers on
  ``ACTION_PORT + 1 …`` (programs ``rasa1 …``, ``actions1 …``);
* nginx (program ``nginx``) with the public site of ``deploy/nginx/berufsorientierung.conf`` (the replicas as one
  upstream, passive health checks, ``proxy_next_upstream``) and two loopback-only listeners on ``RASA_PORT``
  and ``ACTION_PORT`` that spread the console's and Rasa's internal calls over the replicas.

    python -m core.production exports   ``export NAME=value`` lines that ``scripts/run-prod.sh`` evaluates
    python -m core.production prepare   databases (created when missing), TLS certificate, nginx configuration
"""

from __future__ import annotations

import getpass
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from core import protocol
from core.errors import SettingsError
from core.settings import (
    PROJECT_ROOT,
    VAR_DIR,
    ProductionSettings,
    StackSettings,
    TelegramSettings,
    WebchatSettings,
    process_environment,
)
from core.stack import BASE_VARIABLES, RASA_HEALTH, Program, programs

PROD_ENDPOINTS = "bot/endpoints.production.yml"
NGINX_TEMPLATE = "deploy/nginx/berufsorientierung.conf"
PASSIVE_CHECK = "max_fails=1 fail_timeout=5s"  # one failed attempt takes a replica out for 5 s
# ... but never all of them: the same servers again as backups that are never taken out. When every replica is
# marked failed (one restarting, the other's keep-alive connection closed by its graceful shutdown a moment
# before), nginx tries the backups instead of answering 502 "no live upstreams" at once; a replica that is really
# down refuses the connection in microseconds on loopback and the request goes on to the next one.
LAST_RESORT = "backup max_fails=0"
# what the public site adds for several replicas (inserted after the chat site's proxy_read_timeout)
NEXT_UPSTREAM = """\
    # several Rasa replicas (make run-prod): a request that fails on one (refused, reset, 502/503, no answer) is
    # passed to the next one, messages included (non_idempotent: a replica killed after storing a message but
    # before answering may see it processed twice - never lost)
    proxy_next_upstream error timeout http_502 http_503 non_idempotent;
    proxy_next_upstream_tries 3;
    proxy_next_upstream_timeout 10s;
"""


def prod_dir(environ: Mapping[str, str]) -> Path:
    """``RUN_DIR`` when it is set, else ``var/prod`` (never the development profile's ``var/``)."""
    return Path(environ["RUN_DIR"]) if environ.get("RUN_DIR") else VAR_DIR / "prod"


def exports(environ: Mapping[str, str]) -> dict[str, str]:
    """What ``scripts/run-prod.sh`` exports before it hands over to ``scripts/run.sh``."""
    prod = ProductionSettings.from_env(environ)
    values = {
        "STACK_PROFILE": "production",
        "RUN_DIR": str(prod_dir(environ)),
        "KB_DATABASE_URL": prod.database_url,
        "RETENTION_TRACKER_DB_URL": prod.tracker_database_url,
        # the page calls Rasa on its own origin through nginx (no CORS); the console believes nginx's headers
        "WEBCHAT_RASA_URL": environ.get("WEBCHAT_RASA_URL") or "/rasa",
        "CONSOLE_TRUSTED_PROXIES": environ.get("CONSOLE_TRUSTED_PROXIES") or protocol.LOOPBACK,
    }
    return values


def _database_parts(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres") or not parts.path.strip("/"):
        raise SettingsError("PROD_TRACKER_DATABASE_URL: needs postgresql://[user[:password]@]host[:port]/database")
    return {
        "TRACKER_DB_HOST": parts.hostname or protocol.LOOPBACK,
        "TRACKER_DB_PORT": str(parts.port or 5432),
        "TRACKER_DB_NAME": unquote(parts.path.strip("/")),
        "TRACKER_DB_USER": unquote(parts.username) if parts.username else getpass.getuser(),
        "TRACKER_DB_PASSWORD": unquote(parts.password or ""),
    }


def _redis_parts(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    if parts.scheme != "redis" or parts.password:
        raise SettingsError("PROD_REDIS_URL: needs redis://host[:port][/db] (no password: Redis on loopback)")
    db = parts.path.strip("/") or "0"
    if not db.isdigit():
        raise SettingsError("PROD_REDIS_URL: the database is a number (redis://host:port/0)")
    return {"REDIS_HOST": parts.hostname or protocol.LOOPBACK, "REDIS_PORT": str(parts.port or 6379), "REDIS_DB": db}


def _with_port(argv: tuple[str, ...], port: int) -> tuple[str, ...]:
    args = list(argv)
    args[args.index("--port") + 1] = str(port)
    if "--cors" in args:  # same origin through nginx: no CORS
        at = args.index("--cors")
        del args[at:at + 2]
    return tuple(args)


def production_programs(environ: Mapping[str, str], root: Path = PROJECT_ROOT) -> list[Program]:
    """The programs of ``core.stack.programs`` for the production endpoints, replicated, plus nginx."""
    prod = ProductionSettings.from_env(environ)
    stack = StackSettings.from_env(environ)
    stores = {**_database_parts(prod.tracker_database_url), **_redis_parts(prod.redis_url),
              "TICKET_LOCK_LIFETIME": str(prod.lock_lifetime)}
    env = {**environ, **stores}
    result: list[Program] = []
    for program in programs(env, root, endpoints=PROD_ENDPOINTS):
        if program.name == "rasa":
            rasa_env = {**program.env, **stores}  # TRACKER_DB_PASSWORD even when empty (Rasa expands ${…})
            for i in range(1, prod.rasa_replicas + 1):
                port = stack.rasa_port + i
                result.append(replace(program, name=f"rasa{i}", argv=_with_port(program.argv, port), env=rasa_env,
                                      health_url=f"http://{protocol.LOOPBACK}:{port}{RASA_HEALTH}"))
        elif program.name == "actions":
            for i in range(1, prod.action_workers + 1):
                port = stack.action_port + i
                result.append(replace(program, name=f"actions{i}", env={**program.env, "ACTION_PORT": str(port)},
                                      health_url=f"http://{protocol.LOOPBACK}:{port}{protocol.ACTION_HEALTH_PATH}"))
        else:
            result.append(program)
    conf_dir = prod_dir(environ) / "nginx"
    result.append(Program(
        "nginx", (prod.nginx, "-p", str(conf_dir), "-c", str(conf_dir / "nginx.conf")),
        {name: environ[name] for name in BASE_VARIABLES if environ.get(name)},
        f"http://{protocol.LOOPBACK}:{stack.rasa_port}{RASA_HEALTH}", startsecs=2, priority=60,
    ))
    return result


def _sub(pattern: str, replacement: str, text: str, count: int = 0) -> str:
    """``re.sub`` that insists on a match: a changed template must not silently lose a setting."""
    new, found = re.subn(pattern, lambda _: replacement, text, count=count)
    if not found:
        raise SettingsError(f"{NGINX_TEMPLATE}: the template no longer contains {pattern!r}")
    return new


def _upstream(name: str, ports: list[int]) -> str:
    """Replicas with passive health checks, the same servers again as last-resort backups, and no keep-alive
    connections: a replica that stops (SIGTERM, a rolling restart) closes its listening socket, and new requests
    are refused there and retried on another replica at once. Over kept-alive connections nginx went on sending it
    new requests until Sanic's graceful-shutdown timeout aborted them (measured: a restart took 20 s and ended in
    SIGKILL, one message got a 504). A new loopback connection per request costs microseconds."""
    servers = " ".join([*(f"server {protocol.LOOPBACK}:{port} {PASSIVE_CHECK};" for port in ports),
                        *(f"server {protocol.LOOPBACK}:{port} {LAST_RESORT};" for port in ports)])
    return f"upstream {name} {{ {servers} }}"


def site(environ: Mapping[str, str], root: Path = PROJECT_ROOT) -> str:
    """The public site of ``deploy/nginx/berufsorientierung.conf`` with this profile's replicas, ports, host names
    and certificate."""
    prod = ProductionSettings.from_env(environ)
    stack = StackSettings.from_env(environ)
    webchat = WebchatSettings.from_env(environ)
    telegram_port = int(environ.get("TELEGRAM_PORT") or TelegramSettings.model_fields["port"].default)
    console_port = int(environ.get("CONSOLE_PORT") or protocol.DEFAULT_CONSOLE_PORT)
    cert, key = certificate_paths(environ)
    text = (root / NGINX_TEMPLATE).read_text(encoding="utf-8")
    text = re.sub(r"\A(#[^\n]*\n)+", "", text)  # the template's own header (how to use the example)
    replicas = [stack.rasa_port + i for i in range(1, prod.rasa_replicas + 1)]
    text = _sub(r"upstream bo_rasa\s*\{[^}]*\}", _upstream("bo_rasa", replicas), text)
    for name, port in (("bo_webchat", webchat.port), ("bo_telegram", telegram_port), ("bo_console", console_port)):
        text = _sub(rf"upstream {name}\s*\{{[^}}]*\}}", f"upstream {name} {{ server {protocol.LOOPBACK}:{port}; }}",
                    text)
    host = prod.listen_host
    text = _sub(r"\n\s*listen \[::\]:\d+( ssl)?;", "", text)
    text = _sub(r"listen 443 ssl;", f"listen {host}:{prod.https_port} ssl;", text)
    text = _sub(r"listen 80;", f"listen {host}:{prod.http_port};", text)
    if prod.https_port != 443:
        text = _sub(r"return 301 https://\$host\$request_uri;",
                    f"return 301 https://$host:{prod.https_port}$request_uri;", text)
    text = _sub(r"ssl_certificate\s+\S+;", f"ssl_certificate     {cert};", text)
    text = _sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};", text)
    text = _sub(r"\bchat\.example\.org\b", prod.chat_host, text)
    text = _sub(r"\bconsole\.example\.org\b", prod.console_host, text)
    # the chat site (the first server with a proxy_read_timeout): retries across the replicas
    return _sub(r"    proxy_read_timeout 30s;\n", "    proxy_read_timeout 30s;\n" + NEXT_UPSTREAM, text, count=1)


def nginx_conf(environ: Mapping[str, str], root: Path = PROJECT_ROOT) -> str:
    """nginx's whole configuration: the public site and the loopback listeners for the internal calls."""
    prod = ProductionSettings.from_env(environ)
    stack = StackSettings.from_env(environ)
    run_dir = prod_dir(environ)
    conf_dir, log_dir = run_dir / "nginx", run_dir / "log"
    actions = [stack.action_port + i for i in range(1, prod.action_workers + 1)]
    replicas = [stack.rasa_port + i for i in range(1, prod.rasa_replicas + 1)]
    internal = f"""\
    # internal, loopback only: the console and the bridge call Rasa here, Rasa calls the action server here
    {_upstream("bo_rasa_internal", replicas)}
    {_upstream("bo_actions", actions)}
    server {{
        listen {protocol.LOOPBACK}:{stack.rasa_port};
        client_max_body_size {stack.rasa_request_max_size};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_read_timeout 60s;
        proxy_next_upstream error timeout http_502 http_503;
        location / {{ proxy_pass http://bo_rasa_internal; }}
    }}
    server {{
        listen {protocol.LOOPBACK}:{stack.action_port};
        client_max_body_size {stack.action_request_max_size};
        client_body_buffer_size {stack.action_request_max_size};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_read_timeout 60s;
        proxy_next_upstream error http_502 http_503;
        location / {{ proxy_pass http://bo_actions; }}
    }}
"""
    site_text = "\n".join("    " + line if line else line for line in site(environ, root).splitlines())
    return f"""\
# generated by `python -m core.production prepare` (make run-prod) from {NGINX_TEMPLATE}; do not edit
daemon off;
pid {conf_dir / "nginx.pid"};
error_log {log_dir / "nginx-error.log"} warn;
worker_processes auto;
events {{ worker_connections 1024; }}
http {{
    # no query strings in the log (the outbox's ?sender= is a conversation id)
    log_format bo '$remote_addr [$time_local] "$request_method $uri" $status $request_time $upstream_addr';
    access_log {log_dir / "nginx-access.log"} bo;
    client_body_temp_path {conf_dir / "tmp" / "body"};
    proxy_temp_path {conf_dir / "tmp" / "proxy"};
    fastcgi_temp_path {conf_dir / "tmp" / "fastcgi"};
    client_body_buffer_size 64k;  # a whole message stays in memory

{site_text}

{internal}}}
"""


def certificate_paths(environ: Mapping[str, str]) -> tuple[Path, Path]:
    prod = ProductionSettings.from_env(environ)
    if prod.tls_cert and prod.tls_key:
        return prod.tls_cert, prod.tls_key
    if prod.tls_cert or prod.tls_key:
        raise SettingsError("PROD_TLS_CERT and PROD_TLS_KEY: both or neither")
    tls = prod_dir(environ) / "tls"
    return tls / "cert.pem", tls / "key.pem"


def ensure_certificate(environ: Mapping[str, str]) -> None:
    """Without ``PROD_TLS_CERT``: a self-signed certificate for the two host names (replace it for real use)."""
    cert, key = certificate_paths(environ)
    if cert.exists() and key.exists():
        return
    prod = ProductionSettings.from_env(environ)
    cert.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "365", "-subj", f"/CN={prod.chat_host}",
                    "-addext", f"subjectAltName=DNS:{prod.chat_host},DNS:{prod.console_host}"],
                   check=True, capture_output=True, timeout=60)
    key.chmod(0o600)


def ensure_databases(environ: Mapping[str, str]) -> list[str]:
    """Create the application and the tracker database when they are missing (needs the CREATEDB right);
    returns the names created."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    prod = ProductionSettings.from_env(environ)
    created = []
    for url in (prod.database_url, prod.tracker_database_url):
        target = make_url(url)
        if not target.drivername.startswith("postgresql") or not target.database:
            raise SettingsError("PROD_DATABASE_URL / PROD_TRACKER_DATABASE_URL: postgresql://…/database expected")
        admin = create_engine(target.set(drivername="postgresql+psycopg", database="postgres"),
                              isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                      {"name": target.database}).first()
                if not exists:
                    quoted = '"' + target.database.replace('"', '""') + '"'
                    conn.execute(text(f"CREATE DATABASE {quoted}"))
                    created.append(target.database)
        finally:
            admin.dispose()
    return created


def write_nginx_conf(environ: Mapping[str, str], root: Path = PROJECT_ROOT) -> Path:
    conf_dir = prod_dir(environ) / "nginx"
    for sub in ("tmp", "logs"):  # logs/: nginx opens its compiled-in error log there before reading the config
        (conf_dir / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
    (prod_dir(environ) / "log").mkdir(parents=True, exist_ok=True, mode=0o700)
    path = conf_dir / "nginx.conf"
    path.write_text(nginx_conf(environ, root), encoding="utf-8")
    return path


def prepare(environ: Mapping[str, str], root: Path = PROJECT_ROOT) -> Path:
    """Databases, certificate and nginx configuration; ``nginx -t`` checks the result."""
    for name in ensure_databases(environ):
        print(f"Datenbank {name} angelegt.")
    ensure_certificate(environ)
    path = write_nginx_conf(environ, root)
    nginx = ProductionSettings.from_env(environ).nginx
    checked = subprocess.run([nginx, "-t", "-q", "-p", str(path.parent), "-c", str(path)], capture_output=True,
                             text=True, timeout=60)
    if checked.returncode != 0:
        raise SettingsError(f"nginx -t: {checked.stderr.strip()[-1000:]}")
    return path


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        if args == ["exports"]:
            for name, value in exports(process_environment()).items():
                print(f"export {name}={shlex.quote(value)}")
            return 0
        if args == ["prepare"]:
            print(prepare(process_environment()))
            return 0
    except SettingsError as exc:
        print(f"Einstellung ungültig: {exc}", file=sys.stderr)
        return 2
    print("usage: python -m core.production exports | prepare", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
