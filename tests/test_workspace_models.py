"""Drafts, suites, the consultation detail and rules 1 and 4 (store on SQLite and PostgreSQL)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
import sqlalchemy as sa

from messagerie.letters.pdf.publish import AnswerToAll, publish_answer_to_all
from messagerie.models.consultations.dce import DceConflict, current_dce
from messagerie.models.consultations.detail import consultation_detail
from messagerie.models.consultations.qa import QaConflict, add_qa_entry, qa_entries
from messagerie.models.consultations.suites import (
    SuiteRefused,
    SuiteRequest,
    candidate_choices,
    create_suite,
    mask_access_code,
    new_access_code,
)
from messagerie.models.messages.drafts import (
    DraftRecipient,
    DraftRequest,
    Override,
    create_draft,
    list_drafts,
)
from messagerie.models.rules.checks import answer_to_one_company, asker_identified
from messagerie.models.store.enums import (
    DeliveryState,
    MessageState,
    MessageType,
    Procedure,
    RegisterKind,
)
from messagerie.models.store.tables import AuditEntry, Message, Recipient, RegisterEntry, table_of
from tests.helpers.factories import add_open_consultation, paris
from tests.helpers.interleave import right_after
from tests.helpers.pdfs import pdf_text


@pytest.fixture
def wines(store):
    lots = {0: "Pinot gris", 1: "Crémant"}
    identity = ("2025VINS", "Achat de vins d'Alsace")
    return add_open_consultation(
        store, identity, paris(2027, 1, 25), lots, paris(2025, 8, 22, 9, 31)
    )


def test_draft_holds_unique_recipients_and_records_overrides(store, wines):
    request = DraftRequest(
        consultation_id=wines,
        type=MessageType.ANSWER,
        recipients=(
            DraftRecipient("jeanne.martin@nbc.example", contact_name="Jeanne Martin"),
            DraftRecipient("Jeanne.Martin@NBC.example"),
        ),
        lot_numbers=(1,),
        overrides=(Override(1, "La réponse contient des données personnelles"),),
        origin="case B",
    )
    draft = create_draft(store, request, actor="marie")
    assert draft.type is MessageType.ANSWER
    assert draft.recipients == ("jeanne.martin@nbc.example",)
    assert draft.lots == ("Lot n°1 - Crémant",)
    assert draft.subject == "Réponse à votre question"
    assert list_drafts(store, wines, actor="m") == (draft,)
    with store.engine.connect() as connection:
        state = connection.execute(sa.select(table_of(Message).c.state)).scalar_one()
        (row,) = connection.execute(sa.select(table_of(Recipient))).all()
        audit = connection.execute(
            sa.select(table_of(AuditEntry).c.rule, table_of(AuditEntry).c.override_reason)
        ).all()
    assert state == MessageState.DRAFT
    assert row.delivery_state == DeliveryState.HELD
    assert len(row.token) >= 32 and row.token not in row.message_id_header
    assert (1, "La réponse contient des données personnelles") in audit


def test_suite_with_candidates_lots_and_an_access_code(store, wines):
    (choice,) = candidate_choices(store, wines)
    assert choice.company_name == "N.B.C. FR"
    deadline = datetime.now(UTC) + timedelta(days=20)
    created = create_suite(
        store,
        SuiteRequest(wines, Procedure.NEGOTIATED, (1,), (choice.entry_id,), deadline),
        actor="marie",
    )
    assert created.reference == "2025VINS-S1"
    assert created.candidates == 1
    suite = consultation_detail(store, created.consultation_id)
    assert suite.parent.reference == "2025VINS"
    assert suite.lots == ((1, "Crémant"),)
    assert suite.access_code == created.access_code
    assert suite.restricted
    parent = consultation_detail(store, wines)
    assert [s.reference for s in parent.suites] == ["2025VINS-S1"]
    assert parent.counts[RegisterKind.DEPOSIT] == 1


def test_suite_refusals(store, wines):
    (choice,) = candidate_choices(store, wines)
    future = datetime.now(UTC) + timedelta(days=5)
    with pytest.raises(SuiteRefused, match="au moins un candidat"):
        create_suite(store, SuiteRequest(wines, Procedure.NEGOTIATED, (), (), future), actor="m")
    with pytest.raises(SuiteRefused, match="à venir"):
        past = datetime.now(UTC) - timedelta(days=1)
        create_suite(
            store,
            SuiteRequest(wines, Procedure.NEGOTIATED, (), (choice.entry_id,), past),
            actor="m",
        )
    with store.engine.connect() as connection:
        question_id = connection.execute(
            sa.select(table_of(RegisterEntry).c.id).where(
                table_of(RegisterEntry).c.kind == RegisterKind.QUESTION
            )
        ).scalar_one()
    with pytest.raises(SuiteRefused, match="registre des dépôts"):
        create_suite(
            store,
            SuiteRequest(wines, Procedure.NEGOTIATED, (), (question_id,), future),
            actor="m",
        )


def test_access_codes_are_long_random_and_masked():
    codes = {new_access_code() for _ in range(200)}
    assert len(codes) == 200
    code = codes.pop()
    assert len(code.replace("-", "")) == 16 and not set(code) & set("01IO")
    assert mask_access_code(code) == f"{code[:4]}-••••-••••-••••"


def test_rule_1_needs_a_reason_to_answer_one_company():
    verdict = answer_to_one_company(register_addresses=12, reason="")
    assert verdict.blocks and "12 entreprises" in verdict.message
    assert answer_to_one_company(12, "Données personnelles") is None
    assert answer_to_one_company(1, "") is None  # the asker is the only company
    short = answer_to_one_company(12, " x ")  # « Autre raison : x » answered one company
    assert short.blocks and short.message.endswith(
        "Le motif « x » est trop court : écrivez-le en toutes lettres (au moins 10 caractères)."
    )


def test_rule_4_warns_when_the_asker_shows_in_a_broadcast():
    verdict = asker_identified(("le nom de l'entreprise « N.B.C. FR »",), recipients=8)
    assert verdict.level == "warning" and "N.B.C. FR" in verdict.message
    assert asker_identified((), 8) is None
    assert asker_identified(("x",), 1) is None


def test_buyers_creating_suites_at_the_same_moment_each_get_their_own(store, wines):
    """Each reads the same free « -S1 »; the unique reference turns all but one away, and
    they take the next numbers instead of failing."""
    (choice,) = candidate_choices(store, wines)
    deadline = datetime.now(UTC) + timedelta(days=20)
    request = SuiteRequest(wines, Procedure.NEGOTIATED, (1,), (choice.entry_id,), deadline)
    buyers = 4
    together = threading.Barrier(buyers)

    def create(actor: str) -> str:
        together.wait()
        return create_suite(store, request, actor=actor).reference

    with ThreadPoolExecutor(buyers) as pool:
        references = list(pool.map(create, [f"acheteur{n}" for n in range(buyers)]))
    assert sorted(references) == [f"2025VINS-S{n}" for n in range(1, buyers + 1)]
    parent = consultation_detail(store, wines)
    assert len(parent.suites) == buyers


def test_two_buyers_answering_at_once_lose_neither_answer(store, tmp_path):
    """B reads the answers published so far while A publishes hers: B's Q/A document would
    have left A's answer out of the DCE, then failed on its number. B is refused as a whole,
    and publishes again on top of A's."""
    deadline = datetime.now(UTC) + timedelta(days=60)
    cid = add_open_consultation(store, ("2026QR", "Voirie"), deadline, {}, paris(2026, 1, 5))
    answer = partial(AnswerToAll, cid, None)

    def a_publishes() -> None:
        publish_answer_to_all(store, answer("Question A ?", "Réponse A."), actor="anne")

    b_publishes = partial(publish_answer_to_all, store, answer("Question B ?", "Réponse B."))
    refused = pytest.raises(DceConflict, match="Rien n'a été enregistré")
    with right_after(store, "FROM qa_item", a_publishes), refused:
        b_publishes(actor="bruno")
    assert [e.question for e in qa_entries(store, cid, actor="bruno")] == ["Question A ?"]
    again = b_publishes(actor="bruno")
    text = pdf_text(again.pdf)
    assert "Question A ?" in text and "Question B ?" in text
    (piece,) = current_dce(store, cid, actor="bruno").pieces
    assert piece.path == again.filename
    assert len(list_drafts(store, cid, actor="bruno")) == 2  # each answer's information


def test_only_a_number_another_took_is_told_as_another_buyer_s_answer(store):
    deadline = datetime.now(UTC) + timedelta(days=60)
    cid = add_open_consultation(store, ("2026QR", "Voirie"), deadline, {}, paris(2026, 1, 5))
    entry = partial(add_qa_entry, store, cid, actor="anne", question="Q ?", answer="R.")
    entry(number=1, question_entry_id=None)
    with pytest.raises(QaConflict, match="publiée par une autre personne"):
        entry(number=1, question_entry_id=None)
    # A question the register never held is a bug to see whole, not another buyer's answer.
    with pytest.raises(sa.exc.IntegrityError):
        entry(number=2, question_entry_id=10**9)
    assert [e.number for e in qa_entries(store, cid, actor="anne")] == [1]
