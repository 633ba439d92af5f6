"""The Rasa 3.6 / rasa-sdk 3.21 pair is verified (tests/e2e); only that pair's warning is silenced."""

import warnings

from rasa_sdk import utils

import actions  # noqa: F401  installs the filter


def test_verified_pair_does_not_warn() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        import importlib

        import actions.compat

        importlib.reload(actions.compat)
        utils.check_version_compatibility("3.6.21")
    assert not [w for w in caught if "might not be compatible" in str(w.message)]


def test_other_rasa_versions_still_warn() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        utils.check_version_compatibility("3.7.0")
    assert any("might not be compatible" in str(w.message) for w in caught)
