"""The message form on a private copy of the demo, driven with Pilot: a consultation with
dépôts and their addresses, the form opened on it, a field typed into."""

from __future__ import annotations

import sqlalchemy as sa
from textual.widgets import Input

from messagerie.models.consultations.registers import register_addresses
from messagerie.models.store.enums import MessageType, Procedure, RegisterKind
from messagerie.models.store.tables import Consultation, Lot, Message, RegisterEntry, table_of
from messagerie.screens.consultation import ConsultationScreen
from messagerie.screens.message_form import MessageFormScreen
from tests.helpers.accounts import DEMO_READER
from tests.helpers.pilot import checks_done, settle

consultation = table_of(Consultation)
entry = table_of(RegisterEntry)
message = table_of(Message)
lot = table_of(Lot)


def deposits_consultation(
    store, *, formalised: bool | None = None, lots: bool | None = None, undecided: bool = False
):
    """A consultation with at least two dépôts (with lots or without, a formalised procedure
    or not, when asked; with `undecided`, no decision letter sent yet)."""
    query = (
        sa.select(consultation.c.id, consultation.c.reference)
        .join(entry, entry.c.consultation_id == consultation.c.id)
        .where(entry.c.kind == RegisterKind.DEPOSIT, consultation.c.parent_id.is_(None))
        .group_by(consultation.c.id, consultation.c.reference)
        .having(sa.func.count(sa.distinct(entry.c.contact_email)) >= 2)
        .order_by(consultation.c.id)
    )
    if formalised is not None:
        adapted = consultation.c.procedure == Procedure.ADAPTED
        query = query.where(~adapted if formalised else adapted)
    if undecided:
        decisions = (MessageType.REJECTION, MessageType.AWARD, MessageType.NOTIFICATION)
        query = query.where(
            ~sa.exists().where(
                message.c.consultation_id == consultation.c.id, message.c.type.in_(decisions)
            )
        )
    if lots is not None:
        allotted = sa.exists().where(lot.c.consultation_id == consultation.c.id)
        query = query.where(allotted if lots else ~allotted)
    with store.engine.connect() as connection:
        row = connection.execute(query).first()
    assert row is not None, "the demo should have such a consultation"
    return row.id, row.reference


async def open_form(pilot, consultation_id: int, **options) -> MessageFormScreen:
    await settle(pilot)
    pilot.app.push_screen(ConsultationScreen(consultation_id))
    await settle(pilot)
    if options:
        pilot.app.screen.open_form(**options)
    else:
        await pilot.press("m")  # "Envoyer un message"
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, MessageFormScreen)
    return form


def deposit_emails(store, cid) -> list[str]:
    return sorted(
        a.email for a in register_addresses(store, cid, (RegisterKind.DEPOSIT,), actor=DEMO_READER)
    )


async def type_into(pilot, form, selector: str, text: str) -> None:
    field = form.query_one(selector, Input)
    field.focus()
    field.clear()
    await pilot.press(*text)
    await checks_done(pilot)
