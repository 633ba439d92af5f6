"""Endpoints for the channels (Rasa REST channel, web chat): user messages during a hand-off, pending outbox.

Authenticated with the shared secret ``CONSOLE_INBOUND_TOKEN`` in the header ``X-Inbound-Token``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field

from channels.console.deps import DB, MAX_ID
from core import protocol
from core.tokens import same
from handoff import access, feedback, outbox, service

router = APIRouter(tags=["Kanäle"])
_token_header = APIKeyHeader(name=protocol.INBOUND_TOKEN_HEADER, auto_error=False,
                             description="gemeinsames Geheimnis der Kanäle (CONSOLE_INBOUND_TOKEN)")


TOKEN_UNSET = "CONSOLE_INBOUND_TOKEN ist nicht gesetzt; Kanal-Schnittstelle abgeschaltet."
# Checked by ``channels.body_limit.TokenGuard`` before the body is read (app.py), and again by the dependency.
GUARDED_PATHS = (
    protocol.CONSOLE_INBOUND_PATH, protocol.CONSOLE_OUTBOX_PATH, protocol.CONSOLE_OUTBOX_PATH + "/",
    protocol.CONSOLE_CONVERSATIONS_PATH + "/", protocol.CONSOLE_OUTBOX_PENDING_PATH,
    protocol.CONSOLE_OUTBOX_DELIVERED_PATH, protocol.CONSOLE_OUTBOX_ACK_PATH, protocol.CONSOLE_EXPORT_PATH + "/",
)


def inbound_token(request: Request, token: Annotated[str | None, Depends(_token_header)]) -> None:
    expected = request.app.state.settings.inbound_token
    if not expected:
        raise HTTPException(503, TOKEN_UNSET)
    if not same(token, expected):
        raise HTTPException(401, f"Ungültiges {protocol.INBOUND_TOKEN_HEADER}")


class InboundIn(BaseModel):
    conversation_id: str = Field(min_length=1, max_length=200, description="Rasa sender id")
    text: str = Field(max_length=20_000)
    channel: str | None = Field(None, max_length=30, description="rest | web | telegram …")


class OutboxOut(BaseModel):
    messages: list[dict[str, Any]] = Field(
        description='Rasa-artige Bot-Nachrichten, z. B. {"recipient_id": …, "text": …, "custom": {"outbox_id": 7}}; '
                    "bleiben ausstehend, bis der Kanal sie bestätigt (" + protocol.CONSOLE_OUTBOX_ACK_PATH + ")"
    )


class InboundOut(OutboxOut):
    stored: bool = Field(description="true: die Nachricht gehört zu einer offenen Übergabe und wurde gespeichert")


@router.post(protocol.CONSOLE_INBOUND_PATH, response_model=InboundOut, dependencies=[Depends(inbound_token)],
             summary="Nachricht der Person während einer Übergabe speichern; ausstehende Nachrichten abholen")
def inbound(body: InboundIn, db: DB) -> InboundOut:
    stored = bool(body.text.strip()) and service.add_user_message(db, body.conversation_id, body.text) is not None
    db.commit()
    return InboundOut(stored=stored, messages=outbox.peek_pending(db, body.conversation_id))


@router.get(protocol.CONSOLE_OUTBOX_PATH + "/{conversation_id:path}", response_model=OutboxOut,
            dependencies=[Depends(inbound_token)],
            summary="Ausstehende Nachrichten für ein Gespräch lesen (ohne sie als zugestellt zu markieren)")
def pending_outbox(conversation_id: str, db: DB) -> OutboxOut:
    return OutboxOut(messages=outbox.peek_pending(db, conversation_id))


class AckIn(BaseModel):
    conversation_id: str = Field(min_length=1, max_length=200)
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(max_length=1000)


@router.post(protocol.CONSOLE_OUTBOX_ACK_PATH, dependencies=[Depends(inbound_token)],
             summary="Angezeigte Nachrichten eines Gesprächs bestätigen (nur Nachrichten dieses Gesprächs)")
def outbox_ack(body: AckIn, db: DB) -> dict[str, int]:
    marked = outbox.mark_delivered_for(db, body.conversation_id, body.ids)
    db.commit()
    return {"marked": marked}


class DeletedOut(BaseModel):
    deleted_handoffs: int = Field(description="Anzahl gelöschter Übergaben (mit Verlauf, Notizen und Outbox)")


@router.delete(protocol.CONSOLE_CONVERSATIONS_PATH + "/{conversation_id:path}", response_model=DeletedOut,
               dependencies=[Depends(inbound_token)],
               summary="Alle Übergaben eines Gesprächs löschen (auf Wunsch der Person)")
def delete_conversation(conversation_id: str, db: DB, request: Request) -> DeletedOut:
    deleted = service.delete_conversation(db, conversation_id)
    feedback.delete_pseudonym(db, request.app.state.settings.pseudonym(conversation_id))  # missed messages, counts
    db.commit()
    return DeletedOut(deleted_handoffs=deleted)


class ExportOut(BaseModel):
    handoffs: list[dict[str, Any]] = Field(description="alle Übergaben des Gesprächs mit Verlauf, Notizen und Outbox")


@router.get(protocol.CONSOLE_EXPORT_PATH + "/{conversation_id:path}", response_model=ExportOut,
            dependencies=[Depends(inbound_token)],
            summary="Alle Übergaben eines Gesprächs für die Auskunft an die Person (Art. 15 DSGVO)")
def export_conversation(conversation_id: str, db: DB) -> ExportOut:
    handoffs = access.conversation_export(db, conversation_id)
    if handoffs:
        service.audit(db, None, "export_on_request", None, f"{len(handoffs)} Übergabe(n) für die Auskunft exportiert")
        db.commit()
    return ExportOut(handoffs=handoffs)


class PendingMessage(BaseModel):
    id: int
    conversation_id: str
    message: dict[str, Any]


class PendingOut(BaseModel):
    messages: list[PendingMessage]


class DeliveredIn(BaseModel):
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(max_length=1000)


@router.get(protocol.CONSOLE_OUTBOX_PENDING_PATH, response_model=PendingOut, dependencies=[Depends(inbound_token)],
            summary="Noch nicht zugestellte Nachrichten eines Push-Kanals (z. B. telegram), ohne sie zu markieren")
def outbox_pending(channel: str, db: DB, limit: int = 100) -> PendingOut:
    rows = outbox.pending_for_channel(db, channel, limit=max(1, min(limit, 1000)))
    return PendingOut(messages=[
        PendingMessage(id=r.id, conversation_id=r.conversation_id, message=protocol.with_outbox_id(r.payload, r.id))
        for r in rows
    ])


@router.post(protocol.CONSOLE_OUTBOX_DELIVERED_PATH, dependencies=[Depends(inbound_token)],
             summary="Nachrichten als zugestellt markieren (nachdem der Kanal sie ausgeliefert hat)")
def outbox_delivered(body: DeliveredIn, db: DB) -> dict[str, int]:
    marked = outbox.mark_delivered(db, body.ids)
    db.commit()
    return {"marked": marked}
