"""The logs of every process hold neither conversation ids nor message texts: a whole conversation through the
real stack (question, hand-off, message to the adviser, adviser reply, close, deletion), then every log file is
searched for the sender id and each text."""

from __future__ import annotations

import secrets

from tests.e2e.conftest import AdviserApi, start_handoff, texts
from tests.servers import Stack


def test_logs_hold_no_conversation_id_and_no_message_text(stack: Stack) -> None:
    tag = secrets.token_hex(4)
    who = f"logcheck-{tag}"
    question = f"Was verdient ein Tischler in Kassel, fragt Zebrafink{tag}?"
    topic = f"Streit mit Ausbilder Kolibri{tag}"
    during = f"Ich warte noch, Pelikan{tag}"
    adviser_text = f"Hallo, hier ist die Beratung, Stichwort Uhu{tag}"
    logs = [p for p in (stack.actions.log, stack.rasa.log, stack.console.log if stack.console else None,
                        stack.webchat.log if stack.webchat else None) if p is not None]
    offsets = {p: p.stat().st_size if p.exists() else 0 for p in logs}

    stack.say(who, question)
    start_handoff(stack, who, topic)
    assert texts(stack.say(who, during))
    api = AdviserApi(stack)
    handoff = api.handoff_for(who, "waiting")
    api.reply(handoff["id"], adviser_text)
    assert adviser_text in texts(stack.outbox(who))
    api.close(handoff["id"], f"erledigt Amsel{tag}")
    stack.say(who, "Bitte lösch meine Daten")
    assert "gelöscht" in texts(stack.say(who, "/affirm"))

    written_by = {}
    for path in logs:
        with path.open("rb") as f:
            f.seek(offsets[path])
            written_by[path] = f.read().decode("utf-8", errors="replace")
    assert stack.console and written_by[stack.console.log], "the console logged nothing (the check would prove nothing)"
    for path, written in written_by.items():
        for secret in (who, tag):  # the tag is part of every text of the conversation
            assert secret not in written, f"{path.name} contains {secret!r}:\n" + "\n".join(
                line for line in written.splitlines() if secret in line)[:3000]
