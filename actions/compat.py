"""The tested Rasa / rasa-sdk version pair.

Rasa Open Source 3.6 needs Python 3.10 and pins SQLAlchemy < 1.5, so the action server runs rasa-sdk 3.21 in the
application environment (Python 3.11, SQLAlchemy 2). Both speak the same action-server webhook protocol (JSON
tracker in, events and responses out). rasa-sdk compares major.minor versions on every call and warns
"Your versions of rasa and rasa_sdk might not be compatible". For exactly this pair the end-to-end test
(tests/e2e) proves that it works, so that one warning is silenced here. Any other Rasa version still warns.
"""

from __future__ import annotations

import re
import warnings

import rasa_sdk

VERIFIED_RASA = "3.6"
VERIFIED_SDK = "3.21"

if rasa_sdk.__version__.startswith(VERIFIED_SDK + "."):
    warnings.filterwarnings(
        "ignore",
        message=(
            r"Your versions of rasa and rasa_sdk might not be compatible\. You are currently running rasa "
            rf"version {re.escape(VERIFIED_RASA)}\.\d+ and rasa_sdk version {re.escape(rasa_sdk.__version__)}"
        ),
    )
