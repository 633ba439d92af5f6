"""The project's named exceptions that more than one package raises or catches (one class per meaning)."""

from __future__ import annotations


class SettingsError(ValueError):
    """A missing, unusable or contradictory setting; the message names the environment variable to fix."""


class RasaUnavailable(Exception):
    """Rasa could not be reached, timed out or answered with a server error: try again later."""


class RasaRefused(Exception):
    """Rasa answered, but refused the request (4xx): sending the same again will not help."""
