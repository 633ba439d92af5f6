"""Human hand-off: the records (``models``), what can be done with them (``service``) and how adviser replies reach
the user's channel (``dispatch``). Lives in the application database (``KB_DATABASE_URL``), next to the knowledge
base, with the same Alembic migration history."""
