"""Out-of-domain check on the German xSID requests (alarms, weather, music ...): report the rate.

Only the valid file is asserted on (it may be used for tuning); the test file is measured and printed,
never trained or tuned on.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.servers import Stack

pytestmark = pytest.mark.e2e

DATA = Path(__file__).resolve().parent.parent / "data"
REJECTED = {"out_of_scope", "nlu_fallback"}
MIN_VALID_RATE = 0.85
MIN_TEST_RATE = 0.80  # a floor, never tuned on


def xsid_texts(path: Path) -> list[str]:
    return [line[len("# text:") :].strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.startswith("# text:")]


def rejected_rate(stack: Stack, texts: list[str]) -> tuple[float, list[tuple[str, str]]]:
    wrong = []
    for text in texts:
        intent = stack.parse(text)["intent"]["name"]
        if intent not in REJECTED:
            wrong.append((text, intent))
    return 1 - len(wrong) / len(texts), wrong


def test_xsid_valid_is_recognised_as_out_of_domain(stack: Stack) -> None:
    texts = xsid_texts(DATA / "xsid-de-valid.conll")
    assert len(texts) == 300
    rate, wrong = rejected_rate(stack, texts)
    print(f"\nxSID de valid: {rate:.1%} out_of_scope/nlu_fallback ({len(texts)} requests)")
    for text, intent in wrong[:15]:
        print(f"  taken as {intent}: {text}")
    results = Path(__file__).resolve().parents[2] / "results"
    results.mkdir(exist_ok=True)
    (results / "ood_valid.json").write_text(json.dumps({"rate": rate, "misclassified": wrong}, ensure_ascii=False))
    assert rate >= MIN_VALID_RATE


def test_xsid_test_rate_is_reported(stack: Stack) -> None:
    texts = xsid_texts(DATA / "xsid-de-test.conll")
    rate, _ = rejected_rate(stack, texts)
    print(f"\nxSID de test (measured only): {rate:.1%} out_of_scope/nlu_fallback ({len(texts)} requests)")
    assert len(texts) == 500
    assert rate >= MIN_TEST_RATE
