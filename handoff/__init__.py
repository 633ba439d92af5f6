"""The hand-off domain: a conversation handed from the bot to a human adviser and back.

``models`` (records), ``service`` (what can be done with them, one function per step), ``outbox`` (how adviser
replies reach the user's channel, pushed after commit), ``rasa_client`` (Rasa's HTTP API: resume the bot),
``lifecycle`` (close and resume, audited reading), ``office_hours`` (when advisers answer). Used by the action
server (creating a hand-off) and the adviser console; lives in the application database with one Alembic history.
"""
