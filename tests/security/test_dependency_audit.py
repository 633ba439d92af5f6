"""Dependency audit: pip-audit checks both lock files against PyPI's own vulnerability data.

* ``rasa``: ``bot/requirements-rasa.lock`` (the Rasa 3.6 server, ``.venv-rasa``).
* ``app``: the runtime dependencies of ``uv.lock`` (actions server, console, web chat, Telegram bridge, knowledge
  base), exported with ``uv export --no-dev``. The dev group (pytest, ruff, playwright, mypy, pip-audit itself, ...)
  is not audited here: it never runs in the product. ``docs/security.md`` shows how to audit it by hand.

A finding fails the test unless ``docs/security.md`` accepts it: a row of the table between
``<!-- accepted:start -->`` and ``<!-- accepted:end -->`` whose environment and package match and whose first or
second column names one of the finding's ids (pip-audit's id or one of its aliases) in backticks.

When the vulnerability data cannot be reached (connection errors, timeouts, HTTP 5xx, or PyPI answering 404 for
every release, which is what a package cache in front of PyPI does), the test skips and says so; this holds under
``CI=true`` too.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIP_AUDIT = ROOT / ".venv" / "bin" / "pip-audit"
UV = ROOT / ".venv-tools" / "bin" / "uv"
SECURITY_DOC = ROOT / "docs" / "security.md"
RESULTS = ROOT / "results"
TIMEOUT_S = 300

START, END = "<!-- accepted:start -->", "<!-- accepted:end -->"
ID_RE = re.compile(r"`((?:PYSEC|GHSA|CVE|OSV|GSD|BIT|RUSTSEC)-[A-Za-z0-9._-]+)`")
# What pip-audit prints when it cannot talk to PyPI: its own ConnectionError message ("Could not connect to PyPI's
# vulnerability feed", "PyPI is not redirecting properly") and the tracebacks of requests' connection, timeout and
# HTTP 5xx errors, which it does not catch.
UNREACHABLE_RE = re.compile(
    r"Could not connect to PyPI|not redirecting properly|your network may be blocking|ConnectionError|"
    r"ConnectTimeout|ReadTimeout|Timeout|ProxyError|SSLError|Max retries exceeded|NameResolutionError|"
    r"Name or service not known|Temporary failure in name resolution|Connection refused|Network is unreachable|"
    r"RemoteDisconnected|\b5\d\d Server Error",
)
NOT_FOUND = "Dependency not found on PyPI"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    id: str
    aliases: tuple[str, ...]
    fix_versions: tuple[str, ...]
    description: str

    @property
    def ids(self) -> set[str]:
        return {self.id, *self.aliases}

    def line(self) -> str:
        aliases = f" ({', '.join(self.aliases)})" if self.aliases else ""
        fix = ", ".join(self.fix_versions) or "no fixed version"
        return f"{self.package} {self.version}: {self.id}{aliases}, fixed in: {fix}. {self.description[:160]}"


@dataclass(frozen=True)
class Accepted:
    id: str
    env: str
    package: str
    ids: frozenset[str]


def accepted_rows(doc: str) -> list[Accepted]:
    """Rows of the accepted table: | `ID` | `ALIAS` ... | env | package | ... (ids from the first two columns)."""
    if START not in doc or END not in doc:
        raise AssertionError(f"{SECURITY_DOC.relative_to(ROOT)} has no {START} ... {END} table")
    rows = []
    for line in doc.split(START, 1)[1].split(END, 1)[0].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or not ID_RE.search(cells[0]):
            continue  # header, separator, blank line
        first = ID_RE.findall(cells[0])
        rows.append(Accepted(id=first[0], env=cells[2].strip("`").lower(), package=canonical(cells[3].strip("`")),
                             ids=frozenset(first + ID_RE.findall(cells[1]))))
    return rows


def export_app_requirements(target: Path) -> Path:
    """The runtime dependencies pinned in uv.lock (no dev group, not the project itself)."""
    cmd = [str(UV), "export", "--frozen", "--no-hashes", "--no-emit-project", "--no-dev",
           "--format", "requirements-txt", "--output-file", str(target)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, f"uv export failed ({proc.returncode}):\n{proc.stderr}"
    return target


def run_pip_audit(requirements: Path, workdir: Path) -> tuple[dict, float]:
    """pip-audit's JSON report; skips the test when PyPI's vulnerability data is out of reach."""
    report = workdir / "pip-audit.json"
    cmd = [str(PIP_AUDIT), "-r", str(requirements), "--no-deps", "--disable-pip", "--progress-spinner", "off",
           "--format", "json", "--vulnerability-service", "pypi", "--cache-dir", str(workdir / "cache"),
           "--output", str(report)]
    started = time.monotonic()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        pytest.skip(f"PyPI vulnerability data not reachable: pip-audit did not finish within {TIMEOUT_S} s")
    elapsed = time.monotonic() - started
    stderr = proc.stderr.strip()
    try:
        data = json.loads(report.read_text())
    except (OSError, ValueError):
        data = None
    if data is None:
        last = stderr.splitlines()[-1] if stderr else "(no output)"
        if UNREACHABLE_RE.search(stderr):
            pytest.skip(f"PyPI vulnerability data not reachable: {last}")
        raise AssertionError(f"pip-audit failed (exit {proc.returncode}) without a report:\n{stderr[-3000:]}")
    return data, elapsed


def parse_report(data: dict) -> tuple[list[Finding], list[str], int]:
    """(findings, names of packages pip-audit could not look up, number of packages audited)."""
    findings, unreached, audited = [], [], 0
    for dep in data.get("dependencies", []):
        if "skip_reason" in dep:
            unreached.append(f"{dep['name']}: {dep['skip_reason']}")
            continue
        audited += 1
        for vuln in dep.get("vulns", []):
            findings.append(Finding(
                package=canonical(dep["name"]), version=dep["version"], id=vuln["id"],
                aliases=tuple(vuln.get("aliases", [])), fix_versions=tuple(vuln.get("fix_versions", [])),
                description=" ".join((vuln.get("description") or "").split()),
            ))
    return findings, unreached, audited


def is_accepted(finding: Finding, env: str, rows: list[Accepted]) -> bool:
    return any(r.env == env and r.package == finding.package and r.ids & finding.ids for r in rows)


@pytest.mark.parametrize("env", ["rasa", "app"])
def test_no_unaccepted_vulnerabilities(env: str, tmp_path: Path) -> None:
    if not os.access(PIP_AUDIT, os.X_OK):
        pytest.skip(f"pip-audit is not installed at {PIP_AUDIT.relative_to(ROOT)} (dev group of pyproject.toml; "
                    "`make deps` installs it)")
    rows = accepted_rows(SECURITY_DOC.read_text(encoding="utf-8"))
    if env == "rasa":
        requirements = ROOT / "bot" / "requirements-rasa.lock"
    else:
        requirements = export_app_requirements(tmp_path / "requirements-app.txt")

    data, elapsed = run_pip_audit(requirements, tmp_path)
    findings, unreached, audited = parse_report(data)
    assert audited or unreached, f"pip-audit's report lists no package of {requirements.name}"
    if audited == 0:
        not_found = sum(NOT_FOUND in reason for reason in unreached)
        pytest.skip(f"PyPI vulnerability data not reachable: none of the {len(unreached)} packages could be looked "
                    f"up ({not_found} got HTTP 404 '{NOT_FOUND}', as from a package cache that does not serve "
                    f"/pypi/<name>/<version>/json), e.g. {unreached[0]}")

    open_findings = [f for f in findings if not is_accepted(f, env, rows)]
    reported = set().union(*(f.ids for f in findings)) if findings else set()
    stale = sorted(r.id for r in rows if r.env == env and not r.ids & reported)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"dependency-audit-{env}.txt").write_text(
        f"{requirements.name}: {audited} packages audited in {elapsed:.0f} s, {len(findings)} known "
        f"vulnerabilities, {len(findings) - len(open_findings)} accepted in docs/security.md, "
        f"{len(open_findings)} not accepted, {len(unreached)} packages not looked up.\n"
        + "".join(f"  {'accepted' if is_accepted(f, env, rows) else 'OPEN    '}  {f.line()}\n" for f in findings)
    )

    assert not open_findings, (
        f"{len(open_findings)} known vulnerabilities in the {env} environment are not accepted in "
        f"docs/security.md (upgrade the package, or add a row with the reason):\n"
        + "\n".join(f"  - {f.line()}" for f in open_findings)
        + (f"\n(also not looked up: {'; '.join(unreached)})" if unreached else "")
    )
    if stale:
        warnings.warn(f"docs/security.md accepts ids that pip-audit no longer reports for {env}: "
                      f"{', '.join(stale)} (remove those rows)", stacklevel=1)
    if unreached:
        pytest.skip(f"PyPI vulnerability data not reachable for {len(unreached)} of {audited + len(unreached)} "
                    f"packages ({'; '.join(unreached)[:500]}); the others have no unaccepted findings")
