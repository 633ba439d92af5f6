"""The layout's rules that import-linter cannot see: one home for settings, one home for protocol strings,
every variable documented, the Rasa-side package loadable in Rasa's own environment."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from core import protocol
from core.settings import SECTIONS
from tests.rasa_cli import RASA_PYTHON, ROOT

APPLICATION = ("core", "handoff", "knowledge_base", "actions", "channels", "rasa_plugins")
SETTINGS_MODULES = {ROOT / "core" / "settings.py", ROOT / "rasa_plugins" / "settings.py"}
RASA_SIDE_VARIABLES = ("CONSOLE_URL", "CONSOLE_INBOUND_TOKEN", "CONSOLE_TIMEOUT")
# Wire names that must be written in core/protocol.py only (code elsewhere uses the constants/constructors).
WIRE_STRINGS = (
    protocol.INBOUND_TOKEN_HEADER, protocol.DELETE_MARKER, protocol.DELETED_NOTICE, protocol.PUSH_PATH,
    protocol.CONSOLE_INBOUND_PATH, protocol.CONSOLE_OUTBOX_PENDING_PATH, protocol.CONSOLE_OUTBOX_DELIVERED_PATH,
    protocol.REST_DELETE_PATH, protocol.REST_WEBHOOK_PATH, protocol.BACK_ACTION, protocol.DEFAULT_RASA_URL,
    protocol.DEFAULT_CONSOLE_URL,
)


def application_files() -> list[Path]:
    return sorted(p for package in APPLICATION for p in (ROOT / package).rglob("*.py"))


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """String constants that are not docstrings."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings]


def test_only_the_settings_modules_read_the_environment() -> None:
    offenders = []
    for path in application_files():
        if path in SETTINGS_MODULES:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.ImportFrom) and node.module == "os" and any(
                    a.name in ("environ", "getenv") for a in node.names):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_protocol_strings_are_written_once() -> None:
    offenders = []
    for path in application_files():
        if path == ROOT / "core" / "protocol.py":
            continue
        for line, value in _strings(ast.parse(path.read_text(encoding="utf-8"))):
            if value in WIRE_STRINGS:
                offenders.append(f"{path.relative_to(ROOT)}:{line} {value!r}")
    assert offenders == []


def test_every_setting_is_documented_in_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", readme))
    variables = {v for section in SECTIONS for v in section.variables()} | set(RASA_SIDE_VARIABLES)
    assert sorted(variables - documented) == []


def test_the_makefile_and_run_script_repeat_no_defaults() -> None:
    text = (ROOT / "Makefile").read_text() + (ROOT / "scripts" / "run.sh").read_text()
    assert not re.search(r"(RASA_PORT|ACTION_PORT|CONSOLE_PORT|WEBCHAT_PORT|TELEGRAM_PORT)\s*(\?=|:=|=)\s*\d", text)
    assert not re.search(r"\$\{\w+:=", text)  # no shell defaults such as ${RASA_PORT:=5005}


@pytest.mark.rasa
def test_the_rasa_side_loads_in_rasas_environment_without_the_application() -> None:
    """Rasa's Python 3.10 imports the REST channel and the Messenger connector, and nothing of the application
    comes along (only core.protocol)."""
    rasa_python = RASA_PYTHON
    if not rasa_python.exists():
        pytest.fail("no Rasa environment: run the suite through `make test`")
    script = (
        "import sys; import rasa_plugins.rest_channel, rasa_plugins.messenger_channel; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{APPLICATION!r}))"
    )
    done = subprocess.run([str(rasa_python), "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = ast.literal_eval(done.stdout.strip().splitlines()[-1])
    assert {m.split(".")[0] for m in loaded} == {"core", "rasa_plugins"}
    assert [m for m in loaded if m.startswith("core")] == ["core", "core.protocol"]


def test_editing_an_faq_article_reloads_the_knowledge_base() -> None:
    """`make kb` (part of `make run` and `make test`) must notice a changed file in knowledge_base/content/faq/: the
    folder's own time does not change when a file in it is edited."""
    if shutil.which("make") is None or not (ROOT / "var" / "kb.stamp").exists():
        pytest.skip("needs make and a loaded knowledge base (var/kb.stamp)")
    article_file = next((ROOT / "knowledge_base" / "content" / "faq").glob("*.yml"))
    what_if = subprocess.run(["make", "-n", "-W", str(article_file.relative_to(ROOT)), "var/kb.stamp"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
    assert "knowledge_base.cli load" in what_if
