"""Custom actions of the Berufsorientierungs-Assistent (rasa-sdk action server)."""

from actions import compat as _compat  # noqa: F401  (handles the Rasa 3.6 / rasa-sdk 3.21 version warning)
