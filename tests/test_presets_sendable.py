"""Each type's preset body as the guide says to use it ("Ne modifiez rien"): queued through the
store as it is, it goes, or it is refused naming what the buyer must write or attach; what
goes reaches the companies without a placeholder, and the e-mail names its sender properly."""

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from messagerie.letters.mail.content import content_of, preview, recipient_of
from messagerie.letters.mail.mime import page_text, render_parts
from messagerie.models.messages.drafts import DraftRecipient
from messagerie.models.messages.form import load_context
from messagerie.models.messages.outbox import load_outgoing
from messagerie.models.messages.presets import preset_form
from messagerie.models.messages.queue import FormRefused, queue_message
from messagerie.models.rules.presets import BODY_PLACEHOLDER, PRESETS
from messagerie.models.store.documents import store_document
from messagerie.models.store.enums import (
    ConsultationStatus,
    DocumentOrigin,
    MessageType,
    RegisterKind,
    SendMode,
)
from tests.helpers.factories import add_consultations, add_lot, add_register_entries, paris

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
PLACEHOLDER = re.compile(r"\[[^\]]*\]")  # "[Contenu du message à renseigner]", "[objet …]"
ENTITY = "Direction de la commande publique"

# What the buyer gives besides the body: the mentions and deadline the rules ask for.
FIELDS: dict[MessageType, dict[str, object]] = {
    MessageType.COMPLEMENT_REQUEST: {"reply_deadline": "04/12/2026 12:00"},
    MessageType.REJECTION: {"mentions": {"reasons": "Prix supérieur à l'estimation"}},
    MessageType.CANCELLATION: {"mentions": {"reasons": "Besoin disparu"}},
}
# Sendable as they are, once the rules' fields are given.
AS_IS = (
    MessageType.MODIFICATION,
    MessageType.COMPLEMENT_REQUEST,
    MessageType.AWARD,
    MessageType.REJECTION,
    MessageType.CANCELLATION,
)
# They announce a file ("ci-joint"): refused until one is attached.
WITH_A_FILE = (MessageType.ANSWER, MessageType.NOTIFICATION)
# The buyer writes the content: the placeholder says where.
TO_WRITE = (MessageType.FREE, MessageType.INVITATION)


@pytest.fixture
def cid(store) -> int:
    """An open tender 30 days from NOW, one lot, one company in the three registers."""
    (cid,) = add_consultations(
        store, [("2026FORM", "Fournitures", ConsultationStatus.OPEN, paris(2026, 12, 27))]
    )
    add_lot(store, cid, 1, "Papier")
    add_register_entries(store, cid, list(RegisterKind), paris(2026, 11, 20))
    return cid


def preset(store, cid, kind):
    form = preset_form(load_context(store, cid), kind)
    if not form.recipients:  # award and notification go to whom the buyer picks
        form = replace(form, recipients=(DraftRecipient("jeanne.martin@nbc.example"),))
    return replace(form, **FIELDS.get(kind, {}))  # type: ignore[arg-type]


def attach(store, cid) -> int:
    document = store_document(
        store, store.blobs, filename="reponse.pdf", data=b"%PDF-1.4 reponse",
        origin=DocumentOrigin.ATTACHMENT, consultation_id=cid, actor="m.d",
    )  # fmt: skip
    return document.id


def what_the_company_reads(store, message_id: int) -> str:
    """The e-mail (notice and link) and the content its page shows, as text and HTML."""
    message = load_outgoing(store, message_id)
    content = content_of(message)
    one = recipient_of(message, "jeanne.martin@nbc.example", public_url="https://x.example",
                       token="jeton", reply_token="retour")  # fmt: skip
    return "\n".join((*render_parts(content, one), page_text(content)))


@pytest.mark.parametrize("kind", AS_IS)
def test_a_preset_body_goes_as_it_is(store, cid, kind):
    form = preset(store, cid, kind)
    assert form.body == PRESETS[kind].body
    queued = queue_message(store, form, actor="m.d", now=NOW)
    read = what_the_company_reads(store, queued.message_id)
    assert PLACEHOLDER.search(read) is None
    sentence = PRESETS[kind].body.split("\n\n")[1].split(". ")[0]
    assert sentence in read


@pytest.mark.parametrize("kind", WITH_A_FILE)
def test_a_preset_announcing_a_file_goes_once_the_file_is_attached(store, cid, kind):
    form = preset(store, cid, kind)
    assert "ci-joint" in form.body
    with pytest.raises(FormRefused, match="« ci-joint », mais aucun fichier n'est joint"):
        queue_message(store, form, actor="m.d", now=NOW)
    queued = queue_message(
        store, replace(form, attachment_ids=(attach(store, cid),)), actor="m.d", now=NOW
    )
    read = what_the_company_reads(store, queued.message_id)
    assert PLACEHOLDER.search(read) is None and "reponse.pdf" in read


@pytest.mark.parametrize("kind", TO_WRITE)
def test_a_preset_to_write_is_refused_naming_the_placeholder(store, cid, kind):
    form = preset(store, cid, kind)
    assert BODY_PLACEHOLDER in form.body
    with pytest.raises(FormRefused, match=re.escape(f"Remplacez « {BODY_PLACEHOLDER} »")):
        queue_message(store, form, actor="m.d", now=NOW)


def test_every_type_is_covered():
    assert set(AS_IS) | set(WITH_A_FILE) | set(TO_WRITE) == set(MessageType)


@pytest.mark.parametrize("kind", list(MessageType))
def test_the_notice_names_the_sender_with_its_article(store, cid, kind):
    context = load_context(store, cid)
    form = preset(store, cid, kind)
    shown = preview(context, form, (), recipient_index=0, send_mode=SendMode.WITH_AR,
                    public_url="https://x.example")  # fmt: skip
    assert shown is not None
    expected = (
        f"Vous avez reçu un message sécurisé de l'entité d'achat « {ENTITY} » : "
        f"« {form.subject} » ({kind.label}), concernant la consultation 2026FORM."
    )
    assert expected in shown.text
    assert f"Vous avez reçu un message sécurisé de l'entité d'achat « {ENTITY} »" in shown.html
    assert f"{ENTITY} vous a" not in shown.text + shown.html
