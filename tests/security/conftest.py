"""The adviser console's fixtures (``tests/console/conftest.py``: a migrated database, a fake of Rasa's HTTP
API, ``settings``, ``client``, ``factory``) for the limit and fuzz tests in this folder.
"""

from tests.console.conftest import (  # noqa: F401 - fixtures
    client,
    db_url,
    factory,
    fake_rasa,
    migrated_template,
    settings,
)
