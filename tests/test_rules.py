"""The rules of LEGAL.md 2 and 5 to 10, and check_message over a draft's facts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from messagerie.models.rules.checks import (
    REASON_MIN_LENGTH,
    SINGLE_ANSWER_REASONS,
    MessageFacts,
    RuleVerdict,
    answer_countdown,
    answer_countdown_line,
    answer_in_time,
    answer_timing,
    asker_identified,
    awardee_rejected,
    cancellation_reasons,
    cancellation_recipients,
    check_message,
    complement_batch_deadlines,
    complement_reply_deadline,
    complement_same_delay,
    invitation_body,
    invitation_candidates,
    invitation_mentions,
    modification_window_check,
    notification_standstill,
    receipt_provable,
    rejection_letter,
    standstill_exempted,
)
from messagerie.models.rules.standstill import (
    RejectionSent,
    Standstill,
    lot_standstill,
    signing_from,
)
from messagerie.models.store.enums import MessageType, SendMode
from tests.helpers.factories import paris

DEADLINE = paris(2026, 3, 20, 12)  # bid deadline, Friday 20/03/2026 12:00


def assert_verdict(
    verdict: RuleVerdict | None, rule: int, level: str, field: str, *fragments: str
) -> None:
    assert verdict is not None
    assert (verdict.rule, verdict.level, verdict.field) == (rule, level, field)
    for fragment in fragments:
        assert fragment in verdict.message


# Rule 2


def test_rule_2_an_answer_6_days_ahead_is_in_time():
    assert answer_timing(DEADLINE, paris(2026, 3, 14, 12), formalised=True, urgent=False) is None
    assert answer_timing(DEADLINE, paris(2026, 3, 10), formalised=True, urgent=False) is None


def test_rule_2_a_late_answer_warns_with_the_countdown():
    verdict = answer_timing(DEADLINE, paris(2026, 3, 15, 15), formalised=True, urgent=False)
    assert_verdict(
        verdict,
        2,
        "warning",
        "bid_deadline",
        "R2132-6",
        "dépassé de 1 jour et 3 heures",
        "6 jours",
        "14/03/2026 12:00",
        "il reste 4 jours et 21 heures",
    )


def test_rule_2_after_the_bid_deadline_says_so():
    verdict = answer_timing(DEADLINE, paris(2026, 3, 21), formalised=True, urgent=False)
    assert_verdict(verdict, 2, "warning", "bid_deadline", "déjà passée")


def test_rule_2_urgency_allows_4_days():
    now = paris(2026, 3, 15, 15)
    assert answer_timing(DEADLINE, now, formalised=True, urgent=True) is None
    verdict = answer_timing(DEADLINE, paris(2026, 3, 17), formalised=True, urgent=True)
    assert_verdict(verdict, 2, "warning", "bid_deadline", "4 jours", "16/03/2026 12:00")


def test_rule_2_does_not_apply_to_an_adapted_procedure():
    assert answer_timing(DEADLINE, paris(2026, 3, 19), formalised=False, urgent=False) is None


def test_rules_2_and_3_count_days_on_the_clocks_of_paris_across_a_change_of_time():
    """Six days before Friday 30/10/2026 noon, after the October change, is Saturday 24/10
    noon, not 13:00; before Friday 03/04/2026 noon, after the March change, Saturday 28/03
    noon, not 11:00."""
    autumn = paris(2026, 10, 30, 12)
    verdict = answer_timing(autumn, paris(2026, 10, 24, 12, 30), formalised=True, urgent=False)
    assert_verdict(verdict, 2, "warning", "bid_deadline", "soit le 24/10/2026 12:00")
    assert modification_window_check(autumn, paris(2026, 10, 24, 12, 30)) is not None
    assert modification_window_check(autumn, paris(2026, 10, 24, 12)) is None
    # The time left is counted on the same clocks: « 6 jours » would contradict the block.
    assert "il reste 5 jours et 23 heures avant la date limite" in verdict.message
    window = modification_window_check(autumn, paris(2026, 10, 24, 12, 30))
    assert window is not None and "Il reste 5 jours et 23 heures avant" in window.message
    spring = paris(2026, 4, 3, 12)
    assert answer_timing(spring, paris(2026, 3, 28, 11, 30), formalised=True, urgent=False) is None
    assert modification_window_check(spring, paris(2026, 3, 28, 11, 30)) is None
    assert modification_window_check(spring, paris(2026, 3, 28, 12, 1)) is not None


def test_rule_2_countdown_before_the_limit():
    text = answer_countdown(DEADLINE, paris(2026, 3, 12, 10), urgent=False)
    assert text == "Il reste 2 jours et 2 heures pour répondre dans le délai."


def test_rule_2_the_form_shows_the_countdown_only_while_the_answer_is_in_time():
    early = answer_in_time(DEADLINE, paris(2026, 3, 12, 10), formalised=True, urgent=False)
    assert early == (
        "Règle 2 : Il reste 2 jours et 2 heures pour répondre dans le délai. Réponse à envoyer "
        "au plus tard le 14/03/2026 12:00, 6 jours avant la date limite de remise des plis "
        "(article R2132-6)."
    )
    urgent = answer_in_time(DEADLINE, paris(2026, 3, 15, 15), formalised=True, urgent=True)
    assert "Il reste 21 heures" in urgent and "le 16/03/2026 12:00, 4 jours" in urgent
    late = paris(2026, 3, 14, 12, 1)
    assert answer_in_time(DEADLINE, late, formalised=True, urgent=False) == ""  # it warns
    assert answer_in_time(DEADLINE, paris(2026, 3, 10), formalised=False, urgent=False) == ""


def test_rule_2_in_one_line_for_the_answer_to_all_editor():
    early = answer_countdown_line(DEADLINE, paris(2026, 3, 12, 10), formalised=True, urgent=False)
    assert early == ("Règle 2 : il reste 2 jours et 2 heures, jusqu'au 14/03/2026 12:00", False)
    late = answer_countdown_line(DEADLINE, paris(2026, 3, 15, 15), formalised=True, urgent=False)
    assert late == ("⚠ Règle 2 : délai dépassé de 1 jour et 3 heures (14/03/2026 12:00)", True)
    adapted = answer_countdown_line(DEADLINE, paris(2026, 3, 12), formalised=False, urgent=False)
    assert adapted is None


# Rule 5


def test_rule_5_a_future_reply_deadline_passes():
    assert complement_reply_deadline(paris(2026, 3, 10), paris(2026, 3, 2)) is None


def test_rule_5_the_reply_deadline_is_required():
    verdict = complement_reply_deadline(None, paris(2026, 3, 2))
    assert_verdict(verdict, 5, "block", "reply_deadline", "Indiquez la date limite", "R2144-2")


def test_rule_5_the_reply_deadline_is_not_in_the_past():
    verdict = complement_reply_deadline(paris(2026, 3, 1), paris(2026, 3, 2))
    assert_verdict(verdict, 5, "block", "reply_deadline", "01/03/2026 12:00", "déjà passée")


def test_rule_5_one_batch_shares_one_deadline():
    same = paris(2026, 3, 10)
    assert complement_batch_deadlines([same, same.astimezone(UTC), same]) is None
    assert complement_batch_deadlines([]) is None
    verdict = complement_batch_deadlines([same, same + timedelta(hours=1), None])
    assert_verdict(verdict, 5, "block", "reply_deadline", "3 dates limites", "même date")


def test_rule_5_a_request_sent_while_another_runs_gives_the_same_delay():
    """R2144-2: « un délai approprié et identique pour tous ». A request of lot 2 sent on
    2 March gives 8 days, to 10 March noon; on 4 March, another of the same lot warns unless
    it ends at that moment or also gives 8 days (12 March)."""
    running = [(frozenset({2}), paris(2026, 3, 2, 9, 30), paris(2026, 3, 10))]
    now = paris(2026, 3, 4, 15)
    assert complement_same_delay(running, (2,), paris(2026, 3, 10), now) is None
    assert complement_same_delay(running, (2,), paris(2026, 3, 12, 18), now) is None
    assert complement_same_delay(running, (1,), paris(2026, 3, 20), now) is None  # other lot
    assert complement_same_delay(running, (2,), None, now) is None  # rule 5 blocks instead
    after = paris(2026, 3, 11)  # the first one has run out: a new round
    assert complement_same_delay(running, (2,), paris(2026, 3, 30), after) is None
    verdict = complement_same_delay(running, (), paris(2026, 3, 16), now)  # all lots
    assert_verdict(verdict, 5, "warning", "reply_deadline", "R2144-2")
    assert verdict is not None and verdict.message == (
        "La demande de complément envoyée le 02/03/2026 laisse 8 jours aux candidats "
        "(jusqu'au 10/03/2026 12:00), celle-ci 12 jours : le délai doit être identique pour "
        "tous les candidats concernés (article R2144-2 ; pour la régularisation des offres, "
        "article R2152-2 et égalité de traitement). Fixez la date limite au 10/03/2026 12:00, "
        "ou laissez 8 jours à compter d'aujourd'hui (jusqu'au 12/03/2026 12:00). Si cette "
        "demande relève d'une autre phase de la procédure, ignorez cet avertissement."
    )
    # A third request is compared with the round's first, not with one aligned on its day
    # (6 days from 4 March): what the first candidates had sets the delay.
    aligned = [*running, (frozenset({2}), now, paris(2026, 3, 10))]
    verdict = complement_same_delay(aligned, (2,), paris(2026, 3, 11, 18), paris(2026, 3, 5))
    assert verdict is not None and "laisse 8 jours" in verdict.message
    same_day = complement_same_delay(running, (2,), paris(2026, 3, 4, 18), now)
    assert same_day is not None and "celle-ci moins d'un jour" in same_day.message


def test_rule_5_as_many_days_are_counted_on_the_clocks_of_paris():
    """Sent on 20 March for 27 March noon (7 days); a request of 23 March gives as many days
    to 30 March noon, after the change to summer time: not 13:00, 72 hours later."""
    running = [(frozenset(), paris(2026, 3, 20, 10), paris(2026, 3, 27))]
    now = paris(2026, 3, 23, 10)
    verdict = complement_same_delay(running, (), paris(2026, 4, 10), now)
    assert verdict is not None
    assert "7 jours à compter d'aujourd'hui (jusqu'au 30/03/2026 12:00)." in verdict.message
    assert complement_same_delay(running, (), paris(2026, 3, 30), now) is None


def test_rule_4_a_file_naming_the_asker_warns_when_sent_to_several():
    leaks = ("dans « qr.pdf », le nom de l'entreprise « ACME »",)
    assert asker_identified(leaks, 1, "attachments") is None  # to the asker alone
    assert asker_identified((), 5, "attachments") is None
    verdict = asker_identified(leaks, 5, "attachments")
    assert_verdict(verdict, 4, "warning", "attachments", "dans « qr.pdf »", "Anonymisez-la")
    facts = MessageFacts(type=MessageType.ANSWER, recipients=5, attachment_leaks=leaks)
    assert [v.key[:2] for v in check_message(facts, paris(2026, 3, 2))] == [(4, "attachments")]


# Rule 6

CODE = "ABCD-EFGH-JKLM-NPQR"


def test_rule_6_a_complete_invitation_passes():
    assert invitation_body(f"Code d'accès : {CODE}.", CODE, contextual_block=True) is None
    assert invitation_mentions("2026-AO-012", DEADLINE, "Sur la plateforme", "AE, mémoire") is None


def test_rule_6_the_access_code_must_be_in_the_body():
    verdict = invitation_body("Bonjour", CODE, contextual_block=True)
    assert_verdict(verdict, 6, "block", "body", "code d'accès restreint dans le corps", "R2144-8")


def test_rule_6_names_every_gap_of_the_body():
    verdict = invitation_body("Bonjour", None, contextual_block=False)
    assert_verdict(verdict, 6, "block", "body", "aucun code n'a été généré", "bloc contextuel")


def test_rule_6_names_each_missing_mention():
    verdict = invitation_mentions("2026-AO-012", None, " ", "")
    assert_verdict(
        verdict,
        6,
        "block",
        "bid_deadline",
        "la date limite de remise des offres",
        "l'adresse et les modalités de remise",
        "les documents à fournir",
        "R2144-9",
    )
    assert verdict is not None and "référence de l'avis" not in verdict.message
    only_reference = invitation_mentions("", DEADLINE, "Plateforme", "AE")
    assert_verdict(only_reference, 6, "block", "notice_reference", "référence de l'avis")


# A suite's four admitted candidates: (address, company).
ADMITTED = (
    ("contact@sundgau.example", "Data du Sundgau SARL"),
    ("offres@rhin-info.example", "Rhin Informatique"),
    ("ao@vosges-reseaux.example", "Vosges Réseaux SAS"),
    ("marches@ill-data.example", ""),  # its company unknown: named by its address
)


def test_rule_6_every_admitted_candidate_is_invited_whatever_the_case_of_its_address():
    everyone = [email.upper() for email, _ in ADMITTED]
    assert invitation_candidates(ADMITTED, everyone) is None
    assert invitation_candidates(ADMITTED, [*everyone, "autre@example.org"]) is None
    assert invitation_candidates((), ["autre@example.org"]) is None  # not a suite


def test_rule_6_an_admitted_candidate_left_out_blocks_naming_it():
    three = [email for email, _ in ADMITTED[1:]]
    verdict = invitation_candidates(ADMITTED, [*three, "autre@example.org"])
    assert_verdict(
        verdict, 6, "block", "recipients", "R2144-8", "en même temps",
        "Data du Sundgau SARL (contact@sundgau.example)", "candidats de la suite",
    )  # fmt: skip
    assert verdict is not None and "Rhin" not in verdict.message
    unknown = invitation_candidates(ADMITTED, three[:2])
    assert_verdict(unknown, 6, "block", "recipients", "SARL (contact@sundgau.example), "
                   "marches@ill-data.example (F3")  # fmt: skip


# Rule 7


def test_rule_7_standstill_is_11_days_electronically_and_16_otherwise():
    sent = paris(2026, 1, 25, 18)
    assert signing_from(sent, electronic=True) == date(2026, 2, 5)
    assert signing_from(sent, electronic=False) == date(2026, 2, 10)


def test_rule_7_standstill_counts_from_the_paris_day():
    late_evening = datetime(2026, 4, 30, 22, 30, tzinfo=UTC)  # 01/05 00:30 in Paris
    assert signing_from(late_evening, electronic=True) == date(2026, 5, 12)
    assert signing_from(late_evening, electronic=False) == date(2026, 5, 17)


NOW = paris(2026, 3, 2, 10)


def after_award(reasons: str, award_reasons: str, signature_date: date) -> RuleVerdict | None:
    """Rule 7 on a formalised rejection letter sent after the award to BTP Ouest."""
    return rejection_letter(
        NOW,
        formalised=True,
        reasons=reasons,
        awarded=True,
        awardee="BTP Ouest",
        award_reasons=award_reasons,
        signature_date=signature_date,
    )


def test_rule_7_a_complete_letter_passes():
    assert rejection_letter(NOW, formalised=True, reasons="Prix", awarded=False) is None
    complete = after_award("Offre classée 2e", "Meilleur rapport qualité-prix", date(2026, 3, 13))
    assert complete is None
    assert rejection_letter(NOW, formalised=False, reasons="", awarded=True) is None


def test_rule_7_reasons_for_rejection_are_required():
    verdict = rejection_letter(NOW, formalised=True, reasons=" ", awarded=False)
    assert_verdict(verdict, 7, "block", "reasons", "motifs du rejet", "R2181-3")


def test_rule_7_after_award_the_awardee_reasons_and_date_are_required():
    verdict = rejection_letter(NOW, formalised=True, reasons="Prix", awarded=True)
    assert_verdict(
        verdict,
        7,
        "block",
        "awardee",
        "nom de l'attributaire",
        "motifs du choix",
        "peut être signé",
    )


def test_rule_7_the_signature_date_respects_the_standstill():
    verdict = after_award("Prix", "Prix", date(2026, 3, 12))
    assert_verdict(verdict, 7, "block", "signature_date", "13/03/2026", "R2182-1")


REJECTED = (("contact@sundgau.example", "Data du Sundgau SARL"), ("ao@btp.example", "BTP Ouest"))


@pytest.mark.parametrize("awardee", ["Data du Sundgau SARL", "DATA  du sundgau sarl "])
def test_rule_7_the_awardee_is_not_sent_its_own_rejection(awardee):
    verdict = awardee_rejected(awardee, REJECTED)
    assert_verdict(
        verdict, 7, "block", "recipients", f"« {' '.join(awardee.split())} »",
        "(contact@sundgau.example)", "retirez-le des destinataires", "courrier d'attribution",
    )  # fmt: skip


def test_rule_7_the_awardee_is_compared_without_accents_and_only_by_name():
    accented = (("offres@vosges.example", "Société Vosgienne Réseaux"),)
    assert awardee_rejected("SOCIETE VOSGIENNE RESEAUX", accented) is not None
    assert awardee_rejected("Société Vosgienne", accented) is None
    assert awardee_rejected("Rhin Informatique", REJECTED) is None
    assert awardee_rejected(" ", (("x@example.org", ""),)) is None  # no awardee named yet


def test_check_message_blocks_a_rejection_sent_to_its_awardee_after_the_award_only():
    facts = MessageFacts(
        type=MessageType.REJECTION, awardee="Data du Sundgau SARL", addressees=REJECTED
    )
    assert check_message(facts, NOW) == ()  # before the award, no awardee is named
    awarded = replace(facts, awarded=True)
    assert [(v.rule, v.field) for v in check_message(awarded, NOW)] == [(7, "recipients")]


# Rule 8


def formalised_standstill(*sent: datetime) -> Standstill:
    return lot_standstill((RejectionSent(at) for at in sent), formalised=True)


def test_rule_8_notification_waits_11_days_after_the_rejections():
    standstill = formalised_standstill(paris(2026, 2, 20, 9), paris(2026, 2, 23, 17))
    verdict = notification_standstill(standstill, paris(2026, 3, 5))
    assert_verdict(
        verdict, 8, "block", "exemption_reason", "envoyés le 23/02/2026",
        "à partir du 06/03/2026", "R2182-1",
    )  # fmt: skip
    assert notification_standstill(standstill, paris(2026, 3, 6, 0, 5)) is None


def test_rule_8_a_written_exemption_or_an_adapted_procedure_lifts_the_block():
    now = paris(2026, 3, 2)
    standstill = formalised_standstill(paris(2026, 3, 1))
    reason = "Une seule offre reçue"
    assert notification_standstill(standstill, now, exemption_reason=reason) is None
    assert standstill_exempted(standstill, now, reason)
    mapa = lot_standstill([RejectionSent(paris(2026, 3, 1))], formalised=False)
    assert notification_standstill(mapa, now) is None
    assert notification_standstill(formalised_standstill(), now) is None
    assert not standstill_exempted(mapa, now, reason)  # nothing to exempt from: not recorded


@pytest.mark.parametrize(
    "reason", ["x", "1 offre", "  une   offre ", "a" * (REASON_MIN_LENGTH - 1)]
)
def test_rule_8_an_exemption_reason_that_is_not_written_out_leaves_the_block(reason):
    now = paris(2026, 3, 2)
    standstill = formalised_standstill(paris(2026, 3, 1))
    verdict = notification_standstill(standstill, now, exemption_reason=reason)
    assert_verdict(
        verdict, 8, "block", "exemption_reason", "trop court", "en toutes lettres",
        f"au moins {REASON_MIN_LENGTH} caractères", "seul soumissionnaire",
        "sans publicité ni mise en concurrence", "accord-cadre", "à partir du 12/03/2026",
    )  # fmt: skip
    assert not standstill_exempted(standstill, now, reason)
    written = "a" * REASON_MIN_LENGTH
    assert notification_standstill(standstill, now, exemption_reason=written) is None


def test_rule_8_without_a_reason_the_block_names_the_cases_the_code_exempts():
    verdict = notification_standstill(formalised_standstill(paris(2026, 3, 1)), paris(2026, 3, 2))
    assert_verdict(verdict, 8, "block", "exemption_reason", "écrivez le motif de dispense",
                   "seul soumissionnaire", "accord-cadre")  # fmt: skip
    assert verdict is not None and "trop court" not in verdict.message


# Rule 9


@pytest.mark.parametrize(
    "kind", [MessageType.NOTIFICATION, MessageType.REJECTION, MessageType.AWARD]
)
def test_rule_9_warns_on_simple_mail_for_letters_with_effects(kind):
    verdict = receipt_provable(kind, SendMode.SIMPLE)
    assert_verdict(verdict, 9, "warning", "send_mode", "R2182-4", "accusé de réception")
    assert receipt_provable(kind, SendMode.WITH_AR) is None


def test_rule_9_leaves_other_types_alone():
    assert receipt_provable(MessageType.FREE, SendMode.SIMPLE) is None


# Rule 10


def test_rule_10_reasons_are_required():
    assert cancellation_reasons("Infructueux") is None
    assert_verdict(cancellation_reasons(""), 10, "block", "reasons", "sans suite", "R2185-1")


REGISTERS = tuple(f"contact{n}@entreprise{n}.example" for n in range(1, 8))


def test_rule_10_every_register_address_is_informed_more_may_be_added():
    everyone = [email.upper() for email in REGISTERS]  # compared whatever the case
    assert cancellation_recipients(everyone, REGISTERS) is None
    assert cancellation_recipients([*everyone, "autre@example.org"], REGISTERS) is None
    assert cancellation_recipients([], ()) is None


def test_rule_10_a_bidder_swapped_for_another_address_is_named():
    swapped = [*REGISTERS[1:], "autre@example.org"]  # as many recipients as addresses
    verdict = cancellation_recipients(swapped, REGISTERS)
    assert_verdict(
        verdict, 10, "block", "recipients", "1 adresse des registres (retraits, questions, "
        "dépôts) n'est pas parmi les destinataires : contact1@entreprise1.example.",
        "Ajoutez-la", "R2185-2",
    )  # fmt: skip


def test_rule_10_names_the_first_missing_addresses_then_how_many_more():
    verdict = cancellation_recipients(REGISTERS[5:], REGISTERS)
    assert_verdict(
        verdict, 10, "block", "recipients", "5 adresses des registres", "ne sont pas",
        "contact1@entreprise1.example, contact2@entreprise2.example, "
        "contact3@entreprise3.example et 2 autre(s).", "Ajoutez-les",
    )  # fmt: skip
    assert verdict is not None and "contact4" not in verdict.message
    two = cancellation_recipients(REGISTERS[2:], REGISTERS)
    assert_verdict(two, 10, "block", "recipients",
                   "contact1@entreprise1.example, contact2@entreprise2.example.")  # fmt: skip


# check_message


def rules_of(verdicts: tuple[RuleVerdict, ...]) -> list[tuple[int, str]]:
    return [(verdict.rule, verdict.level) for verdict in verdicts]


# An answer sent to every one of the twelve addresses of the registers.
REGISTERED = tuple(f"contact{n}@entreprise{n}.example" for n in range(1, 13))
ANSWER_TO_ALL = MessageFacts(
    type=MessageType.ANSWER,
    recipients=12,
    register_addresses=12,
    register_emails=REGISTERED,
    addressees=tuple((email.upper(), "") for email in REGISTERED),  # case aside
)


def test_check_message_for_a_late_answer_to_one_company():
    facts = replace(ANSWER_TO_ALL, formalised=True, bid_deadline=DEADLINE, recipients=1,
                    addressees=((REGISTERED[0], ""),))  # fmt: skip
    assert rules_of(check_message(facts, paris(2026, 3, 16))) == [(1, "block"), (2, "warning")]


def test_rule_1_a_company_swapped_for_another_address_is_not_an_answer_to_all():
    swapped = (*ANSWER_TO_ALL.addressees[1:], ("quelquun@autre.example", ""))
    facts = replace(ANSWER_TO_ALL, addressees=swapped)  # still 12 addresses
    assert rules_of(check_message(facts, paris(2026, 3, 1))) == [(1, "block")]
    reason = replace(facts, single_answer_reason=SINGLE_ANSWER_REASONS[0])
    assert check_message(reason, paris(2026, 3, 1)) == ()


def test_check_message_for_a_broadcast_answer_in_time_is_clean():
    facts = replace(ANSWER_TO_ALL, formalised=True, bid_deadline=DEADLINE)
    assert check_message(facts, paris(2026, 3, 1)) == ()
    leaking = replace(ANSWER_TO_ALL, asker_leaks=("SIRET",))
    assert rules_of(check_message(leaking, paris(2026, 3, 1))) == [(4, "warning")]


def test_check_message_for_a_dce_change_inside_the_window():
    facts = replace(
        ANSWER_TO_ALL, type=MessageType.MODIFICATION, bid_deadline=DEADLINE, dce_changed=True
    )
    assert rules_of(check_message(facts, paris(2026, 3, 17))) == [(3, "block")]
    assert check_message(facts, paris(2026, 3, 1)) == ()


def test_check_message_for_a_rejection_sent_as_simple_mail():
    facts = MessageFacts(
        type=MessageType.REJECTION, formalised=True, send_mode=SendMode.SIMPLE, awarded=True
    )
    verdicts = check_message(facts, NOW)
    assert rules_of(verdicts) == [(7, "block"), (9, "warning")]
    assert verdicts[0].field == "reasons"


def test_check_message_for_a_notification_during_the_standstill():
    facts = MessageFacts(
        type=MessageType.NOTIFICATION,
        formalised=True,
        standstill=lot_standstill([RejectionSent(paris(2026, 2, 25))], formalised=True),
        attachments=1,  # the signed contract
    )
    assert rules_of(check_message(facts, NOW)) == [(8, "block")]


def test_rule_9_a_notification_without_the_signed_contract_warns():
    """R2182-4: notifying is sending the holder a copy of the signed contract."""
    bare = MessageFacts(type=MessageType.NOTIFICATION, formalised=True)
    (verdict,) = check_message(bare, NOW)
    assert_verdict(verdict, 9, "warning", "attachments", "Aucun fichier n'est joint",
                   "copie signée (article R2182-4)", "Joignez le marché signé")  # fmt: skip
    assert check_message(replace(bare, attachments=1), NOW) == ()
    (several,) = check_message(replace(bare, recipients=2), NOW)
    assert "notifiez chaque titulaire par son propre message" in several.message
    assert "chaque titulaire" not in verdict.message
    award = MessageFacts(type=MessageType.AWARD)  # an award letter notifies nothing
    assert check_message(award, NOW) == ()


def test_check_message_for_an_invitation_a_complement_and_a_cancellation():
    invitation = MessageFacts(type=MessageType.INVITATION, body="Bonjour", access_code=CODE)
    assert [v.field for v in check_message(invitation, NOW)] == ["body", "notice_reference"]
    complement = MessageFacts(
        type=MessageType.COMPLEMENT_REQUEST,
        reply_deadline=paris(2026, 3, 9),
        batch_reply_deadlines=(paris(2026, 3, 9), paris(2026, 3, 10)),
    )
    assert rules_of(check_message(complement, NOW)) == [(5, "block")]
    cancellation = MessageFacts(
        type=MessageType.CANCELLATION,
        addressees=tuple((email, "") for email in REGISTERS[:2]),
        register_emails=REGISTERS,
    )
    assert [v.field for v in check_message(cancellation, NOW)] == ["reasons", "recipients"]
    suite = replace(invitation, candidates=ADMITTED, addressees=ADMITTED[:3])
    assert [v.field for v in check_message(suite, NOW)] == ["body", "notice_reference",
                                                              "recipients"]  # fmt: skip
