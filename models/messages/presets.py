"""What the platform preselects for each message type: recipients, options, subject and
body, and a type change that keeps what the buyer already typed."""

from __future__ import annotations

from dataclasses import replace

from messagerie.models.formatting import paris_minutes
from messagerie.models.messages.drafts import (
    DraftRecipient,
)
from messagerie.models.messages.form import ALL_REGISTERS, ComposeContext, FormInput
from messagerie.models.rules.presets import PRESETS
from messagerie.models.store.enums import (
    MessageType,
    RegisterKind,
)

# Who a type is addressed to when the buyer has not chosen (LEGAL.md rules 1 and 10; the
# guide's cases D and G address the dépôts; an invitation goes to the suite's candidates).
PRESET_REGISTERS: dict[MessageType, tuple[RegisterKind, ...]] = {
    MessageType.MODIFICATION: ALL_REGISTERS,
    MessageType.ANSWER: ALL_REGISTERS,
    MessageType.CANCELLATION: ALL_REGISTERS,
    MessageType.COMPLEMENT_REQUEST: (RegisterKind.DEPOSIT,),
    MessageType.REJECTION: (RegisterKind.DEPOSIT,),
}


def preset_form(
    context: ComposeContext, message_type: MessageType, lot_numbers: tuple[int, ...] = ()
) -> FormInput:
    """A new form of `message_type` for these lots (none: all) as the platform preselects it."""
    preset = PRESETS[message_type]
    return FormInput(
        consultation_id=context.detail.id,
        type=message_type,
        recipients=preset_recipients(context, message_type, lot_numbers),
        lot_numbers=lot_numbers,
        send_mode=preset.send_mode,
        reply_allowed=preset.reply_allowed,
        subject=preset.subject,
        body=preset_body(context, message_type),
    )


def preset_recipients(
    context: ComposeContext, message_type: MessageType, lot_numbers: tuple[int, ...] = ()
) -> tuple[DraftRecipient, ...]:
    """Who the type goes to when the buyer has not chosen. Once an award letter has been
    sent, the notification goes to its recipient for the chosen lots (the screen presets
    again when the lots change) and the rejections to the other dépôts."""
    if message_type is MessageType.INVITATION and context.candidates:
        return context.candidates
    if message_type is MessageType.NOTIFICATION:
        return context.awardees_of(lot_numbers)
    registered = context.register_recipients(PRESET_REGISTERS.get(message_type, ()))
    if message_type is MessageType.REJECTION:
        retained = {awardee.email.casefold() for awardee in context.awardees}
        return tuple(r for r in registered if r.email.casefold() not in retained)
    return registered


def preset_body(context: ComposeContext, message_type: MessageType) -> str:
    """The type's template; an invitation is preformatted with the restricted access code."""
    detail = context.detail
    if message_type is MessageType.INVITATION and detail.access_code:
        return (
            "Bonjour,\n\n"
            "Votre candidature a été retenue : vous êtes invité(e) à présenter une offre pour "
            "la consultation citée en référence.\n\n"
            f"Code d'accès restreint : {detail.access_code}\n\n"
            "Ce code vous permet de consulter les documents de la consultation et de déposer "
            f"votre offre sur la plateforme avant le {paris_minutes(detail.bid_deadline)}.\n\n"
            "Merci de votre intérêt pour cette consultation citée en référence."
        )
    return PRESETS[message_type].body


# Fields a type change may fill; the screen says which of them the buyer touched.
PRESET_FIELDS = ("recipients", "send_mode", "reply", "subject", "body")


def change_type(
    form: FormInput, context: ComposeContext, new_type: MessageType, touched: frozenset[str]
) -> FormInput:
    """The form with `new_type` and its presets, except in the fields the buyer touched: a
    type change never wipes what was typed or chosen."""
    preset = preset_form(context, new_type, form.lot_numbers)
    changes: dict[str, object] = {"type": new_type}
    if "recipients" not in touched:
        changes["recipients"] = preset.recipients
    if "send_mode" not in touched:
        changes["send_mode"] = preset.send_mode
    if "reply" not in touched:
        changes["reply_allowed"] = preset.reply_allowed
    for name in ("subject", "body"):
        if name not in touched:
            changes[name] = getattr(preset, name)
    return replace(form, **changes)  # type: ignore[arg-type]
