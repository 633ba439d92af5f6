"""A vanilla Rasa bot for the side-by-side benchmark (tests/bench/side_by_side.py).

``rasa init --no-prompt`` (Rasa 3.6 from ``.venv-rasa``, nothing is downloaded) in a temporary folder, plus ONE
custom action: the ``action_hello_world`` that ``rasa init`` ships commented out in ``actions/actions.py``, wired by
a rule to the intent ``bot_challenge`` ("are you a bot?"). Served by rasa-sdk from ``.venv`` (the same version as
our action server), in-memory tracker store and lock store (Rasa's defaults), the built-in ``rest`` channel.

The project and its trained model are cached in ``var/bench-vanilla/rasa-<version>-<hash of the changes>/``, so a
second ``make bench`` starts at once.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.rasa_cli import RASA, ROOT, rasa_env
from tests.servers import APP_PYTHON, Process, free_port

CACHE = ROOT / "var" / "bench-vanilla"

ACTIONS_PY = '''from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher


class ActionHelloWorld(Action):
    def name(self) -> Text:
        return "action_hello_world"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(text="Hello World!")
        return []
'''
RULE_OLD = "  - action: utter_iamabot\n"
RULE_NEW = "  - action: action_hello_world\n"
DOMAIN_ADD = "\nactions:\n  - action_hello_world\n"
ENDPOINTS = "action_endpoint:\n  url: \"{url}\"\n"  # no tracker_store / lock_store: in memory

# The messages a vanilla user sends (cycle of 8, like ours), along rasa init's own stories (sad path 1, the bot
# rule, sad path 2, the bot rule): "are you a bot?" / "are you a human?" run the custom action on the action server.
# Conversations start at different places of the cycle, so a message can fall outside the stories; rasa init's bot
# may then answer with nothing, which the bench accepts from it (side_by_side.Bot.always_replies).
MESSAGES = [
    "hello",
    "I am sad",
    "yes",
    "are you a bot?",
    "hello",
    "I am sad",
    "no",
    "are you a human?",
]


def rasa_version() -> str:
    done = subprocess.run([str(ROOT / ".venv-rasa" / "bin" / "python"), "-c", "import rasa; print(rasa.__version__)"],
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def cache_dir() -> Path:
    changes = hashlib.sha256((ACTIONS_PY + RULE_NEW + DOMAIN_ADD).encode()).hexdigest()[:10]
    return CACHE / f"rasa-{rasa_version()}-{changes}"


def _vanilla_env(project: Path, **extra: str) -> dict[str, str]:
    return rasa_env(PYTHONPATH=str(project), **extra)


def prepare() -> Path:
    """The vanilla project with its trained model (``models/vanilla.tar.gz``), built once and cached."""
    target = cache_dir()
    if (target / "models" / "vanilla.tar.gz").exists():
        return target
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "vanilla"
        project.mkdir()
        env = _vanilla_env(project)
        subprocess.run([str(RASA), "init", "--no-prompt", "--init-dir", str(project)], cwd=tmp, env=env,
                       check=True, capture_output=True)
        (project / "actions" / "actions.py").write_text(ACTIONS_PY, encoding="utf-8")
        rules = project / "data" / "rules.yml"
        text = rules.read_text(encoding="utf-8")
        assert RULE_OLD in text, "rasa init's rules.yml changed"
        rules.write_text(text.replace(RULE_OLD, RULE_NEW), encoding="utf-8")
        with (project / "domain.yml").open("a", encoding="utf-8") as domain:
            domain.write(DOMAIN_ADD)
        shutil.rmtree(project / "models", ignore_errors=True)
        subprocess.run([str(RASA), "train", "--fixed-model-name", "vanilla", "--out", "models", "--quiet"],
                       cwd=project, env=env, check=True, capture_output=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(project, target, ignore=shutil.ignore_patterns("__pycache__", ".rasa"))
    return target


class VanillaStack:
    """rasa-sdk action server + ``rasa run`` of the vanilla project on free loopback ports."""

    def __init__(self, project: Path, workdir: Path) -> None:
        action_port, rasa_port = free_port(), free_port()
        self.rasa_url = f"http://127.0.0.1:{rasa_port}"
        endpoints = workdir / "vanilla-endpoints.yml"
        endpoints.write_text(ENDPOINTS.format(url=f"http://127.0.0.1:{action_port}/webhook"), encoding="utf-8")
        env = _vanilla_env(project)
        self.actions = Process(
            "vanilla action server",
            [str(APP_PYTHON), "-m", "rasa_sdk", "--actions", "actions", "--port", str(action_port), "--quiet"],
            env, workdir / "vanilla-actions.log", f"http://127.0.0.1:{action_port}/health", cwd=project,
        )
        self.rasa = Process(
            "vanilla rasa server",
            [str(RASA), "run", "--model", str(project / "models" / "vanilla.tar.gz"), "--port", str(rasa_port),
             "--interface", "127.0.0.1", "--endpoints", str(endpoints), "--credentials",
             str(project / "credentials.yml")],
            env, workdir / "vanilla-rasa.log", f"{self.rasa_url}/", cwd=project,
        )

    def start(self) -> None:
        try:
            self.actions.start()
            self.rasa.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        self.rasa.stop()
        self.actions.stop()
