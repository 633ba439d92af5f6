"""Web chat: one accessible German chat page that talks to Rasa's REST channel straight from the browser.

``create_app(settings)`` in ``app`` builds the FastAPI application; ``python -m channels.webchat`` runs it on
WEBCHAT_HOST:WEBCHAT_PORT (127.0.0.1:8080).
"""
