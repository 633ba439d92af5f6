"""The supervisor configuration of `make run` (core/stack.py): per-process environment, no secret on a command
line, rotation and restart settings, Rasa's action-call header and timeout (no processes started here)."""

from __future__ import annotations

import configparser
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from core import protocol
from core.errors import SettingsError
from core.stack import programs, rasa_variables, supervisord_conf, unassigned_sections, write_config
from rasa_plugins.serve import rasa_arguments
from tests.rasa_cli import ROOT

SECRETS = {
    "CONSOLE_SECRET_KEY": "console-secret-" + "c" * 20,
    "RASA_TOKEN": "rasa-token-" + "r" * 20,
    "ACTION_SERVER_TOKEN": "action-token-" + "a" * 20,
    "CONSOLE_INBOUND_TOKEN": "inbound-" + "i" * 20,
    "TELEGRAM_BOT_TOKEN": "123:telegram-" + "t" * 20,
    "CONSOLE_ADMIN_PASSWORD": "admin-pass-" + "p" * 10,
}


def environ(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "RUN_DIR": str(tmp_path / "run"),
            "KB_DATABASE_URL": f"sqlite:///{tmp_path}/kb.sqlite3", "UNRELATED_SECRET": "must-not-leak",
            **SECRETS, **extra}


def by_name(tmp_path: Path, **extra: str) -> dict[str, dict[str, str]]:
    return {p.name: p.env for p in programs(environ(tmp_path, **extra))}


def test_each_process_gets_only_its_secrets(tmp_path: Path) -> None:
    env = by_name(tmp_path)
    assert set(env) == {"actions", "console", "webchat", "telegram", "rasa"}
    holders = {name: {p for p, e in env.items() if name in e} for name in SECRETS}
    assert holders["CONSOLE_SECRET_KEY"] == {"console"}
    assert holders["CONSOLE_ADMIN_PASSWORD"] == {"console"}
    assert holders["RASA_TOKEN"] == {"rasa", "console", "telegram"}
    assert holders["ACTION_SERVER_TOKEN"] == {"rasa", "actions"}
    assert holders["CONSOLE_INBOUND_TOKEN"] == {"rasa", "console", "telegram"}
    assert holders["TELEGRAM_BOT_TOKEN"] == {"telegram"}
    assert not any("UNRELATED_SECRET" in e for e in env.values())
    assert "KB_DATABASE_URL" not in env["webchat"] and "KB_DATABASE_URL" not in env["rasa"]
    # what each needs to run is there
    assert env["actions"]["ACTION_PORT"] == str(protocol.DEFAULT_ACTION_PORT)
    assert env["rasa"]["ACTION_SERVER_URL"].endswith("/webhook") and env["rasa"]["ACTION_TIMEOUT"] == "5.0"
    assert env["rasa"]["SANIC_REQUEST_MAX_SIZE"] == env["console"].get("RASA_REQUEST_MAX_SIZE", "1048576")


def test_telegram_only_with_a_bot_token(tmp_path: Path) -> None:
    env = environ(tmp_path)
    del env["TELEGRAM_BOT_TOKEN"]
    assert "telegram" not in {p.name for p in programs(env)}


def test_no_secret_on_any_command_line(tmp_path: Path) -> None:
    for program in programs(environ(tmp_path)):
        line = " ".join(program.argv)
        assert not any(value in line for value in SECRETS.values()), program.name
        assert "--auth-token" not in line
    rasa = next(p for p in programs(environ(tmp_path)) if p.name == "rasa")
    assert rasa.argv[1:3] == ("-m", "rasa_plugins.serve")


def test_the_launcher_adds_the_token_inside_the_process() -> None:
    assert rasa_arguments(["run", "--port", "5005"], "tok") == ["run", "--port", "5005", "--auth-token=tok"]
    assert rasa_arguments(["run"], None) == ["run"]
    assert rasa_arguments(["shell"], "tok") == ["shell"]


def test_every_settings_section_reaches_a_process() -> None:
    assert unassigned_sections() == []


def test_rasa_gets_what_its_plugins_and_yaml_read() -> None:
    names = rasa_variables()
    assert {"CONSOLE_INBOUND_TOKEN", "CONSOLE_URL", "ACTION_TIMEOUT", "RASA_TOKEN", "ACTION_SERVER_URL",
            "ACTION_SERVER_TOKEN", "TRACKER_DB_PATH", "FACEBOOK_SECRET"} <= names
    assert "CONSOLE_SECRET_KEY" not in names
    production = rasa_variables(endpoints="bot/endpoints.production.yml")
    assert {"TRACKER_DB_PASSWORD", "REDIS_HOST", "ACTION_SERVER_TOKEN"} <= production


@pytest.mark.parametrize("endpoints", ["bot/endpoints.yml", "bot/endpoints.production.yml"])
def test_rasa_sends_the_action_token_header(endpoints: str) -> None:
    config = yaml.safe_load((ROOT / endpoints).read_text(encoding="utf-8"))
    assert config["action_endpoint"]["headers"] == {protocol.ACTION_TOKEN_HEADER: "${ACTION_SERVER_TOKEN}"}


def test_supervisor_config_restarts_rotates_and_is_private(tmp_path: Path) -> None:
    path = write_config(environ(tmp_path, CONSOLE_HANDOFF_NOTE="100% sicher"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "run" / "log").stat().st_mode) == 0o700
    parser = configparser.RawConfigParser()
    parser.read(path)
    assert parser.get("supervisord", "nodaemon") == "true" and parser.get("supervisord", "umask") == "077"
    for name in ("actions", "console", "webchat", "telegram", "rasa"):
        section = f"program:{name}"
        assert parser.get(section, "autorestart") == "true"
        assert int(parser.get(section, "startretries")) >= 3 and int(parser.get(section, "startsecs")) >= 1
        assert parser.get(section, "stdout_logfile") == str(tmp_path / "run" / "log" / f"{name}.log")
        assert parser.get(section, "stdout_logfile_maxbytes") and int(parser.get(section, "stdout_logfile_backups")) > 0
    assert parser.get("program:actions", "priority") < parser.get("program:rasa", "priority")


def test_supervisor_reads_the_environment_back_unchanged(tmp_path: Path) -> None:
    """Values with %, commas and spaces survive supervisor's own parser (`supervisord -c … --help` would not
    parse the programs; its options module does)."""
    env = environ(tmp_path, HANDOFF_OFFICE_HOURS="Mo-Do 09:00-17:00; Fr 09:00-13:00", HANDOFF_CLOSED_DAYS="2026-12-24,2026-12-31",
                  PSEUDONYM_KEY="50%off")
    path = write_config(env)
    script = (
        "import sys; from supervisor.options import ServerOptions; o = ServerOptions(); "
        "o.realize(['-c', sys.argv[1]]); "
        "c = {g.name: g.process_configs[0] for g in o.process_group_configs}; "
        "print(repr({n: (c[n].environment, c[n].command) for n in c}))"
    )
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-c", script, str(path)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    parsed = eval(done.stdout.strip().splitlines()[-1])  # noqa: S307 - our own repr
    assert parsed["actions"][0]["HANDOFF_OFFICE_HOURS"] == "Mo-Do 09:00-17:00; Fr 09:00-13:00"
    assert parsed["actions"][0]["HANDOFF_CLOSED_DAYS"] == "2026-12-24,2026-12-31"
    assert parsed["console"][0]["PSEUDONYM_KEY"] == "50%off"
    assert parsed["rasa"][0]["RASA_TOKEN"] == SECRETS["RASA_TOKEN"]
    assert "rasa_plugins.serve" in parsed["rasa"][1]


def test_values_supervisor_cannot_carry_are_refused(tmp_path: Path) -> None:
    items = programs(environ(tmp_path, HANDOFF_OFFICE_HOURS='Mo-Fr "09:00-17:00"'))
    with pytest.raises(SettingsError, match="HANDOFF_OFFICE_HOURS"):
        supervisord_conf(items, tmp_path)
