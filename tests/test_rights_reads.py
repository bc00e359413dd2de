"""The last reads by id that a direct call could aim at another organisation (issue 19): a
register entry, the deadline's history, documents by id, the DCE's pre-check (its conflict
names the author of the current version) — each reads as what does not exist. `authorize`,
paid by every store action, in two statements. And `messagerie verify`: this store's bundle
of another organisation is « introuvable », another platform's bundle proves itself."""

from __future__ import annotations

import json
import zipfile
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from messagerie.letters.intake.files import IntakeOptions, take_attachment
from messagerie.letters.pdf.bundle import MANIFEST
from messagerie.models.consultations.dce import (
    DceChanges,
    NewFile,
    change_bid_deadline,
    deadline_history,
    save_dce_changes,
    validate_dce_changes,
)
from messagerie.models.consultations.registers import get_entry, list_register
from messagerie.models.errors import Refusal
from messagerie.models.messages.detail import open_reply
from messagerie.models.messages.drafts import DraftRecipient
from messagerie.models.messages.form import load_context
from messagerie.models.messages.inbound import find_recipient, record_reply
from messagerie.models.messages.presets import preset_form
from messagerie.models.messages.queue import queue_message
from messagerie.models.messages.tracking import recipient_token
from messagerie.models.store.accounts import (
    AccountMissing,
    ConsultationNotFound,
    authorize,
    current_login,
    missing_right,
)
from messagerie.models.store.database import open_store
from messagerie.models.store.documents import DocumentInfo, document_infos
from messagerie.models.store.enums import MessageType, RegisterKind, ReplyChannel, Right
from messagerie.models.store.tables import recipient, reply, store_meta
from tests.helpers.accounts import COLMAR, MULHOUSE, add_accounts, add_towns
from tests.helpers.cli import messagerie
from tests.helpers.dce import pdf
from tests.helpers.factories import paris
from tests.helpers.sql import statements_of

NOW = paris(2026, 11, 27, 10)
# Colmar's full buyer but for decision letters, its reader, Mulhouse's buyer (DCE right too:
# what he is refused on Colmar's is refused for scoping, not for a right).
ACCOUNTS = {
    "claire.muller": (COLMAR, set(Right) - {Right.DECIDE}),
    "remi.schmitt": (COLMAR, {Right.CONSULT}),
    "hugo.meyer": (MULHOUSE, {Right.CONSULT, Right.SEND, Right.DCE, Right.EXPORT}),
}

pytest_plugins = ["tests.helpers.scoping"]  # the fixtures towns and accounts


def refusal(call) -> str:  # type: ignore[no-untyped-def]
    """The French text of the refusal `call()` raises."""
    with pytest.raises(Refusal) as refused:
        call()
    return str(refused.value)


# --- Reads by id --------------------------------------------------------------------------


def test_a_register_entry_of_another_organisation_reads_as_a_deleted_one(store, towns, accounts):
    colmar = towns["colmar"]
    [own] = list_register(store, colmar, RegisterKind.DEPOSIT, actor="claire.muller").rows
    assert get_entry(store, own.id, actor="claire.muller") == own
    assert get_entry(store, own.id, actor="support") == own
    for entry_id in (own.id, own.id + 1000):
        with pytest.raises(Refusal) as refused:
            get_entry(store, entry_id, actor="hugo.meyer")
        assert str(refused.value) == (
            f"L'inscription n°{entry_id} n'existe plus dans les registres : actualisez le registre."
        )
    with pytest.raises(AccountMissing):
        get_entry(store, own.id, actor="inconnu")


def test_the_deadline_history_of_another_organisation_is_introuvable(store, towns, accounts):
    colmar = towns["colmar"]
    change_bid_deadline(store, colmar, paris(2026, 12, 22), reason="Visite de site ajoutée",
                        actor="claire.muller", now=NOW)  # fmt: skip
    [change] = deadline_history(store, colmar, actor="claire.muller")
    assert (change.reason, change.author) == ("Visite de site ajoutée", "claire.muller")
    assert deadline_history(store, colmar, actor="support") == (change,)
    for consultation_id in (colmar, colmar + 1000):
        assert refusal(
            lambda c=consultation_id: deadline_history(store, c, actor="hugo.meyer")
        ) == (f"La consultation n°{consultation_id} est introuvable.")


def test_documents_by_id_leave_out_another_organisations_as_missing_ones(store, towns, accounts):
    def attach(consultation_id: int, actor: str) -> DocumentInfo:
        return take_attachment(store, filename=f"note-{actor}.txt", data=b"Note aux candidats.\n",
                               options=IntakeOptions(), consultation_id=consultation_id,
                               actor=actor)  # fmt: skip

    claires = attach(towns["colmar"], "claire.muller")
    hugos = attach(towns["mulhouse"], "hugo.meyer")
    ids = [claires.id, hugos.id, hugos.id + 1000]

    def names(actor: str) -> list[str]:
        return [document.filename for document in document_infos(store, ids, actor=actor)]

    assert names("claire.muller") == ["note-claire.muller.txt"]
    assert names("hugo.meyer") == ["note-hugo.meyer.txt"]
    assert names("support") == ["note-claire.muller.txt", "note-hugo.meyer.txt"]
    assert names("inconnu") == []  # a login without an account sees no file


def test_the_dce_check_tells_another_organisation_nothing_of_its_author(store, towns, accounts):
    colmar = towns["colmar"]
    first = DceChanges.starting_from(None).add(NewFile("cctp.pdf", pdf("CCTP")))
    save_dce_changes(store, store.blobs, colmar, first, actor="claire.muller")
    stale = DceChanges.starting_from(None).add(NewFile("rc.pdf", pdf("RC")))
    # Colmar's buyer is told who saved the version hers conflicts with.
    conflict = refusal(lambda: validate_dce_changes(store, colmar, stale, actor="claire.muller"))
    assert "enregistrée par claire.muller" in conflict
    # Mulhouse's buyer (who may modify a DCE) is told the consultation does not exist.
    for consultation_id in (colmar, colmar + 1000):
        hidden = refusal(
            lambda c=consultation_id: validate_dce_changes(store, c, stale, actor="hugo.meyer")
        )
        assert hidden == f"La consultation n°{consultation_id} est introuvable."
    # Colmar's reader: the right it lacks, before the conflict.
    assert refusal(lambda: validate_dce_changes(store, colmar, stale, actor="remi.schmitt")) == (
        missing_right(accounts["remi.schmitt"], Right.DCE)
    )


def test_a_reply_of_another_organisation_reads_as_a_missing_one(store, towns, accounts):
    form = replace(
        preset_form(load_context(store, towns["colmar"]), MessageType.FREE),
        subject="Visite de site",
        body="Bonjour,\n\nUne visite de site est organisée.",
        recipients=(DraftRecipient("contact@entreprise.example"),),
    )
    queued = queue_message(store, form, actor="claire.muller", now=NOW)
    with store.engine.connect() as connection:
        recipient_id = connection.execute(
            sa.select(recipient.c.id).where(recipient.c.message_id == queued.message_id)
        ).scalar_one()
    token = recipient_token(store, recipient_id, actor="claire.muller")
    target = find_recipient(store, token=token)
    assert target is not None
    record_reply(store, target, body="Nous viendrons.", files=[], channel=ReplyChannel.WEB,
                 at=NOW + timedelta(hours=1))  # fmt: skip
    with store.engine.connect() as connection:
        reply_id = connection.execute(sa.select(reply.c.id)).scalar_one()

    # Support reads it, and it stays unread for Colmar's buyers; their own reading marks it.
    assert open_reply(store, reply_id, actor="support").reply.read_at is None
    assert open_reply(store, reply_id, actor="support").reply.read_at is None
    claire = open_reply(store, reply_id, actor="claire.muller").reply
    assert claire.body == "Nous viendrons." and claire.read_at is not None
    # Neither opened (nor marked read) by Mulhouse's buyer, nor its consultation named.
    for asked in (reply_id, reply_id + 1000):
        assert refusal(lambda r=asked: open_reply(store, r, actor="hugo.meyer")) == (
            f"La réponse n°{asked} est introuvable."
        )


# --- authorize: two statements, the same refusals -------------------------------------------


def test_authorize_costs_two_statements_and_refuses_in_the_same_order(store, towns, accounts):
    colmar, mulhouse = towns["colmar"], towns["mulhouse"]
    with store.engine.connect() as connection:
        for login in ("claire.muller", "support"):
            count, found = statements_of(
                store, lambda who=login: authorize(connection, who, Right.CONSULT, colmar)
            )
            assert count == 2, login
            assert found == accounts[login]  # the account as `resolve_account` reads it
        count, found = statements_of(store, lambda: authorize(connection, "remi.schmitt",
                                                              Right.CONSULT))  # fmt: skip
        assert (count, found) == (2, accounts["remi.schmitt"])

        def refused(actor: str, right: Right, consultation_id: int) -> str:
            return refusal(lambda: authorize(connection, actor, right, consultation_id))

        # A stranger first, then what the account does not see, then the right it lacks.
        with pytest.raises(AccountMissing):
            authorize(connection, "inconnu", Right.CONSULT, colmar + 1000)
        assert refused("remi.schmitt", Right.SEND, mulhouse) == (
            f"La consultation n°{mulhouse} est introuvable."
        )
        assert refused("remi.schmitt", Right.SEND, colmar) == (
            missing_right(accounts["remi.schmitt"], Right.SEND)
        )
        assert refused("claire.muller", Right.DECIDE, colmar) == (
            "Le compte « claire.muller » n'a pas le droit « Envoyer les courriers de décision » : "
            "demandez-le à un gestionnaire de votre organisation."
        )


def test_authorize_without_accounts_is_single_user_in_two_statements(store, towns):
    colmar = towns["colmar"]
    with store.engine.connect() as connection:
        count, found = statements_of(
            store, lambda: authorize(connection, "quiconque", Right.DECIDE, colmar)
        )
        assert (count, found) == (2, None)
        with pytest.raises(ConsultationNotFound, match=f"n°{colmar + 1000} est introuvable"):
            authorize(connection, "quiconque", Right.CONSULT, colmar + 1000)


# --- messagerie verify ---------------------------------------------------------------------


def with_reference(bundle: Path, reference: str, out: Path) -> Path:
    """A copy of `bundle` whose manifest names `reference` (its signature no longer fits)."""
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(out, "w") as copy:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == MANIFEST:
                data = json.dumps({**json.loads(data), "reference": reference}).encode()
            copy.writestr(item, data)
    return out


@pytest.mark.services
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_verify_refuses_this_stores_bundle_of_another_organisation_not_another_platforms(
    store_url, store, towns, tmp_path
):
    # This store: the system login (support), Colmar's buyer, Mulhouse's; the demo's marker
    # lets MESSAGERIE_DEMO_LOGIN open it as each (README "Accounts").
    me = current_login()
    two = {"colmar.acheteur": (COLMAR, {Right.CONSULT}),
           "hugo.meyer": (MULHOUSE, {Right.CONSULT, Right.EXPORT})}  # fmt: skip
    add_accounts(store, me, two, NOW)
    with store.engine.begin() as connection:
        connection.execute(sa.insert(store_meta).values(key="demo", value="test"))
    here = {"MESSAGERIE_DB": store_url, "MESSAGERIE_DATA_DIR": str(tmp_path)}
    hugo = {**here, "MESSAGERIE_DEMO_LOGIN": "hugo.meyer"}
    colmar = {**here, "MESSAGERIE_DEMO_LOGIN": "colmar.acheteur"}
    ours = tmp_path / "MUL-01.zip"
    assert messagerie("export", "MUL-01", "--out", str(ours), env=hugo).returncode == 0

    # Another platform: its own store (without accounts) and certificate, and by chance a
    # consultation of the same reference as Mulhouse's here.
    elsewhere = tmp_path / "autre"
    other_url = f"sqlite:///{elsewhere / 'messagerie.sqlite3'}"
    elsewhere.mkdir()
    other = open_store(other_url, upgrade=True, documents_dir=elsewhere / "documents")
    add_towns(other, paris(2026, 12, 18), paris(2026, 11, 20))
    other.close()
    theirs = tmp_path / "autre-MUL-01.zip"
    there = {"MESSAGERIE_DB": other_url, "MESSAGERIE_DATA_DIR": str(elsewhere)}
    assert messagerie("export", "MUL-01", "--out", str(theirs), env=there).returncode == 0
    their_certificate = elsewhere / "signature" / "plateforme-demonstration.crt.pem"

    # Colmar's buyer: this store's bundle of Mulhouse is « introuvable », as is one of this
    # store naming a reference that is nowhere here (so the answer tells nothing).
    forged = with_reference(ours, "MUL-99", tmp_path / "faux.zip")
    for bundle, reference in ((ours, "MUL-01"), (forged, "MUL-99")):
        refused = messagerie("verify", str(bundle), env=colmar)
        assert refused.returncode == 2
        assert refused.stdout == ""
        assert refused.stderr.strip() == (
            f"messagerie : Aucune consultation n'a la référence « {reference} » dans "
            f"l'organisation « {MULHOUSE} ». Le lot de preuves n'est pas vérifié."
        )
    # The other platform's bundle is checked from its file alone, against its certificate.
    checked = messagerie("verify", str(theirs), "--cert", str(their_certificate), env=colmar)
    assert checked.returncode == 0, checked.stderr
    assert "Lot de preuves intact et signé par la plateforme" in checked.stdout
    # Mulhouse's buyer verifies his own.
    assert messagerie("verify", str(ours), env=hugo).returncode == 0
