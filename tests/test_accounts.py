"""Accounts, rights and organisation scoping (issue 19): each account sees its organisation's
consultations only, the author of the audit log is the system login, and `messagerie comptes`
manages who may do what — on SQLite and on PostgreSQL, through the real command line."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from messagerie.models.consultations.dashboard import dashboard_page
from messagerie.models.consultations.detail import ConsultationNotFound, consultation_detail
from messagerie.models.consultations.views import DashboardQuery
from messagerie.models.errors import Refusal
from messagerie.models.store.accounts import (
    NO_ACCOUNT,
    Account,
    AccountMissing,
    add_account,
    current_login,
    remove_account,
    resolve_account,
)
from messagerie.models.store.database import Store, open_store
from messagerie.models.store.enums import ConsultationStatus, Procedure, Right
from messagerie.models.store.tables import (
    consultation,
    organisation,
    purchasing_entity,
)
from tests.conftest import demo_documents
from tests.helpers.accounts import new_account as new
from tests.helpers.audit import audit_rows
from tests.helpers.cli import ROOT, messagerie, messagerie_at_a_terminal
from tests.helpers.factories import add_consultations, paris
from tests.helpers.interleave import right_after
from tests.helpers.pilot import settle
from tests.helpers.screens import screen_lines

S = ConsultationStatus
NOW = paris(2026, 11, 27, 10)
COLMAR, MULHOUSE = "Ville de Colmar", "Ville de Mulhouse"
COLMAR_MARKETS, COLMAR_WORKSHOP = "Service des marchés publics", "Centre technique municipal"


def add_entity_consultation(store: Store, organisation_name: str, entity_name: str) -> None:
    """A second purchasing entity of the organisation, with one consultation (COL-03)."""
    with store.engine.begin() as connection:
        organisation_id = connection.execute(
            sa.select(organisation.c.id).where(organisation.c.name == organisation_name)
        ).scalar_one()
        entity_id = connection.execute(
            sa.insert(purchasing_entity)
            .values(
                organisation_id=organisation_id,
                name=entity_name,
                sender_email="ctm@colmar.example",
                postal_address="49 rue Ampère, 68000 Colmar",
            )
            .returning(purchasing_entity.c.id)
        ).scalar_one()
        connection.execute(
            sa.insert(consultation).values(
                reference="COL-03",
                title="Balayeuse",
                object="Balayeuse de voirie",
                procedure=Procedure.ADAPTED,
                status=S.OPEN,
                bid_deadline=paris(2026, 12, 20),
                entity_id=entity_id,
                organisation_id=organisation_id,
                search_text="col-03 balayeuse",
            )
        )


@pytest.fixture
def towns(store):
    """Colmar (two entities) and Mulhouse, each with its consultations; word « voirie » in
    both. No account yet."""
    colmar = add_consultations(
        store,
        [
            ("COL-01", "Voirie du centre-ville", S.OPEN, paris(2026, 12, 18)),
            ("COL-02", "Éclairage public", S.DECISION, paris(2025, 6, 2)),
        ],
        entity_name=COLMAR_MARKETS,
        organisation_name=COLMAR,
    )
    add_entity_consultation(store, COLMAR, COLMAR_WORKSHOP)
    mulhouse = add_consultations(
        store,
        [
            ("MUL-01", "Voirie du quartier Rebberg", S.OPEN, paris(2026, 12, 11)),
            ("MUL-02", "Restauration scolaire", S.OPEN, paris(2026, 12, 12)),
            ("MUL-03", "Nettoyage des locaux", S.DRAFTING, paris(2027, 1, 8)),
        ],
        entity_name="Direction des achats",
        organisation_name=MULHOUSE,
    )
    return {"colmar": colmar, "mulhouse": mulhouse}


@pytest.fixture
def accounts(store, towns) -> dict[str, Account]:
    """A support account (the store's first, with `manage`), which adds Colmar's manager,
    who adds a colleague of the Centre technique only; support adds Mulhouse's buyer."""
    add_account(
        store,
        new("support", COLMAR, {Right.CONSULT, Right.MANAGE}, support=True),
        author="installateur",
        now=NOW,
    )
    add_account(
        store,
        new("claire.muller", COLMAR, {Right.CONSULT, Right.MANAGE}),
        author="support",
        now=NOW,
    )
    add_account(
        store,
        new("remi.schmitt", COLMAR, {Right.CONSULT}, entities=(COLMAR_WORKSHOP,)),
        author="claire.muller",
        now=NOW,
    )
    add_account(
        store, new("hugo.meyer", MULHOUSE, {Right.CONSULT, Right.SEND}), author="support", now=NOW
    )
    logins = ("support", "claire.muller", "remi.schmitt", "hugo.meyer")
    found = {login: resolve_account(store, login) for login in logins}
    return {login: account for login, account in found.items() if account}


def references(page) -> list[str]:
    return sorted(item.identity.reference for item in page.items)


# --- Scoping ---------------------------------------------------------------------------------


def test_each_account_sees_only_its_organisations_consultations_and_counts(store, accounts):
    claire, hugo = accounts["claire.muller"], accounts["hugo.meyer"]
    page = dashboard_page(store, DashboardQuery(), claire)
    assert references(page) == ["COL-01", "COL-02", "COL-03"] and page.total == 3
    assert page.status_counts[S.OPEN] == 2 and page.status_counts[S.DECISION] == 1
    assert page.status_counts[S.DRAFTING] == 0  # Mulhouse's draft is not counted
    page = dashboard_page(store, DashboardQuery(), hugo)
    assert references(page) == ["MUL-01", "MUL-02", "MUL-03"]
    assert page.status_counts[S.OPEN] == 2 and page.status_counts[S.DRAFTING] == 1
    # A search finds the word in both organisations: each sees its own hit only.
    assert references(dashboard_page(store, DashboardQuery(text="voirie"), claire)) == ["COL-01"]
    assert references(dashboard_page(store, DashboardQuery(text="voirie"), hugo)) == ["MUL-01"]
    filtered = dashboard_page(store, DashboardQuery(status=S.OPEN), hugo)
    assert references(filtered) == ["MUL-01", "MUL-02"] and filtered.page_count == 1
    # Support sees every organisation; so does a store without accounts (no account given).
    assert dashboard_page(store, DashboardQuery(), accounts["support"]).total == 6
    assert dashboard_page(store, DashboardQuery()).total == 6


def test_an_account_of_one_entity_sees_that_entitys_consultations(store, accounts):
    remi = accounts["remi.schmitt"]
    assert remi.entities and remi.organisation == COLMAR
    page = dashboard_page(store, DashboardQuery(), remi)
    assert references(page) == ["COL-03"] and page.total == 1


def test_another_organisations_consultation_is_introuvable(store, towns, accounts):
    claire = accounts["claire.muller"]
    own, foreign = towns["colmar"][0], towns["mulhouse"][0]
    assert consultation_detail(store, own, claire).identity.reference == "COL-01"
    with pytest.raises(ConsultationNotFound) as hidden:
        consultation_detail(store, foreign, claire)
    missing_id = foreign + 1000
    with pytest.raises(ConsultationNotFound) as missing:
        consultation_detail(store, missing_id, claire)
    # Worded exactly as a consultation that does not exist: nothing to probe.
    assert str(hidden.value) == f"La consultation n°{foreign} est introuvable."
    assert str(missing.value) == f"La consultation n°{missing_id} est introuvable."
    assert consultation_detail(store, foreign, accounts["support"]).identity.reference == "MUL-01"


# --- Who may manage accounts ---------------------------------------------------------------


def test_the_only_two_managers_removing_each_other_at_once_leave_one(store, towns):
    """Each found their own account as they removed the other's: the store was left without
    accounts, that is open to any login. The second is refused now."""
    add_account(store, new("claire.muller", COLMAR, {Right.MANAGE}), author="installateur", now=NOW)
    add_account(store, new("hugo.meyer", COLMAR, {Right.MANAGE}), author="claire.muller", now=NOW)
    refused: list[str] = []

    def hugo_removes_claire() -> None:
        try:
            remove_account(store, "claire.muller", author="hugo.meyer", now=NOW)
        except AccountMissing as missing:  # his account went first
            refused.append(str(missing))

    with right_after(store, "DELETE FROM account_right", hugo_removes_claire, head_start=0.5):
        remove_account(store, "hugo.meyer", author="claire.muller", now=NOW)
    assert refused == [NO_ACCOUNT.format(login="hugo.meyer")]
    assert resolve_account(store, "claire.muller") is not None


def test_who_may_add_and_remove_accounts(store, towns):
    first_without_manage = new("nadia.klein", COLMAR, {Right.CONSULT})
    with pytest.raises(Refusal, match="premier compte de la base doit avoir le droit « manage »"):
        add_account(store, first_without_manage, author="installateur", now=NOW)
    add_account(store, new("claire.muller", COLMAR, {Right.MANAGE}), author="installateur", now=NOW)
    refusals = [
        (
            new("hugo.meyer", MULHOUSE, {Right.SEND}),
            "claire.muller",
            "ne gère que les comptes de « Ville de Colmar »",
        ),
        (
            new("aide", COLMAR, {Right.CONSULT}, support=True),
            "claire.muller",
            "Seul un compte support",
        ),
        (new("claire.muller", COLMAR, {Right.CONSULT}), "claire.muller", "existe déjà"),
        (
            new("x.y", "Ville de Sélestat", {Right.CONSULT}),
            "claire.muller",
            "Aucune organisation « Ville de Sélestat » dans cette base (les organisations sont : "
            "« Ville de Colmar » ; « Ville de Mulhouse »)",
        ),
        (
            new("x.y", COLMAR, {Right.CONSULT}, entities=("Piscine",)),
            "claire.muller",
            "Aucune entité d'achat « Piscine » dans « Ville de Colmar »",
        ),
        (new("x y", COLMAR, {Right.CONSULT}), "claire.muller", "contient une espace"),
    ]
    for account, author, message in refusals:
        with pytest.raises(Refusal, match=re.escape(message)):
            add_account(store, account, author=author, now=NOW)
    add_account(store, new("nadia.klein", COLMAR, {Right.CONSULT}), author="claire.muller", now=NOW)
    with pytest.raises(Refusal, match=r"« nadia\.klein » n'a pas le droit « manage »"):
        add_account(store, new("x.y", COLMAR, {Right.CONSULT}), author="nadia.klein", now=NOW)
    with pytest.raises(Refusal, match="votre propre compte"):
        remove_account(store, "claire.muller", author="claire.muller", now=NOW)
    with pytest.raises(Refusal, match="n'a pas le droit « manage »"):
        remove_account(store, "claire.muller", author="nadia.klein", now=NOW)
    assert remove_account(store, "nadia.klein", author="claire.muller", now=NOW).login
    assert resolve_account(store, "claire.muller") is not None
    with pytest.raises(AccountMissing, match=re.escape(NO_ACCOUNT.format(login="nadia.klein"))):
        resolve_account(store, "nadia.klein")


# --- Through the real command line -----------------------------------------------------------


def cli_env(store_url: str, tmp_path, **more: str) -> dict[str, str]:
    return {"MESSAGERIE_DB": store_url, "MESSAGERIE_DATA_DIR": str(tmp_path), **more}


@pytest.mark.services
def test_comptes_ajouter_lister_retirer_through_the_cli_audited(store_url, store, towns, tmp_path):
    me = current_login()
    # MESSAGERIE_USER names nobody once there are accounts: the author is the system login.
    env = cli_env(store_url, tmp_path, MESSAGERIE_USER="usurpateur")
    empty = messagerie("comptes", "lister", env=env)
    assert empty.returncode == 0 and "mode mono-utilisateur" in empty.stdout
    first = messagerie(
        "comptes",
        "ajouter",
        me,
        "--nom",
        "Claire Muller",
        "--courriel",
        "claire.muller@colmar.fr",
        "--organisation",
        COLMAR,
        "--droits",
        "consult,manage",
        env=env,
    )
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"Compte ajouté : {me} — Claire Muller <claire.muller@")
    second = messagerie(
        "comptes",
        "ajouter",
        "remi.schmitt",
        "--nom",
        "Rémi Schmitt",
        "--courriel",
        "remi@colmar.fr",
        "--organisation",
        COLMAR,
        "--entite",
        COLMAR_WORKSHOP,
        "--droits",
        "consult,send",
        env=env,
    )
    assert second.returncode == 0, second.stderr
    elsewhere = messagerie(
        "comptes",
        "ajouter",
        "hugo.meyer",
        "--nom",
        "Hugo Meyer",
        "--courriel",
        "hugo@mulhouse.fr",
        "--organisation",
        MULHOUSE,
        "--droits",
        "consult",
        env=env,
    )
    assert elsewhere.returncode == 1 and "Traceback" not in elsewhere.stderr
    assert "ne gère que les comptes de « Ville de Colmar »" in elsewhere.stderr
    listed = messagerie("comptes", "lister", env=env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == sorted(
        [
            f"{me} — Claire Muller <claire.muller@colmar.fr> — Ville de Colmar (entités : "
            "toutes) — droits : consult, manage",
            "remi.schmitt — Rémi Schmitt <remi@colmar.fr> — Ville de Colmar (entités : Centre "
            "technique municipal) — droits : consult, send",
        ]
    )
    removed = messagerie("comptes", "retirer", "remi.schmitt", env=env)
    assert removed.returncode == 0 and removed.stdout.startswith("Compte retiré : remi.schmitt")
    assert resolve_account(store, me) is not None
    with pytest.raises(AccountMissing, match=r"remi\.schmitt"):
        resolve_account(store, "remi.schmitt")
    journal = audit_rows(store, "account.")
    assert [(actor, action) for actor, action, _ in journal] == [
        (me, "account.add"),
        (me, "account.add"),
        (me, "account.remove"),
    ]
    assert "remi.schmitt" in journal[1][2] and "Centre technique municipal" in journal[1][2]


@pytest.mark.services
def test_messagerie_user_names_the_author_only_in_a_store_without_accounts(
    store_url, store, tmp_path
):
    sample = ROOT / "tests" / "data" / "import-sample.json"
    env = cli_env(store_url, tmp_path, MESSAGERIE_USER="marie.mono")
    single = messagerie("import", str(sample), env=env)
    assert single.returncode == 0, single.stderr
    mine = new(current_login(), "Collectivité européenne d'Alsace", {Right.IMPORT, Right.MANAGE})
    add_account(store, mine, author="installateur", now=NOW)
    data = json.loads(sample.read_text(encoding="utf-8"))
    for imported in data["consultations"]:
        imported["reference"] = "BIS-" + imported["reference"]
    again = tmp_path / "registres-bis.json"
    again.write_text(json.dumps(data), encoding="utf-8")
    second = messagerie("import", str(again), env=env)
    assert second.returncode == 0, second.stderr
    assert [actor for actor, _, _ in audit_rows(store, "import")] == [
        "marie.mono",
        current_login(),
    ]


@pytest.mark.services
def test_a_login_without_account_is_refused_by_the_cli_and_the_tui(
    store_url, store, towns, tmp_path
):
    add_account(
        store, new("quelqu.un.autre", COLMAR, {Right.MANAGE}), author="installateur", now=NOW
    )
    line = "messagerie : " + NO_ACCOUNT.format(login=current_login())
    env = cli_env(
        store_url,
        tmp_path,
        MESSAGERIE_SMTP_URL="smtp://127.0.0.1:9",
        MESSAGERIE_USER="quelqu.un.autre",
    )
    listed = messagerie("comptes", "lister", env=env)
    assert listed.returncode == 2 and listed.stderr.strip() == line
    assert listed.stdout == ""
    # The TUI (no sub-command), at a terminal: it ends before showing any consultation.
    tui = messagerie_at_a_terminal(env=env)
    assert tui.returncode == 2 and tui.stderr.rstrip().endswith(line)
    assert "COL-01" not in tui.stderr + tui.stdout


# --- The TUI, as one account ------------------------------------------------------------------


async def test_the_dashboard_shows_the_accounts_consultations_only(store, accounts):
    from messagerie.screens.dashboard import ResultsList
    from messagerie.tui.app import MessagerieApp

    app = MessagerieApp(
        open_store=lambda: store,
        actor="usurpateur",
        account_of=lambda opened: resolve_account(opened, "hugo.meyer"),
    )
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        shown = [item.identity.reference for item in pilot.app.screen.query_one(ResultsList).items]
        assert sorted(shown) == ["MUL-01", "MUL-02", "MUL-03"]
        assert pilot.app.screen.query_one("#results").border_title.startswith("3 Résultats")
        assert app.actor == "hugo.meyer"  # the audit's author is the account's login
        assert "Tableau de bord — hugo.meyer · Ville de Mulhouse" in screen_lines(pilot)[0]


async def test_a_store_without_accounts_says_so_in_the_header(store, towns):
    from messagerie.tui.app import MessagerieApp

    app = MessagerieApp(open_store=lambda: store, account_of=lambda opened: None)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert "Tableau de bord — base sans compte (mono-utilisateur)" in screen_lines(pilot)[0]


# --- The demo --------------------------------------------------------------------------------


@pytest.mark.services
def test_the_demo_opens_as_each_of_its_accounts(demo_url, tmp_path):
    store = open_store(demo_url, documents_dir=demo_documents(demo_url))
    try:
        support = resolve_account(store, current_login())
        assert support is not None and support.support  # who built it: support, all in view
        seen = {}
        for login in ("marie.dupont", "paul.weber", "claire.muller"):
            account = resolve_account(store, login)
            assert account is not None
            page = dashboard_page(store, DashboardQuery(per_page=20), account)
            assert {item.identity.organisation for item in page.items} == {account.organisation}
            seen[account.organisation] = page.total
        assert len(seen) == 3 and sum(seen.values()) < 1395
        assert dashboard_page(store, DashboardQuery(), support).total == 1395
    finally:
        store.close()
    env = cli_env(demo_url, tmp_path, MESSAGERIE_DEMO_LOGIN="paul.weber")
    listed = messagerie("comptes", "lister", env=env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].startswith("paul.weber — Paul Weber <paul.weber@")
    assert len(listed.stdout.splitlines()) == 1  # his organisation's accounts only


@pytest.mark.services
def test_an_unknown_comptes_action_is_one_french_line():
    result = messagerie("comptes", "supprimer", "x")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "messagerie : « comptes supprimer » inconnu (ajouter, lister, modifier ou retirer) — "
        "voir « messagerie comptes --help »"
    )
