"""The processes of ``make run``: command lines, the environment each one gets, health checks, and the supervisor
configuration that runs them. ``scripts/run.sh`` and ``tests/servers.py`` both take the command lines from here.

    python -m core.stack write-config   writes ``$RUN_DIR/supervisord.conf`` (mode 0600), prints its path
    python -m core.stack health-urls    ``name url`` per process: what the start-up wait polls

Per-process environment (an allow-list, nothing inherited): supervisord itself runs with an empty environment
(``env -i`` in ``scripts/run.sh``) and every program gets :data:`BASE_VARIABLES`, the *plain* settings of every
section of ``core/settings.py`` (ports, URLs, office hours …), and only those *secrets* (:func:`is_secret`:
``*_TOKEN``, ``*_SECRET``, ``*_KEY``, ``*_PASSWORD``, database URLs) that the settings sections it reads contain
(:data:`PROGRAM_SECTIONS`). Rasa gets the variables that ``rasa_plugins/settings.py`` reads and that its YAML
files name (``${…}``). So the console's session key is only in the console, ``RASA_TOKEN`` only in Rasa, the
console and the bridge, ``ACTION_SERVER_TOKEN`` only in Rasa and the action server.
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core import protocol
from core.errors import SettingsError
from core.settings import (
    PROJECT_ROOT,
    SECTIONS,
    ActionServerSettings,
    ConsoleSettings,
    FaqSettings,
    HandoffSettings,
    PrivacySettings,
    ProductionSettings,
    RetentionSettings,
    StackSettings,
    TelegramSettings,
    WebchatSettings,
    _Section,
    process_environment,
    shell_exports,
)

APP_PYTHON = ".venv/bin/python"
RASA_PYTHON = ".venv-rasa/bin/python"
MODEL = "models/bot.tar.gz"
ENDPOINTS = "bot/endpoints.yml"
CREDENTIALS = "bot/credentials.yml"
HEALTHZ = "/healthz"  # console, web chat, Telegram bridge
RASA_HEALTH = "/"  # Rasa's "Hello from Rasa"

# Every process: where programs are, locale, and the switches the Makefile exports.
BASE_VARIABLES = (
    "PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "PYTHONPATH", "SQLALCHEMY_SILENCE_UBER_WARNING",
    "TF_CPP_MIN_LOG_LEVEL", "RASA_TELEMETRY_ENABLED",
    # outgoing connections (Telegram's and Meta's APIs) through the operator's proxy and CA bundle
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy", "REQUESTS_CA_BUNDLE",
    "SSL_CERT_FILE",
)
# program → the settings sections whose *secrets* it gets (core/settings.py); StackSettings is make run's own.
# Plain settings (no secret, see is_secret) of every section reach every process anyway: list a section here
# only if the process needs its secrets (a section inheriting DatabaseSettings brings KB_DATABASE_URL).
PROGRAM_SECTIONS: dict[str, tuple[type[_Section], ...]] = {
    "actions": (ActionServerSettings, HandoffSettings, RetentionSettings, PrivacySettings, FaqSettings),
    "console": (ConsoleSettings, HandoffSettings, RetentionSettings, PrivacySettings),
    "webchat": (WebchatSettings, PrivacySettings),  # /datenschutz: RETENTION_* are plain settings, they reach it
    "telegram": (TelegramSettings,),
}
RASA_EXTRA = ("RASA_TOKEN", "ACTION_TIMEOUT", "SANIC_REQUEST_MAX_SIZE", "PYTHONWARNINGS")
LOG_MAX_BYTES = "10MB"
LOG_BACKUPS = 5


@dataclass(frozen=True)
class Program:
    """One supervised process."""

    name: str  # supervisor's program name and the log file var/log/<name>.log
    argv: tuple[str, ...]
    env: dict[str, str] = field(hash=False)
    health_url: str
    startsecs: int = 3  # alive this long = started; a crash before is retried with back-off
    priority: int = 100  # lower starts first, stops last


def rasa_variables(root: Path = PROJECT_ROOT, endpoints: str = ENDPOINTS) -> set[str]:
    """What Rasa reads from its environment: ``rasa_plugins/settings.py`` and ``${…}`` in its YAML files."""
    code = (root / "rasa_plugins" / "settings.py").read_text(encoding="utf-8")
    names = set(re.findall(r"environ(?:\.get\(|\[)\s*[\"']([A-Z][A-Z0-9_]*)[\"']", code))
    for path in (root / endpoints, root / CREDENTIALS):
        names |= set(re.findall(r"\$\{(\w+)\}", path.read_text(encoding="utf-8")))
    return names | set(RASA_EXTRA)


SECRET_NAME = re.compile(r"(TOKEN|SECRET|_KEY|PASSWORD|DATABASE_URL)$")


def is_secret(name: str) -> bool:
    """Variables that only the processes reading them get (tokens, keys, passwords, database URLs)."""
    return bool(SECRET_NAME.search(name))


def section_variables(sections: tuple[type[_Section], ...]) -> set[str]:
    """Every plain setting of every section, and the secrets of ``sections``."""
    plain = {name for section in SECTIONS for name in section.variables() if not is_secret(name)}
    return plain | {name for section in sections for name in section.variables()}


def _pick(env: Mapping[str, str], names: set[str]) -> dict[str, str]:
    """The allowed variables that are set; an empty value counts as set for a program's own names (Rasa expands
    ``${TRACKER_DB_PASSWORD}`` and fails if it is missing, even when the password is empty)."""
    picked = {name: env[name] for name in BASE_VARIABLES if env.get(name)}
    picked.update({name: env[name] for name in names if name in env})
    return dict(sorted(picked.items()))


def _probe(host: str, port: str, path: str) -> str:
    address = protocol.LOOPBACK if host in ("", "0.0.0.0", "::") else host
    return f"http://{address}:{port}{path}"


def programs(
    environ: Mapping[str, str], root: Path = PROJECT_ROOT, endpoints: str = ENDPOINTS, model: str = MODEL,
    cors: str = "*",
) -> list[Program]:
    """The processes of the stack for this environment (Telegram only with ``TELEGRAM_BOT_TOKEN``)."""
    env = {**environ, **shell_exports(environ)}
    env.setdefault("PYTHONPATH", str(root))
    app_python, rasa_python = str(root / APP_PYTHON), str(root / RASA_PYTHON)
    result = [
        Program("actions", (app_python, "-m", "actions.server"),
                _pick(env, section_variables(PROGRAM_SECTIONS["actions"])),
                _probe(env["ACTION_HOST"], env["ACTION_PORT"], protocol.ACTION_HEALTH_PATH), priority=10),
        Program("console", (app_python, "-m", "channels.console"),
                _pick(env, section_variables(PROGRAM_SECTIONS["console"])),
                _probe(env["CONSOLE_HOST"], env["CONSOLE_PORT"], HEALTHZ), priority=20),
        Program("webchat", (app_python, "-m", "channels.webchat"),
                _pick(env, section_variables(PROGRAM_SECTIONS["webchat"])),
                _probe(env["WEBCHAT_HOST"], env["WEBCHAT_PORT"], HEALTHZ), priority=30),
    ]
    if env.get("TELEGRAM_BOT_TOKEN"):
        result.append(Program("telegram", (app_python, "-m", "channels.telegram"),
                              _pick(env, section_variables(PROGRAM_SECTIONS["telegram"])),
                              _probe(env["TELEGRAM_HOST"], env["TELEGRAM_PORT"], HEALTHZ), priority=40))
    rasa_env = {**env, "SANIC_REQUEST_MAX_SIZE": env["RASA_REQUEST_MAX_SIZE"],
                "PYTHONWARNINGS": env.get("PYTHONWARNINGS") or "ignore::DeprecationWarning"}
    result.append(Program(
        "rasa",
        (rasa_python, "-m", "rasa_plugins.serve", "run", "--model", model, "--enable-api",
         "--interface", env["RASA_HOST"], "--port", env["RASA_PORT"], "--endpoints", endpoints,
         "--credentials", CREDENTIALS, "--cors", cors),
        _pick(rasa_env, rasa_variables(root, endpoints)),
        _probe(env["RASA_HOST"], env["RASA_PORT"], RASA_HEALTH), startsecs=5, priority=50,
    ))
    return result


def _conf_value(value: str) -> str:
    """A value in supervisor's INI file: ``%`` doubled (supervisor expands ``%(…)s``)."""
    if "\n" in value or "\r" in value:
        raise SettingsError("a value for supervisor must not contain a line break")
    return value.replace("%", "%%")


def _environment(env: Mapping[str, str]) -> str:
    parts = []
    for name, value in env.items():
        if '"' in value:
            raise SettingsError(f"{name}: must not contain a double quote (supervisor's environment=)")
        parts.append(f'{name}="{_conf_value(value)}"')
    return ",".join(parts)


def supervisord_conf(items: list[Program], run_dir: Path, root: Path = PROJECT_ROOT) -> str:
    """The supervisor configuration: foreground, logs with rotation in ``run_dir/log``, a control socket."""
    log_dir = run_dir / "log"
    lines = [
        "; generated by `python -m core.stack write-config` (scripts/run.sh); contains secrets: mode 0600",
        "[supervisord]",
        "nodaemon=true",
        f"logfile={_conf_value(str(log_dir / 'supervisord.log'))}",
        f"logfile_maxbytes={LOG_MAX_BYTES}",
        f"logfile_backups={LOG_BACKUPS}",
        f"pidfile={_conf_value(str(run_dir / 'supervisord.pid'))}",
        f"childlogdir={_conf_value(str(log_dir))}",
        f"directory={_conf_value(str(root))}",
        "umask=077",
        "",
        "[unix_http_server]",
        f"file={_conf_value(str(run_dir / 'supervisor.sock'))}",
        "chmod=0700",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{_conf_value(str(run_dir / 'supervisor.sock'))}",
    ]
    for program in items:
        lines += [
            "",
            f"[program:{program.name}]",
            f"command={_conf_value(shlex.join(program.argv))}",
            f"directory={_conf_value(str(root))}",
            f"environment={_environment(program.env)}",
            f"priority={program.priority}",
            "autostart=true",
            "autorestart=true",
            f"startsecs={program.startsecs}",
            "startretries=10",
            "stopsignal=TERM",
            "stopwaitsecs=20",
            "stopasgroup=true",
            "killasgroup=true",
            "redirect_stderr=true",
            f"stdout_logfile={_conf_value(str(log_dir / (program.name + '.log')))}",
            f"stdout_logfile_maxbytes={LOG_MAX_BYTES}",
            f"stdout_logfile_backups={LOG_BACKUPS}",
        ]
    return "\n".join(lines) + "\n"


def stack_programs(environ: Mapping[str, str], root: Path = PROJECT_ROOT) -> list[Program]:
    """The programs of the profile ``STACK_PROFILE`` selects: :func:`programs`, or with ``production`` the
    replicated ones behind nginx (``core/production.py``)."""
    if ProductionSettings.from_env(environ).profile != "production":
        return programs(environ, root)
    from core.production import production_programs

    return production_programs(environ, root)


def write_config(environ: Mapping[str, str], root: Path = PROJECT_ROOT) -> Path:
    """``$RUN_DIR/supervisord.conf`` for this environment, readable by the owner only."""
    run_dir = StackSettings.from_env(environ).run_dir
    (run_dir / "log").mkdir(parents=True, exist_ok=True, mode=0o700)
    path = run_dir / "supervisord.conf"
    text = supervisord_conf(stack_programs(environ, root), run_dir, root)
    if ProductionSettings.from_env(environ).profile == "production":
        from core.production import write_nginx_conf

        write_nginx_conf(environ, root)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(text, encoding="utf-8")
    return path


def unassigned_sections() -> list[str]:
    """Settings sections that no program gets (a new section must be added to :data:`PROGRAM_SECTIONS`)."""
    assigned = {s for sections in PROGRAM_SECTIONS.values() for s in sections} | {StackSettings, ProductionSettings}
    return [s.__name__ for s in SECTIONS
            if s not in assigned and not any(issubclass(a, s) for a in assigned)]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        if args == ["write-config"]:
            print(write_config(process_environment()))
            return 0
        if args == ["health-urls"]:
            for program in stack_programs(process_environment()):
                print(program.name, program.health_url)
            return 0
    except SettingsError as exc:
        print(f"Einstellung ungültig: {exc}", file=sys.stderr)
        return 2
    print("usage: python -m core.stack write-config | health-urls", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
