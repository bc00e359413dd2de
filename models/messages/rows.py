"""The one shape of a stored message and of its recipients' rows.

The message form (queue), the flows' drafts, a resend to a corrected address and the demo
build their rows here, so that a message written by any of them reads the same; each caller
inserts them its own way (one row, or the demo's bulk insert).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from messagerie.models.messages.recipient_secrets import new_secrets
from messagerie.models.store.enums import (
    DeliveryState,
    MessageState,
    MessageType,
    RecipientStatus,
    SendMode,
)
from messagerie.models.text import search_text


def message_search_text(subject: str, body: str) -> str:
    """The message's folded search column, for the tracking table's text filter."""
    return search_text(subject, body)


def message_row(
    consultation_id: int,
    message_type: MessageType,
    subject: str,
    body: str,
    *,
    send_mode: SendMode,
    reply_allowed: bool,
    all_lots: bool,
    state: MessageState,
    reply_deadline: datetime | None,
    queued_at: datetime | None,
    mentions: Mapping[str, str] | None,
    letters_basis: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The columns a save of the message writes; id, author, created_at and revision are the
    caller's (a new row gets them, a draft saved again keeps its own)."""
    return {
        "consultation_id": consultation_id,
        "type": message_type,
        "subject": subject,
        "body": body,
        "send_mode": send_mode,
        "reply_allowed": reply_allowed,
        "reply_deadline": reply_deadline,
        "all_lots": all_lots,
        "state": state,
        "queued_at": queued_at,
        "mentions": dict(mentions or {}),  # the type's mentions, or none ({})
        "letters_basis": letters_basis,
        "search_text": message_search_text(subject, body),
    }


def recipient_row(
    message_id: int,
    email: str,
    company_id: int | None,
    contact_name: str | None,
    *,
    domain: str,
    updated_at: datetime,
    delivery_state: DeliveryState = DeliveryState.HELD,
    status: RecipientStatus = RecipientStatus.PENDING,
) -> dict[str, Any]:
    """A recipient's copy of a message, held until it is queued, with its own secrets and
    its own stable Message-ID on the sender's `domain` (models/messages/recipient_secrets)."""
    return {
        "message_id": message_id,
        "email": email.strip(),
        "company_id": company_id,
        "contact_name": contact_name,
        **new_secrets(domain),
        "delivery_state": delivery_state,
        "status": status,
        "updated_at": updated_at,
    }
