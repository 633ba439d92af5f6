"""Code loaded by the Rasa server (``.venv-rasa``, Python 3.10, Rasa 3.6's pinned dependencies).

Imports only Rasa, its dependencies, the standard library and ``core.protocol`` (stdlib-only, shared with the
application). Nothing of the application (``core`` otherwise, ``handoff``, ``knowledge_base``, ``actions``,
``channels``) may be imported here: the import-linter contracts in ``.importlinter`` enforce it.

``rest_channel``       Rasa's REST channel, made safe (registered in bot/credentials.yml)
``messenger_channel``  Rasa's Facebook Messenger connector, hand-off aware (bot/credentials.yml)
``console_client``     the calls to the adviser console (inbound message, outbox, deletion of hand-offs)
``tracker_ops``        paused?, ever handed off?, delete a conversation — on whichever tracker store is configured
``settings``           the environment variables read inside the Rasa server
``deletion_queue``     hand-off deletions the console could not do right away: queued durably, retried
``sqlite_secure``      ``PRAGMA secure_delete=ON`` and mode 0600 for the SQLite tracker store (imported here)
``tracker_store``      Rasa's SQL tracker store with per-turn speed-ups and reconnects (bot/endpoints*.yml)
``speedups``           two per-turn costs of Rasa 3.6 removed (event class lookup, action-response schema)
``lock_store``         Rasa's Redis lock store, retrying through a short Redis outage (endpoints.production.yml)
``usage``              what the console learns of each turn (usage statistics, missed questions)
``timeouts``           the bounded call of the action server (``ACTION_TIMEOUT``)
``serve``              starts ``rasa run`` in-process (API token not on the command line)
"""

from rasa_plugins import sqlite_secure  # noqa: F401  (every SQLite connection of the Rasa server)
