"""Rasa's own checks: data validation, test stories for every flow, NLU evaluation on the held-out split."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.rasa_cli import MODEL, RASA, ROOT, run_rasa, write_result

pytestmark = pytest.mark.rasa

MIN_MACRO_F1 = 0.90
MAX_FALSE_FALLBACKS = 0.03  # issue 11 §6: in-domain messages answered "nicht verstanden"


@pytest.fixture(scope="module", autouse=True)
def _need_rasa() -> None:
    if not RASA.exists() or not MODEL.exists():
        pytest.fail("Rasa venv or trained model missing: run the suite through `make test`")


def _form_slots() -> set[str]:
    slots: set[str] = set()
    for path in ROOT.glob("bot/domain/*.yml"):
        for form in (yaml.safe_load(path.read_text(encoding="utf-8")).get("forms") or {}).values():
            slots.update(form.get("required_slots") or [])
    return slots


def test_data_validate_is_clean() -> None:
    result = run_rasa(
        "data", "validate", "--fail-on-warnings",
        "--domain", "bot/domain", "--data", "bot/data", "nlu_data", "--config", "bot/config.yml",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    # Rasa reports responses that only custom actions use as "not used in any story or rule" (a warning that
    # does not fail validation). Every such response must really be used by an action, the REST channel or the
    # hand-off client of the adviser console (utter_handoff_back, executed after resuming the bot).
    code = "".join(p.read_text() for p in [*ROOT.glob("actions/*.py"), *ROOT.glob("handoff/*.py"),
                                          *ROOT.glob("rasa_plugins/*.py"), ROOT / "core" / "protocol.py"])
    unused = re.findall(r"The utterance '(\w+)' is not used in any story or rule", output)
    asked_by_forms = {f"utter_ask_{slot}" for slot in _form_slots()}  # forms ask for their slots with these
    by_rasa = {"utter_restart"}  # uttered by Rasa's built-in action_restart (/restart, Telegram's /neustart)
    assert [u for u in unused if f'"{u}"' not in code and u not in asked_by_forms | by_rasa] == []
    other_warnings = [
        line for line in output.splitlines()
        if "UserWarning" in line and "is not used in any story or rule" not in line
    ]
    assert other_warnings == []


def test_core_stories_pass(tmp_path: Path) -> None:
    out = tmp_path / "core"
    result = run_rasa(
        "test", "core", "--model", str(MODEL), "--stories", "tests/stories",
        "--out", str(out), "--fail-on-prediction-errors",
    )
    failed = out / "failed_test_stories.yml"
    detail = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:] + detail
    assert "None of the test stories failed" in detail


def test_nlu_held_out_macro_f1(tmp_path: Path) -> None:
    out = tmp_path / "nlu"
    result = run_rasa("test", "nlu", "--model", str(MODEL), "--nlu", "tests/nlu", "--out", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((out / "intent_report.json").read_text())
    lines = ["NLU evaluation on the held-out split (tests/nlu), per intent:",
             f"{'intent':32} {'precision':>9} {'recall':>7} {'f1':>6} {'n':>4}"]
    for intent, row in sorted(report.items()):
        if isinstance(row, dict) and "support" in row and not intent.endswith(" avg"):
            lines.append(f"{intent:32} {row['precision']:9.2f} {row['recall']:7.2f} {row['f1-score']:6.2f} "
                         f"{row['support']:4}")
    macro = report["macro avg"]["f1-score"]
    lines.append(f"intent macro-F1 {macro:.3f} (minimum {MIN_MACRO_F1})")
    # in-domain messages that the bot would answer with "nicht verstanden": every nlu_fallback of a message that is
    # not labelled out_of_scope is a false fallback
    errors = json.loads((out / "intent_errors.json").read_text()) if (out / "intent_errors.json").exists() else []
    in_domain = sum(row["support"] for name, row in report.items()
                    if isinstance(row, dict) and "support" in row and not name.endswith(" avg")
                    and name not in ("out_of_scope", "nlu_fallback"))
    false_fallbacks = sum(1 for e in errors if e["intent_prediction"]["name"] == "nlu_fallback"
                          and e["intent"] != "out_of_scope")
    lines.append(f"in-domain false fallbacks: {false_fallbacks}/{in_domain} = {false_fallbacks / in_domain:.1%} "
                 f"(maximum {MAX_FALSE_FALLBACKS:.0%})")
    write_result("nlu_report.txt", "\n".join(lines))
    assert macro >= MIN_MACRO_F1
    assert false_fallbacks / in_domain <= MAX_FALSE_FALLBACKS
