"""Running the Rasa command line (Rasa venv, Python 3.10) from the tests."""

from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path

from core.settings import shell_exports

ROOT = Path(__file__).resolve().parent.parent
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
MODEL = ROOT / "models" / "bot.tar.gz"


FACEBOOK_VARIABLES = ("FACEBOOK_VERIFY_TOKEN", "FACEBOOK_SECRET", "FACEBOOK_PAGE_ACCESS_TOKEN")


def rasa_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    resolved = shell_exports(env)  # the settings module's defaults, unless the environment sets them
    env.update(
        PYTHONPATH=str(ROOT),
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        TF_CPP_MIN_LOG_LEVEL="2",
        RASA_TELEMETRY_ENABLED="false",
        ACTION_SERVER_URL=resolved["ACTION_SERVER_URL"],
        TRACKER_DB_PATH=resolved["TRACKER_DB_PATH"],
    )
    for name in FACEBOOK_VARIABLES:  # bot/credentials.yml needs them; random: Messenger rejects everything
        env.setdefault(name, "unset-" + secrets.token_hex(16))
    env.update(extra)
    return env


def require_model(what: str) -> None:
    """Fail a test that needs the trained model but runs in the first phase of `make test` (while training)."""
    if os.environ.get("TEST_PHASE") == "without-model":
        raise RuntimeError(f"{what} needs the trained model: add the test file to NEEDS_MODEL in tests/conftest.py")


def run_rasa(*args: str, cwd: Path = ROOT, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    if "--model" in args or (args and args[0] in ("run", "shell", "test")):
        require_model(f"rasa {' '.join(args[:2])}")
    # `rasa test` loads the model: through rasa_plugins.serve (Rasa's own CLI with rasa_plugins.fast_load, the same
    # predictions as Rasa's load without its training step, tests/rasa/test_fast_load.py), as the servers do
    command = [str(RASA_PYTHON), "-m", "rasa_plugins.serve"] if args[:1] == ("test",) else [str(RASA)]
    return subprocess.run(
        [*command, *args], cwd=cwd, env=rasa_env(), capture_output=True, text=True, timeout=timeout
    )


RESULTS = ROOT / "results"


def write_result(name: str, text: str) -> None:
    """Measurements that the terminal summary prints at the end of the run (tests/conftest.py)."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / name).write_text(text + "\n", encoding="utf-8")
