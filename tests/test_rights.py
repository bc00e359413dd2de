"""The store itself refuses what an account may not do, and reads only what it sees (issue 19):
the rights are checked by the store functions (a direct call is refused, not only a greyed-out
key), and another organisation's consultation, reference or recipient is « introuvable » in
the very words of one that does not exist — on SQLite and PostgreSQL, and through the real
command line with two accounts of two organisations on one store."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from messagerie.letters.intake.files import IntakeOptions, take_attachment
from messagerie.letters.pdf.generate import generate_letters
from messagerie.letters.pdf.merge import plan_rejections, queue_rejections
from messagerie.letters.pdf.publish import AnswerToAll, publish_answer_to_all
from messagerie.models.consultations.dce import (
    DceChanges,
    NewFile,
    change_bid_deadline,
    current_dce,
    dce_history,
    save_dce_changes,
)
from messagerie.models.consultations.detail import consultation_detail
from messagerie.models.consultations.qa import add_qa_entry, qa_entries
from messagerie.models.consultations.registers import (
    add_entry,
    consultation_lots,
    list_register,
    register_addresses,
    update_entry,
)
from messagerie.models.consultations.suites import SuiteRequest, candidate_choices, create_suite
from messagerie.models.consultations.workspace import DceUpdate, publish_dce_update
from messagerie.models.errors import Refusal
from messagerie.models.formatting import paris_seconds
from messagerie.models.importing.registers import ImportRefused, import_file
from messagerie.models.messages.ar import ArRefused, ar_data
from messagerie.models.messages.bundle import find_consultation
from messagerie.models.messages.detail import message_detail, resend
from messagerie.models.messages.drafts import DraftRecipient, list_drafts
from messagerie.models.messages.form import FormInput, load_context
from messagerie.models.messages.merge import AnalysisRow
from messagerie.models.messages.outbox import DETAIL_HIDDEN
from messagerie.models.messages.presets import preset_form
from messagerie.models.messages.queue import QueuedMessage, load_form, queue_message, save_draft
from messagerie.models.messages.tracking import (
    TrackingQuery,
    message_summary,
    recipient_token,
    tracking_count,
    tracking_page,
)
from messagerie.models.rules.validation import ValidEntry
from messagerie.models.store.accounts import (
    AccountMissing,
    ConsultationNotFound,
    add_account,
    current_login,
    missing_right,
    resolve_account,
)
from messagerie.models.store.chain import append_events
from messagerie.models.store.database import Store
from messagerie.models.store.documents import DocumentInfo, document_space
from messagerie.models.store.enums import EventKind, MessageType, Procedure, RegisterKind, Right
from messagerie.models.store.tables import (
    audit_entry,
    company,
    consultation,
    document,
    message,
    recipient,
    store_meta,
)
from tests.helpers.accounts import COLMAR, MULHOUSE, add_accounts, new_account
from tests.helpers.cli import ROOT, messagerie
from tests.helpers.dce import pdf
from tests.helpers.factories import paris
from tests.helpers.pilot import settle, wait_until
from tests.helpers.screens import screen_lines
from tests.helpers.sql import statements_of
from tests.helpers.terminal import Tmux

NOW = paris(2026, 11, 27, 10)
COLMAR_MARKETS = "Service des marchés publics"
SAMPLE_JSON = ROOT / "tests" / "data" / "import-sample.json"
EVERY_RIGHT_BUT_DECIDE = set(Right) - {Right.DECIDE}
# Colmar's full buyer but for decision letters, its reader, Mulhouse's sender (who may decide).
ACCOUNTS = {
    "claire.muller": (COLMAR, EVERY_RIGHT_BUT_DECIDE),
    "remi.schmitt": (COLMAR, {Right.CONSULT}),
    "hugo.meyer": (MULHOUSE, {Right.CONSULT, Right.SEND, Right.DECIDE, Right.EXPORT}),
}

pytest_plugins = ["tests.helpers.scoping"]  # the fixtures towns and accounts


def form_of(store: Store, consultation_id: int, message_type: MessageType) -> FormInput:
    return replace(
        preset_form(load_context(store, consultation_id), message_type),
        subject="Information aux candidats",
        body="Bonjour,\n\nUne information sur la consultation.",
        recipients=(DraftRecipient("contact@entreprise.example"),),
    )


def send_free(store: Store, consultation_id: int, actor: str) -> QueuedMessage:
    """A free letter to one company, queued as `actor`."""
    return queue_message(store, form_of(store, consultation_id, MessageType.FREE), actor=actor,
                         now=NOW)  # fmt: skip


def messages_of(store: Store, consultation_id: int) -> list[tuple[str, str, str]]:
    """Every message of the consultation, drafts included: (type, state, author)."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.select(message.c.type, message.c.state, message.c.author)
            .where(message.c.consultation_id == consultation_id)
            .order_by(message.c.id)
        )
        return [tuple(row) for row in rows]


def recipient_of(store: Store, queued: QueuedMessage) -> int:
    with store.engine.connect() as connection:
        return connection.execute(
            sa.select(recipient.c.id).where(recipient.c.message_id == queued.message_id)
        ).scalar_one()


def refusal(call) -> str:  # type: ignore[no-untyped-def]
    """The French text of the refusal `call()` raises."""
    with pytest.raises(Refusal) as refused:
        call()
    return str(refused.value)


# --- Rights: the store refuses, naming the right ------------------------------------------


def test_without_the_decision_right_the_store_refuses_a_rejection(store, towns, accounts):
    claire, colmar = accounts["claire.muller"], towns["colmar"]
    rejection = form_of(store, colmar, MessageType.REJECTION)
    why = missing_right(claire, Right.DECIDE)
    assert "« Envoyer les courriers de décision »" in why and "claire.muller" in why
    assert refusal(lambda: queue_message(store, rejection, actor="claire.muller", now=NOW)) == why
    assert refusal(lambda: save_draft(store, rejection, actor="claire.muller")) == why
    for decision in (MessageType.AWARD, MessageType.NOTIFICATION, MessageType.CANCELLATION):
        letter = replace(rejection, type=decision)
        assert refusal(lambda f=letter: queue_message(store, f, actor="claire.muller")) == why
    assert messages_of(store, colmar) == []  # not even a draft
    # The same account may send what is not a decision.
    send_free(store, colmar, "claire.muller")
    assert messages_of(store, colmar) == [("free", "queued", "claire.muller")]


def test_without_the_send_right_nothing_is_queued_nor_saved(store, towns, accounts):
    remi, colmar = accounts["remi.schmitt"], towns["colmar"]
    why = missing_right(remi, Right.SEND)
    assert "« Envoyer des messages »" in why
    assert refusal(lambda: send_free(store, colmar, "remi.schmitt")) == why
    free = form_of(store, colmar, MessageType.FREE)
    assert refusal(lambda: save_draft(store, free, actor="remi.schmitt")) == why
    assert messages_of(store, colmar) == []


def test_without_the_dce_right_neither_the_dce_nor_the_deadline_changes(store, towns, accounts):
    remi, colmar = accounts["remi.schmitt"], towns["colmar"]
    why = missing_right(remi, Right.DCE)
    assert "« Modifier le DCE »" in why
    changes = DceChanges.starting_from(None).add(NewFile("RC.pdf", pdf("règlement")))
    assert refusal(lambda: save_dce_changes(store, store.blobs, colmar, changes,
                                            actor="remi.schmitt")) == why  # fmt: skip
    later = paris(2027, 1, 8)
    assert refusal(lambda: change_bid_deadline(store, colmar, later, reason="Report demandé",
                                               actor="remi.schmitt", now=NOW)) == why  # fmt: skip
    assert current_dce(store, colmar, actor="claire.muller") is None
    assert consultation_detail(store, colmar).bid_deadline == paris(2026, 12, 18)
    # Claire may: the change is hers in the journal.
    change_bid_deadline(
        store, colmar, later, reason="Report demandé", actor="claire.muller", now=NOW
    )
    assert consultation_detail(store, colmar).bid_deadline == later
    with store.engine.connect() as connection:
        authors = connection.execute(
            sa.select(audit_entry.c.actor).where(audit_entry.c.consultation_id == colmar)
        ).scalars()
        assert list(authors) == ["claire.muller"]


def test_without_the_answer_right_no_answer_is_recorded(store, towns, accounts):
    hugo, mulhouse = accounts["hugo.meyer"], towns["mulhouse"]

    def answer(consultation_id: int, actor: str) -> None:
        add_qa_entry(store, consultation_id, number=1, question="Le lot 2 est-il maintenu ?",
                     answer="Oui.", question_entry_id=None, actor=actor)  # fmt: skip

    why = missing_right(hugo, Right.ANSWER)
    assert "« Répondre aux questions »" in why
    assert refusal(lambda: answer(mulhouse, "hugo.meyer")) == why
    assert qa_entries(store, mulhouse, actor="hugo.meyer") == ()
    answer(towns["colmar"], "claire.muller")
    assert [
        entry.answer for entry in qa_entries(store, towns["colmar"], actor="claire.muller")
    ] == ["Oui."]


def import_sample(
    store: Store, tmp_path: Path, reference: str, organisation: str, entity: str
) -> Path:
    """The sample file's first consultation, under `reference`, for `organisation`; a
    company the store knows by its SIRET keeps its known name (a register never renames)."""
    data = json.loads(SAMPLE_JSON.read_text(encoding="utf-8"))
    first = data["consultations"][0]
    first.update(reference=reference, organisation=organisation, purchasing_entity=entity)
    with store.engine.connect() as connection:
        known = dict(connection.execute(sa.select(company.c.siret, company.c.name)).all())
    for entries in first["registers"].values():
        for entry in entries:
            entry["company"] = known.get("".join(entry["siret"].split()), entry["company"])
    path = tmp_path / f"registres-{reference}.json"
    path.write_text(json.dumps({"consultations": [first]}), encoding="utf-8")
    return path


def consultation_count(store: Store) -> int:
    with store.engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(consultation)).scalar()


def test_imports_need_the_right_and_stay_in_the_accounts_organisation(
    store, towns, accounts, tmp_path
):
    own = import_sample(store, tmp_path, "COL-02", COLMAR, COLMAR_MARKETS)
    why = missing_right(accounts["remi.schmitt"], Right.IMPORT)
    assert "« Importer des registres »" in why
    assert refusal(lambda: import_file(store, own, actor="remi.schmitt", now=NOW)) == why
    # Claire may import, into Colmar only.
    elsewhere = import_sample(store, tmp_path, "MUL-02", MULHOUSE, "Direction des achats")
    with pytest.raises(ImportRefused) as foreign:
        import_file(store, elsewhere, actor="claire.muller", now=NOW)
    assert foreign.value.errors == (
        f"consultation « MUL-02 » : l'organisation « {MULHOUSE} » n'est pas la vôtre "
        f"(« {COLMAR} ») ; l'import n'écrit que dans votre organisation.",
    )
    # Mulhouse's reference under Colmar's name: Colmar's own consultation. Mulhouse's is
    # never updated (nor taken over), and the import tells nothing of it.
    taken = import_sample(store, tmp_path, "MUL-01", COLMAR, COLMAR_MARKETS)
    assert import_file(store, taken, actor="claire.muller", now=NOW).consultations_created == 1
    assert consultation_count(store) == 3
    assert (
        consultation_detail(store, towns["mulhouse"]).identity.title
        == "Voirie de Ville de Mulhouse"
    )
    report = import_file(store, own, actor="claire.muller", now=NOW)
    assert report.consultations_created == 1 and consultation_count(store) == 4


def test_a_reference_is_unique_in_its_organisation_only(store, towns, accounts, tmp_path):
    """Unique in the store, Mulhouse's « MUL-01 » could not be Colmar's too, and Colmar's
    import said that it existed. Now each organisation has its own: the support account,
    which sees both, is asked which to export; inside Colmar, an account of one entity is
    refused a colleague entity's reference, which it cannot see nor take."""
    taken = import_sample(store, tmp_path, "MUL-01", COLMAR, COLMAR_MARKETS)
    colmar_id = find_consultation(store, "COL-01", accounts["claire.muller"])
    import_file(store, taken, actor="claire.muller", now=NOW)
    ours = find_consultation(store, "MUL-01", accounts["claire.muller"])
    assert ours not in (towns["mulhouse"], colmar_id)
    assert find_consultation(store, "MUL-01", accounts["hugo.meyer"]) == towns["mulhouse"]
    support = accounts["support"]
    assert refusal(lambda: find_consultation(store, "MUL-01", support)) == (
        f"La référence « MUL-01 » est celle d'une consultation de chacune de ces organisations : "
        f"« {COLMAR} » ; « {MULHOUSE} ». Précisez laquelle (--organisation NOM)."
    )
    assert find_consultation(store, "MUL-01", support, organisation=MULHOUSE) == towns["mulhouse"]
    assert find_consultation(store, "MUL-01", support, organisation=COLMAR) == ours

    workshop = import_sample(store, tmp_path, "COL-CT", COLMAR, "Centre technique municipal")
    import_file(store, workshop, actor="claire.muller", now=NOW)
    add_account(store, new_account("paul.weber", COLMAR, {Right.CONSULT, Right.IMPORT},
                                   entities=("Centre technique municipal",)),
                author="claire.muller", now=NOW)  # fmt: skip
    colleague = import_sample(store, tmp_path, "COL-01", COLMAR, "Centre technique municipal")
    with pytest.raises(ImportRefused) as hidden:
        import_file(store, colleague, actor="paul.weber", now=NOW)
    assert hidden.value.errors == (
        "consultation « COL-01 » : cette référence est celle d'une consultation d'une autre "
        "entité de votre organisation, que votre compte ne voit pas ; choisissez-en une autre.",
    )
    assert consultation_detail(store, colmar_id).identity.entity == COLMAR_MARKETS


def copied(store: Store, consultation_id: int, reference: str) -> int:
    """Another consultation of the same organisation and entity, named `reference`."""
    with store.engine.begin() as connection:
        row = (
            connection.execute(sa.select(consultation).where(consultation.c.id == consultation_id))
            .one()
            ._asdict()
        )
        del row["id"]
        return connection.execute(
            sa.insert(consultation)
            .values({**row, "reference": reference})
            .returning(consultation.c.id)
        ).scalar_one()


def test_a_suite_s_reference_passes_over_one_an_import_took(store, towns, accounts, tmp_path):
    """A suite is « COL-01-S1 »: with that reference already imported in the organisation,
    the creation failed on the database's constraint. Another organisation's « COL-01-S2 »
    is not in the way."""
    taken = import_sample(store, tmp_path, "COL-01-S1", COLMAR, COLMAR_MARKETS)
    import_file(store, taken, actor="claire.muller", now=NOW)
    copied(store, towns["mulhouse"], "COL-01-S2")  # Mulhouse's, as it could import it
    choices = tuple(choice.entry_id for choice in candidate_choices(store, towns["colmar"]))
    request = SuiteRequest(towns["colmar"], Procedure.RESTRICTED_TENDER, (), choices,
                           paris(2027, 1, 8))  # fmt: skip
    suite = create_suite(store, request, actor="claire.muller", now=NOW)
    assert suite.reference == "COL-01-S2"
    # A reference of 58 characters has no room for « -S1 »: said, not a database error.
    long = replace(request, parent_id=copied(store, towns["colmar"], "L" * 58))
    assert refusal(lambda: create_suite(store, long, actor="claire.muller", now=NOW)) == (
        f"La référence de la suite, « {'L' * 58}-S1 », dépasserait 60 caractères (« -S… » "
        "compris) : la référence de cette consultation est trop longue pour lui donner une "
        "suite."
    )


# --- Scoping: another organisation's is « introuvable », as what does not exist --------------


def test_another_organisations_consultation_is_introuvable_to_the_store_functions(
    store, towns, accounts
):
    colmar, missing = towns["colmar"], towns["colmar"] + 1000
    hugo = accounts["hugo.meyer"]
    free = form_of(store, colmar, MessageType.FREE)
    for consultation_id in (colmar, missing):
        introuvable = f"La consultation n°{consultation_id} est introuvable."
        mine = replace(free, consultation_id=consultation_id)
        with pytest.raises(ConsultationNotFound, match=introuvable):
            queue_message(store, mine, actor="hugo.meyer", now=NOW)
        with pytest.raises(ConsultationNotFound, match=introuvable):
            save_draft(store, mine, actor="hugo.meyer")
        # Checked before the right: no difference between « hidden » and « missing » either.
        with pytest.raises(ConsultationNotFound, match=introuvable):
            change_bid_deadline(store, consultation_id, paris(2027, 1, 8), reason="Report demandé",
                                actor="hugo.meyer", now=NOW)  # fmt: skip
        # The form's recipients and registers, and the mail-merge's, read through it.
        with pytest.raises(ConsultationNotFound, match=introuvable):
            load_context(store, consultation_id, hugo)
    assert messages_of(store, colmar) == []


def test_export_and_ar_of_another_organisation_read_as_nonexistent(store, towns, accounts):
    claire, hugo = accounts["claire.muller"], accounts["hugo.meyer"]
    assert find_consultation(store, "COL-01", claire) == towns["colmar"]
    assert find_consultation(store, "MUL-01", hugo) == towns["mulhouse"]
    for reference in ("MUL-01", "INCONNUE"):
        with pytest.raises(ConsultationNotFound) as hidden:
            find_consultation(store, reference, claire)
        assert str(hidden.value) == f"Aucune consultation n'a la référence « {reference} »."
    remi = accounts["remi.schmitt"]
    assert refusal(lambda: find_consultation(store, "COL-01", remi)) == missing_right(
        remi, Right.EXPORT
    )

    theirs = recipient_of(store, send_free(store, towns["mulhouse"], "hugo.meyer"))
    ours = recipient_of(store, send_free(store, towns["colmar"], "claire.muller"))
    for recipient_id in (theirs, theirs + 1000):
        with pytest.raises(ArRefused) as hidden:
            ar_data(store, recipient_id, account=claire)
        assert str(hidden.value) == f"Destinataire n° {recipient_id} introuvable."
    with pytest.raises(ArRefused, match="pas encore ouvert"):  # found: hers, not read yet
        ar_data(store, ours, account=claire)
    with pytest.raises(ArRefused, match="pas encore ouvert"):
        ar_data(store, theirs, account=hugo)


def test_the_tracking_across_consultations_shows_the_accounts_own(store, towns, accounts):
    send_free(store, towns["colmar"], "claire.muller")
    send_free(store, towns["mulhouse"], "hugo.meyer")

    def seen(query: TrackingQuery) -> list[str]:
        return sorted(row.reference for row in tracking_page(store, query))

    claire, hugo = accounts["claire.muller"], accounts["hugo.meyer"]
    assert seen(TrackingQuery(account=claire)) == ["COL-01"]
    assert seen(TrackingQuery(account=hugo)) == ["MUL-01"]
    assert tracking_count(store, TrackingQuery(account=hugo)) == 1
    assert seen(TrackingQuery(account=accounts["support"])) == ["COL-01", "MUL-01"]
    assert seen(TrackingQuery()) == ["COL-01", "MUL-01"]  # a store without accounts
    # Another organisation's consultation, named: an empty table, as a missing one.
    assert seen(TrackingQuery(towns["mulhouse"], account=claire)) == []
    filtered = TrackingQuery(account=claire, text="information")
    assert filtered.filtered() and seen(filtered) == ["COL-01"]
    assert filtered.cleared().account == claire and not filtered.cleared().filtered()


async def test_the_tracking_screen_across_consultations_lists_the_accounts_own(
    store, towns, accounts
):
    from messagerie.screens.tracking import TrackingScreen
    from messagerie.tui.app import MessagerieApp

    send_free(store, towns["colmar"], "claire.muller")
    send_free(store, towns["mulhouse"], "hugo.meyer")
    app = MessagerieApp(
        open_store=lambda: store,
        account_of=lambda opened: resolve_account(opened, "hugo.meyer"),
    )
    async with app.run_test(size=(120, 30)) as pilot:
        # Opened at once, while the dashboard may still be opening the store: scoped anyway.
        pilot.app.push_screen(TrackingScreen())
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, TrackingScreen)
        await wait_until(pilot, lambda: screen.rows, "the tracking's rows")
        await settle(pilot)
        assert {row.reference for row in screen.rows.values()} == {"MUL-01"}
        assert "COL-01" not in " ".join(screen_lines(pilot))


def test_register_entries_and_resending_are_refused_alike(store, towns, accounts):
    colmar, remi = towns["colmar"], accounts["remi.schmitt"]
    withdrawal = ValidEntry(RegisterKind.WITHDRAWAL, "Voirie Services", "44306184100047",
                            "Léa Roth", "lea.roth@voirie.example", NOW)  # fmt: skip
    why = missing_right(remi, Right.IMPORT)
    assert refusal(lambda: add_entry(store, colmar, withdrawal, actor="remi.schmitt")) == why
    with pytest.raises(ConsultationNotFound, match=f"La consultation n°{colmar} est introuvable"):
        add_entry(store, colmar, withdrawal, actor="hugo.meyer")
    added = add_entry(store, colmar, withdrawal, actor="claire.muller")
    # Mulhouse's buyer cannot correct it: to him, it does not exist.
    hidden = refusal(lambda: update_entry(store, added.id, withdrawal, actor="hugo.meyer"))
    missing = refusal(lambda: update_entry(store, added.id + 1000, withdrawal, actor="hugo.meyer"))
    assert hidden == missing.replace(str(added.id + 1000), str(added.id))
    assert "n'existe plus dans les registres" in hidden

    ours = recipient_of(store, send_free(store, colmar, "claire.muller"))
    for recipient_id in (ours, ours + 1000):
        assert refusal(lambda r=recipient_id: resend(store, r, actor="hugo.meyer")) == (
            f"Destinataire n° {recipient_id} introuvable."
        )
    assert refusal(lambda: resend(store, ours, actor="remi.schmitt")) == missing_right(
        remi, Right.SEND
    )


# --- Reads by id: another organisation's reads as what does not exist -------------------------


def test_the_reads_by_id_of_another_organisation_read_as_nonexistent(store, towns, accounts):
    colmar = towns["colmar"]
    queued = send_free(store, colmar, "claire.muller")
    draft = save_draft(store, form_of(store, colmar, MessageType.FREE), actor="claire.muller")
    ours = recipient_of(store, queued)
    consultation_reads = {
        "list_register": lambda cid, who: list_register(store, cid, RegisterKind.DEPOSIT,
                                                        actor=who),
        "register_addresses": lambda cid, who: register_addresses(store, cid, list(RegisterKind),
                                                                  actor=who),
        "consultation_lots": lambda cid, who: consultation_lots(store, cid, actor=who),
        "qa_entries": lambda cid, who: qa_entries(store, cid, actor=who),
        "current_dce": lambda cid, who: current_dce(store, cid, actor=who),
        "dce_history": lambda cid, who: dce_history(store, cid, actor=who),
        "list_drafts": lambda cid, who: list_drafts(store, cid, actor=who),
        "document_space": lambda cid, who: document_space(store, cid, actor=who),
    }  # fmt: skip
    message_reads = {
        "message_detail": (queued.message_id, lambda mid, who: message_detail(store, mid,
                                                                              actor=who)),
        "message_summary": (queued.message_id, lambda mid, who: message_summary(store, mid,
                                                                                actor=who)),
        "load_form": (draft.draft_id, lambda mid, who: load_form(store, mid, actor=who)),
    }  # fmt: skip
    for name, read in consultation_reads.items():
        read(colmar, "claire.muller")  # her own: read
        read(colmar, "support")  # support: every organisation
        for consultation_id in (colmar, colmar + 1000):
            assert refusal(lambda r=read, c=consultation_id: r(c, "hugo.meyer")) == (
                f"La consultation n°{consultation_id} est introuvable."
            ), name
    assert [d.id for d in list_drafts(store, colmar, actor="claire.muller")] == [draft.draft_id]
    for name, (own, read) in message_reads.items():
        read(own, "claire.muller")
        for message_id in (own, own + 1000):
            assert refusal(lambda r=read, m=message_id: r(m, "hugo.meyer")) == (
                f"Le message n°{message_id} est introuvable."
            ), name
    assert message_summary(store, queued.message_id, actor="claire.muller").recipients == 1
    assert recipient_token(store, ours, actor="claire.muller")
    for recipient_id in (ours, ours + 1000):
        assert refusal(lambda r=recipient_id: recipient_token(store, r, actor="hugo.meyer")) == (
            f"Destinataire n° {recipient_id} introuvable."
        )
    # A login without an account reads nothing, even of a consultation that exists.
    with pytest.raises(AccountMissing):
        list_register(store, colmar, RegisterKind.DEPOSIT, actor="inconnu")
    # The tracking screen asks for the summary at each move: the check rides in its query.
    summary = lambda: message_summary(store, queued.message_id, actor="claire.muller")  # noqa: E731
    assert statements_of(store, summary)[0] == 1
    token = lambda: recipient_token(store, ours, actor="claire.muller")  # noqa: E731
    assert statements_of(store, token)[0] == 1


def blob_files(store: Store) -> list[Path]:
    return sorted(path for path in store.blobs.root.rglob("*") if path.is_file())


def document_count(store: Store) -> int:
    with store.engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(document)).scalar_one()


def test_attachments_and_letters_need_the_right_before_anything_is_stored(store, towns, accounts):
    colmar, mulhouse = towns["colmar"], towns["mulhouse"]
    remi, claire = accounts["remi.schmitt"], accounts["claire.muller"]

    def attach(consultation_id: int, actor: str) -> DocumentInfo:
        return take_attachment(store, filename="note.txt", data=b"Note aux candidats.\n",
                               options=IntakeOptions(), consultation_id=consultation_id,
                               actor=actor)  # fmt: skip

    assert refusal(lambda: attach(colmar, "remi.schmitt")) == missing_right(remi, Right.SEND)
    assert refusal(lambda: attach(mulhouse, "claire.muller")) == (
        f"La consultation n°{mulhouse} est introuvable."
    )
    assert (document_count(store), blob_files(store)) == (0, [])

    # A rejection's letter: Claire may send, not decide; nothing is drawn nor kept.
    context = load_context(store, colmar, claire)
    rejection = replace(form_of(store, colmar, MessageType.REJECTION),
                        mentions={"reasons": "Prix plus élevé."})  # fmt: skip
    why = missing_right(claire, Right.DECIDE)
    assert refusal(lambda: generate_letters(store, context, rejection, dated=NOW.date(),
                                            platform_url="https://plateforme.example",
                                            actor="claire.muller")) == why  # fmt: skip
    rows = [
        AnalysisRow(2, "Entreprise retenue", "", Decimal("90"), 1, "Meilleure offre."),
        AnalysisRow(3, f"Entreprise de {COLMAR}", "", Decimal("70"), 2, "Prix plus élevé."),
    ]
    lines = plan_rejections(context, rows, "Entreprise retenue", dated=NOW.date())
    assert len(lines) == 1
    assert refusal(lambda: queue_rejections(store, context, lines, actor="claire.muller")) == why
    assert (document_count(store), blob_files(store)) == (0, [])
    assert messages_of(store, colmar) == []

    # Her attachment is kept.
    attach(colmar, "claire.muller")
    assert document_count(store) == 1


def test_a_refused_dce_update_leaves_no_file_in_the_store(store, towns, accounts):
    colmar, remi = towns["colmar"], accounts["remi.schmitt"]
    changes = DceChanges.starting_from(None).add(NewFile("RC.pdf", pdf("règlement")))
    why = missing_right(remi, Right.DCE)
    assert refusal(lambda: save_dce_changes(store, store.blobs, colmar, changes,
                                            actor="remi.schmitt")) == why  # fmt: skip
    update = DceUpdate(colmar, changes)
    assert refusal(lambda: publish_dce_update(store, store.blobs, update, "remi.schmitt",
                                              NOW)) == why  # fmt: skip
    # An answer to all goes into the DCE: without the right to answer, not a byte is kept.
    hugo, mulhouse = accounts["hugo.meyer"], towns["mulhouse"]
    answer = AnswerToAll(mulhouse, None, "Le lot 2 est-il maintenu ?", "Oui.")
    assert refusal(lambda: publish_answer_to_all(store, answer, actor="hugo.meyer")) == (
        missing_right(hugo, Right.ANSWER)
    )
    assert blob_files(store) == [] and document_count(store) == 0
    save_dce_changes(store, store.blobs, colmar, changes, actor="claire.muller")
    assert len(blob_files(store)) == 1


def test_an_import_is_refused_before_its_file_is_read(store, towns, accounts, tmp_path):
    broken = tmp_path / "registres.json"
    broken.write_text("{ ceci n'est pas du JSON", encoding="utf-8")
    why = missing_right(accounts["remi.schmitt"], Right.IMPORT)
    assert refusal(lambda: import_file(store, broken, actor="remi.schmitt", now=NOW)) == why
    with pytest.raises(AccountMissing):
        import_file(store, broken, actor="inconnu", now=NOW)
    # Who may import is told what is wrong with the file.
    with pytest.raises(ImportRefused):
        import_file(store, broken, actor="claire.muller", now=NOW)


# --- The command line: two accounts of two organisations on one store -----------------------


def two_towns_for_the_cli(store: Store, store_url: str, tmp_path: Path) -> dict[str, str]:
    """The system login as support, colmar.acheteur and hugo.meyer (Mulhouse); the variables
    that open the store. The CLI runs as the system login; MESSAGERIE_DEMO_LOGIN opens a
    demo's store as another of its accounts (README "Accounts"): the store gets the demo's
    marker for that."""
    me = current_login()
    add_accounts(store, me, {}, NOW)
    add_account(store, new_account("colmar.acheteur", COLMAR, {Right.CONSULT, Right.SEND}),
                author=me, now=NOW)  # fmt: skip
    add_account(store, new_account("hugo.meyer", MULHOUSE,
                                   {Right.CONSULT, Right.SEND, Right.EXPORT}),
                author=me, now=NOW)  # fmt: skip
    with store.engine.begin() as connection:
        connection.execute(sa.insert(store_meta).values(key="demo", value="test"))
    return {"MESSAGERIE_DB": store_url, "MESSAGERIE_DATA_DIR": str(tmp_path)}


@pytest.mark.services
# The commands on SQLite only (eleven processes, 17 s of CPU a backend): what differs on
# PostgreSQL is checked on it elsewhere, the store's refusals in-process above
# (test_export_and_ar_…, test_the_reads_by_id_…), `export_bundle` in test_bundle, a command
# opening PostgreSQL as an account (its connections scoped) in test_accounts' `import`.
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_export_ar_and_verify_through_the_cli_each_account_its_own(
    store_url, store, towns, tmp_path
):
    env = two_towns_for_the_cli(store, store_url, tmp_path)
    ours = recipient_of(store, send_free(store, towns["colmar"], "colmar.acheteur"))
    theirs = recipient_of(store, send_free(store, towns["mulhouse"], "hugo.meyer"))
    hugo = {**env, "MESSAGERIE_DEMO_LOGIN": "hugo.meyer"}

    def export(reference: str, as_env: dict[str, str]):  # type: ignore[no-untyped-def]
        out = tmp_path / f"{reference}-{len(as_env)}.zip"
        return messagerie("export", reference, "--out", str(out), env=as_env), out

    mine, bundle = export("MUL-01", hugo)
    assert mine.returncode == 0, mine.stderr
    for reference in ("COL-01", "INCONNUE"):
        hidden, _ = export(reference, hugo)
        assert hidden.returncode == 1
        assert hidden.stderr.strip() == (
            f"messagerie : Aucune consultation n'a la référence « {reference} »."
        )
    for recipient_id in (ours, ours + 1000):
        hidden_ar = messagerie("ar", str(recipient_id), env=hugo)
        assert hidden_ar.returncode == 1
        assert hidden_ar.stderr.strip() == (
            f"messagerie : Destinataire n° {recipient_id} introuvable."
        )
    own_ar = messagerie("ar", str(theirs), env=hugo)
    assert own_ar.returncode == 1 and "pas encore ouvert" in own_ar.stderr  # found: his own

    # The system login (support: every organisation) sees both; verifies Mulhouse's bundle.
    assert export("COL-01", env)[0].returncode == 0
    assert messagerie("verify", str(bundle), env=env).returncode == 0
    # As Colmar's buyer (the marker's way again): Mulhouse's bundle is not verified, though
    # Colmar has a « MUL-01 » of its own (the manifest names the organisation).
    copied(store, towns["colmar"], "MUL-01")
    colmar = {**env, "MESSAGERIE_DEMO_LOGIN": "colmar.acheteur"}
    foreign = messagerie("verify", str(bundle), env=colmar)
    assert foreign.returncode == 2
    assert foreign.stderr.strip() == (
        "messagerie : Aucune consultation n'a la référence « MUL-01 » dans l'organisation "
        "« Ville de Mulhouse ». Le lot de preuves n'est pas vérifié."
    )
    assert messagerie("verify", str(bundle), env=hugo).returncode == 0
    # Support sees both « MUL-01 »: which one to export is asked.
    ambiguous, _ = export("MUL-01", env)
    assert ambiguous.returncode == 1 and ambiguous.stderr.strip() == (
        f"messagerie : La référence « MUL-01 » est celle d'une consultation de chacune de ces "
        f"organisations : « {COLMAR} » ; « {MULHOUSE} ». Précisez laquelle (--organisation NOM)."
    )
    chosen = messagerie("export", "MUL-01", "--organisation", MULHOUSE, "--out",
                        str(tmp_path / "mulhouse.zip"), env=env)  # fmt: skip
    assert chosen.returncode == 0, chosen.stderr


@pytest.mark.services
def test_messagerie_import_refuses_an_account_without_the_right_before_reading_the_file(
    store_url, store, towns, tmp_path
):
    env = two_towns_for_the_cli(store, store_url, tmp_path)
    broken = tmp_path / "registres.json"
    broken.write_text("{ ceci n'est pas du JSON", encoding="utf-8")
    colmar = {**env, "MESSAGERIE_DEMO_LOGIN": "colmar.acheteur"}  # consult and send only
    refused = messagerie("import", str(broken), env=colmar)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "messagerie : Le compte « colmar.acheteur » n'a pas le droit « Importer des "
        "registres » : demandez-le à un gestionnaire de votre organisation."
    )


@pytest.mark.services
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)  # four processes; SQL alike
def test_status_shows_an_incident_s_detail_only_to_who_sees_its_consultation(
    store_url, store, towns, tmp_path
):
    """A relay's answer quotes the recipient's address: `status` printed the last incident
    of any organisation to any login, with or without an account."""
    env = two_towns_for_the_cli(store, store_url, tmp_path)
    theirs = recipient_of(store, send_free(store, towns["mulhouse"], "hugo.meyer"))
    detail = "Abandon après 3 tentatives : 550 5.1.1 <achats@entreprise-mulhouse.fr> inconnu"
    with store.engine.begin() as connection:
        append_events(connection, [{"recipient_id": theirs, "kind": EventKind.NOT_DELIVERED,
                                    "at": NOW, "detail": detail}])  # fmt: skip
    quiet = {**env, "MESSAGERIE_CLAMD": "off"}
    said = {
        login: messagerie("status", env={**quiet, "MESSAGERIE_DEMO_LOGIN": login}).stdout
        for login in ("hugo.meyer", "colmar.acheteur", "sans.compte")
    }
    assert f"Dernier incident : {paris_seconds(NOW)} — {detail}" in said["hugo.meyer"]
    for login in ("colmar.acheteur", "sans.compte"):
        assert f"Dernier incident : {paris_seconds(NOW)} — {DETAIL_HIDDEN}" in said[login]
        assert "entreprise-mulhouse" not in said[login]


@pytest.mark.services
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_two_accounts_in_a_real_terminal_each_see_their_town_only(
    store_url, store, towns, tmp_path
):
    env = two_towns_for_the_cli(store, store_url, tmp_path)
    env |= {"MESSAGERIE_SMTP_URL": "smtp://127.0.0.1:9", "TERM": "xterm-256color"}
    for login, own, other in (("hugo.meyer", "MUL-01", "COL-01"),
                              ("colmar.acheteur", "COL-01", "MUL-01")):  # fmt: skip
        tmux = Tmux(80, 24, {**env, "MESSAGERIE_DEMO_LOGIN": login})
        try:
            shown = tmux.wait_for(own)
            assert other not in shown and "Tous les statuts · 1 " in shown, shown
            tmux.keys("/")
            tmux.keys(other.lower())  # the other town's reference, in the search field
            tmux.wait_for(f"Rechercher (/) : {other.lower()}")
            tmux.keys("Enter")  # nothing at all
            shown = tmux.wait_for("0 Résultats de recherche")
            assert other not in shown.replace(f"« {other.lower()} »", ""), shown
        finally:
            tmux.close()
