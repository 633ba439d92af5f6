"""Adviser console: server-rendered German pages and a JSON API for human hand-offs.

``create_app(settings)`` in ``app`` builds the FastAPI application; ``python -m channels.console`` runs it,
``python -m channels.console.cli`` creates accounts and API tokens.
"""
