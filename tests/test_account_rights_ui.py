"""What an account may not do reads in the TUI before it is tried (issue 19): the key stays in
the footer greyed out, pressing it or choosing it in the palette says which right is missing,
the message form refuses the decision letters; the accounts screen adds, modifies and removes
an account, audited with its author; `messagerie comptes modifier` does so from the shell."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input, Select, SelectionList

from messagerie.models.clock import utc_now
from messagerie.models.demo.corpus import CEA
from messagerie.models.store.accounts import (
    NewAccount,
    add_account,
    current_login,
    missing_right,
    resolve_account,
)
from messagerie.models.store.enums import MessageType, Right
from tests.helpers.accounts import new_account
from tests.helpers.audit import audit_rows
from tests.helpers.cli import messagerie
from tests.helpers.factories import add_consultations, paris
from tests.helpers.hostile import toasts
from tests.helpers.pilot import quiet_cursor, settle, wait_until
from tests.helpers.screens import footer_line, pressed, screen_lines, wines_id

SIZE = (100, 30)
MANAGER = "marie.dupont"  # the demo's manager of the CEA, 2025VINS's organisation


def app_as(store, login: str, rights: set[Right] | None = None):  # type: ignore[no-untyped-def]
    """The real app on `store`, opened as `login`; with `rights`, a new CEA account first."""
    from messagerie.tui.app import MessagerieApp

    if rights is not None:
        add_account(store, new_account(login, CEA, rights), author=MANAGER, now=utc_now())
    return MessagerieApp(open_store=lambda: store, account_of=lambda s: resolve_account(s, login))


def reason(store, login: str, right: Right) -> str:
    account = resolve_account(store, login)
    assert account is not None
    return missing_right(account, right)


def told(pilot, text: str) -> bool:  # type: ignore[no-untyped-def]
    return any(text in " ".join(toast.split()) for toast in toasts(pilot))


async def test_without_the_dce_right_its_keys_are_greyed_and_say_why(workspace):
    app = app_as(workspace, "sans.dce", {Right.CONSULT, Right.SEND})
    why = reason(workspace, "sans.dce", Right.DCE)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        dashboard = pilot.app.screen
        modify = dashboard.active_bindings["m"]
        assert not modify.enabled and "m Modifier" in footer_line(pilot)  # shown, greyed
        await pressed(pilot, "m")
        await wait_until(pilot, lambda: told(pilot, why), "the reason, as a toast")
        assert pilot.app.screen is dashboard  # the DCE was not opened

        pilot.app.open_dce(wines_id(workspace))
        await settle(pilot)
        dce = pilot.app.screen
        assert type(dce).__name__ == "DceScreen"
        assert [key for key in ("ctrl+s", "v", "h") if dce.active_bindings[key].enabled] == ["h"]
        assert "^s Enregistrer" in footer_line(pilot)
        pilot.app.clear_notifications()
        await pressed(pilot, "v")
        await wait_until(pilot, lambda: told(pilot, why), "the reason of « Valider »")


async def test_the_palette_shows_the_reason_and_does_not_run_the_action(workspace):
    app = app_as(workspace, "sans.dce", {Right.CONSULT, Right.SEND})
    why = reason(workspace, "sans.dce", Right.DCE)
    async with app.run_test(size=(160, 30), notifications=True) as pilot:
        await settle(pilot)
        dashboard = pilot.app.screen
        commands = {c.title: c for c in pilot.app.get_system_commands(dashboard)}
        assert commands["Modifier (DCE)"].help == f"Touche : m — {why}"
        assert commands["Détails (ou Entrée)"].help == "Touche : d"  # allowed: its key alone

        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"Modifier (DCE)")
        await wait_until(
            pilot, lambda: "n'a pas le droit « Modifier le DCE »" in "\n".join(screen_lines(pilot)),
            "the reason in the palette",
        )  # fmt: skip
        await pilot.press("enter")
        await wait_until(pilot, lambda: told(pilot, why), "the reason, as a toast")
        assert pilot.app.screen is dashboard


async def test_without_the_decide_right_the_form_refuses_the_decision_letters(workspace):
    app = app_as(workspace, "sans.decision", {Right.CONSULT, Right.SEND})
    why = reason(workspace, "sans.decision", Right.DECIDE)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        pilot.app.open_consultation(wines_id(workspace))
        await settle(pilot)
        commands = {c.title: c for c in pilot.app.get_system_commands(pilot.app.screen)}
        assert commands[MessageType.REJECTION.label].help == why  # the palette's flow says why
        assert commands["Rejets en nombre (fichier d'analyse)"].help == f"Touche : r — {why}"
        assert not pilot.app.screen.active_bindings["r"].enabled  # « Rejets » greyed

        await pressed(pilot, "m")
        form = pilot.app.screen
        kinds = form.query_one("#type", Select)
        kinds.focus()
        await pressed(pilot, "enter")  # the list of types, open
        shown = "\n".join(screen_lines(pilot))
        assert "Courrier de rejet (non autorisé)" in shown
        assert "Réponse à une question (non" not in shown and "Réponse à une question" in shown
        await pressed(pilot, "escape")
        kinds.value = MessageType.REJECTION  # as chosen in the list
        await settle(pilot)
        await wait_until(pilot, lambda: told(pilot, why), "the reason, as a toast")
        assert kinds.value is MessageType.FREE  # the type stayed a « Courrier libre »


def type_problem(pilot) -> str:
    """The message form's line under the type, as read: the live checks write it."""
    return " ".join(str(pilot.app.screen.query_one("#problem-type").render()).split())


async def test_a_decision_draft_is_blocked_with_the_reason_for_an_account_without_it(workspace):
    app = app_as(workspace, "sans.decision", {Right.CONSULT, Right.SEND})
    why = reason(workspace, "sans.decision", Right.DECIDE)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        pilot.app.open_form(wines_id(workspace), message_type=MessageType.REJECTION)
        await settle(pilot)
        await wait_until(pilot, lambda: f"Bloquant : {why}" in type_problem(pilot), "the checks")
        await pressed(pilot, "ctrl+e")
        await wait_until(pilot, lambda: told(pilot, why), "the reason, as a toast")
        assert type(pilot.app.screen).__name__ == "MessageFormScreen"  # nothing queued


async def test_the_accounts_screen_needs_the_manage_right(workspace):
    app = app_as(workspace, "sans.gestion", {Right.CONSULT})
    why = reason(workspace, "sans.gestion", Right.MANAGE)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pressed(pilot, "c")
        await wait_until(pilot, lambda: told(pilot, why), "the reason, as a toast")
        assert type(pilot.app.screen).__name__ == "DashboardScreen"


async def fill(pilot, **fields: str) -> None:  # type: ignore[no-untyped-def]
    for name, value in fields.items():
        pilot.app.screen.query_one(f"#{name}", Input).value = value


async def test_the_accounts_screen_adds_modifies_and_removes_an_account_audited(workspace):
    app = app_as(workspace, MANAGER)
    async with app.run_test(size=(140, 36), notifications=True) as pilot:
        await settle(pilot)
        await pressed(pilot, "c")
        screen = pilot.app.screen
        assert type(screen).__name__ == "AccountsScreen"
        table = screen.query_one(DataTable)
        assert MANAGER in {row.value for row in table.rows}
        assert "paul.weber" not in {row.value for row in table.rows}  # Strasbourg's

        await pressed(pilot, "a")
        await fill(pilot, login="lea.roth", name="Léa Roth", email="lea.roth@alsace.eu")
        pilot.app.screen.query_one("#rights", SelectionList).select(Right.CONSULT)
        pilot.app.screen.query_one("#rights", SelectionList).select(Right.ANSWER)
        await pressed(pilot, "ctrl+s")
        await wait_until(pilot, lambda: "lea.roth" in {r.value for r in table.rows}, "added")
        assert pilot.app.screen is screen
        added = resolve_account(workspace, "lea.roth")
        assert added is not None and added.rights == {Right.CONSULT, Right.ANSWER}

        table.move_cursor(row=table.get_row_index("lea.roth"))
        await pressed(pilot, "e")
        assert pilot.app.screen.query_one("#login", Input).disabled  # the login stays
        await fill(pilot, name="Léa Roth-Meyer")
        pilot.app.screen.query_one("#rights", SelectionList).select(Right.SEND)
        await pressed(pilot, "ctrl+s")
        await wait_until(pilot, lambda: "Léa Roth-Meyer" in str(table.get_row("lea.roth")), "row")
        modified = resolve_account(workspace, "lea.roth")
        assert modified is not None and Right.SEND in modified.rights

        table.move_cursor(row=table.get_row_index("lea.roth"))
        await pressed(pilot, "r", "o")
        await wait_until(pilot, lambda: "lea.roth" not in {r.value for r in table.rows}, "gone")
    journal = [row for row in audit_rows(workspace, "account.") if "lea.roth" in row[2]]
    assert [(actor, action) for actor, action, _ in journal] == [
        (MANAGER, "account.add"),
        (MANAGER, "account.modify"),
        (MANAGER, "account.remove"),
    ]
    before, after = journal[1][2].split(" ; après : ")
    assert "Léa Roth <" in before and "droits : consult, answer" in before
    assert "Léa Roth-Meyer <" in after and "droits : consult, answer, send" in after


async def test_an_account_that_modifies_its_own_rights_sees_its_keys_follow_at_once(workspace):
    app = app_as(workspace, "gestion.dce", {Right.CONSULT, Right.DCE, Right.MANAGE})
    async with app.run_test(size=(140, 36), notifications=True) as pilot:
        await settle(pilot)
        dashboard = pilot.app.screen
        assert dashboard.active_bindings["m"].enabled  # « Modifier » the DCE, for now
        await pressed(pilot, "c")
        table = pilot.app.screen.query_one(DataTable)
        table.move_cursor(row=table.get_row_index("gestion.dce"))
        await pressed(pilot, "e")
        pilot.app.screen.query_one("#rights", SelectionList).deselect(Right.DCE)
        await pressed(pilot, "ctrl+s")
        await wait_until(
            pilot, lambda: "consult, manage" in str(table.get_row("gestion.dce")), "row"
        )
        await pressed(pilot, "escape")
        assert pilot.app.screen is dashboard
        await settle(pilot)
        assert not dashboard.active_bindings["m"].enabled  # greyed, without a restart
        await pressed(pilot, "m")
        why = reason(workspace, "gestion.dce", Right.DCE)
        await wait_until(pilot, lambda: told(pilot, why), "the reason, as a toast")
        assert pilot.app.screen is dashboard


async def test_a_refused_account_change_is_written_in_the_form_what_was_typed_kept(workspace):
    app = app_as(workspace, MANAGER)
    async with app.run_test(size=(140, 36), notifications=True) as pilot:
        await settle(pilot)
        await pressed(pilot, "c", "a")
        await fill(pilot, login="x.y", name="X Y", email="x@alsace.eu", entities="Piscine")
        pilot.app.screen.query_one("#rights", SelectionList).select(Right.CONSULT)
        await pressed(pilot, "ctrl+s")
        error = pilot.app.screen.query_one("#account-error")
        await wait_until(pilot, lambda: "Piscine" in str(error.render()), "the store's reason")
        assert "Aucune entité d'achat « Piscine »" in str(error.render())
        assert pilot.app.screen.query_one("#login", Input).value == "x.y"


def test_the_accounts_screen_80x24(snap_compare, demo_url, on_demo_day):
    """As Colmar's manager on the fixed demo: its accounts and the keys that act on them."""
    from messagerie.models.store.database import open_store
    from messagerie.tui.app import MessagerieApp
    from tests.conftest import demo_documents

    app = MessagerieApp(
        open_store=lambda: open_store(demo_url, documents_dir=demo_documents(demo_url)),
        account_of=lambda s: resolve_account(s, "claire.muller"),
    )

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pressed(pilot, "c")
        quiet_cursor(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


# --- messagerie comptes modifier -------------------------------------------------------------


@pytest.mark.services
def test_comptes_modifier_through_the_cli_audited_with_before_and_after(store_url, store, tmp_path):
    colmar, workshop = "Ville de Colmar", "Centre technique municipal"
    add_consultations(store, [], entity_name=workshop, organisation_name=colmar)
    me = current_login()
    for login, name, rights in (
        (me, "Claire Muller", {Right.CONSULT, Right.MANAGE}),
        ("remi.schmitt", "Rémi Schmitt", {Right.CONSULT}),
    ):
        add_account(
            store,
            NewAccount(login, name, f"{login}@colmar.fr", colmar, (), frozenset(rights)),
            author=me,
            now=paris(2026, 11, 27, 10),
        )
    env = {"MESSAGERIE_DB": store_url, "MESSAGERIE_DATA_DIR": str(tmp_path)}
    env["MESSAGERIE_USER"] = "usurpateur"  # names nobody: the author is the system login

    changed = messagerie(
        "comptes", "modifier", "remi.schmitt", "--nom", "Rémi Schmitt-Klein",
        "--email", "remi.sk@colmar.fr", "--entite", workshop, "--droits", "consult,send",
        env=env,
    )  # fmt: skip
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout.strip() == (
        "Compte modifié : remi.schmitt — Rémi Schmitt-Klein <remi.sk@colmar.fr> — Ville de "
        "Colmar (entités : Centre technique municipal) — droits : consult, send"
    )
    ((actor, action, detail),) = audit_rows(store, "account.modify")
    assert (actor, action) == (me, "account.modify")
    assert "avant : remi.schmitt — Rémi Schmitt <remi.schmitt@colmar.fr>" in detail
    assert "après : remi.schmitt — Rémi Schmitt-Klein <remi.sk@colmar.fr>" in detail
    every = messagerie("comptes", "modifier", "remi.schmitt", "--toutes-entites", env=env)
    assert every.returncode == 0, every.stderr
    assert "(entités : toutes) — droits : consult, send" in every.stdout  # the rest kept

    for arguments, words in (
        ((me, "--droits", "consult"), "retirer le droit « manage » de votre propre compte"),
        # A manager held to consult and manage does not lift the limit alone.
        ((me, "--droits", "consult,manage,send,dce"), "un droit que vous n'avez pas (dce, send)"),
        (("remi.schmitt",), "Rien à modifier"),
        (("personne", "--nom", "X"), "Aucun compte « personne »"),
        (("remi.schmitt", "--droits", "tout"), "Droit inconnu « tout »"),
    ):
        refused = messagerie("comptes", "modifier", *arguments, env=env)
        assert refused.returncode == 1 and words in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
    assert len(audit_rows(store, "account.modify")) == 2  # the refusals left no trace


def test_every_action_of_the_rights_table_is_a_key_of_its_screen():
    """A misspelt screen or action in screens/rights.py would leave a key ungreyed."""
    import importlib
    import pkgutil

    from textual.binding import Binding

    import messagerie.screens as screens
    from messagerie.screens.rights import ACTION_RIGHTS

    classes = {}
    for module in pkgutil.iter_modules(screens.__path__):
        loaded = importlib.import_module(f"messagerie.screens.{module.name}")
        classes.update({name: value for name, value in vars(loaded).items() if name[0].isupper()})
    for name, actions in ACTION_RIGHTS.items():
        keys = {
            binding.action
            for cls in classes[name].__mro__
            for binding in vars(cls).get("BINDINGS", [])
            if isinstance(binding, Binding)
        }
        assert set(actions) <= keys, (name, set(actions) - keys)


async def test_the_demo_opens_as_support_and_the_keyboard_shows_it_as_a_buyer(workspace):
    """`scripts/demo` opens as the support account, which only reads (issue 19); cases C and
    F need a buyer's rights (issue 14): « u » shows the demo as another of its accounts."""
    from messagerie.tui.app import DEMO_ACCOUNT_HINT

    app = app_as(workspace, current_login())  # the demo's support account: who built it
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        assert pilot.app.account.support
        # It sees every organisation: its own organisation alone in the header misled.
        assert pilot.app.sub_title.endswith(" · toutes les organisations (lecture)")
        await pressed(pilot, "slash", *"c2025adm", "enter", "m")
        why = reason(workspace, current_login(), Right.DCE)
        await wait_until(pilot, lambda: told(pilot, f"{why} Démonstration : {DEMO_ACCOUNT_HINT}"),
                         "the missing right, and how to show the demo as a buyer")  # fmt: skip
        assert type(pilot.app.screen).__name__ == "DashboardScreen"

        await pressed(pilot, "u")
        choices = pilot.app.screen.query_one("#choices")
        shown = [str(choices.get_option_at_index(n).prompt) for n in range(choices.option_count)]
        assert [line.split(" — ")[0] for line in shown] == sorted(
            [current_login(), "claire.muller", "marie.dupont", "paul.weber"]
        )
        assert any(line.startswith("marie.dupont — Marie Dupont") for line in shown)
        while choices.highlighted_option.id != "marie.dupont":
            await pilot.press("down")
        await pressed(pilot, "enter")
        await wait_until(pilot, lambda: pilot.app.actor == "marie.dupont", "the switch")
        assert "marie.dupont · Collectivité européenne d'Alsace" in pilot.app.sub_title
        assert told(pilot, "Démonstration : compte changé")

        await pressed(pilot, "m")  # case C, on the consultation still chosen
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "DceScreen", "case C")
        await wait_until(pilot, lambda: pilot.app.screen.sub_title == "C2025ADM | TEST SUPPORT",
                         "the DCE of the guide's consultation")  # fmt: skip


async def test_a_store_that_is_not_the_demo_has_no_other_account_to_show(workspace):
    with workspace.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM store_meta WHERE key = 'demo'")
    app = app_as(workspace, "sans.dce", {Right.CONSULT})
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        dashboard = pilot.app.screen
        assert pilot.app.demo_accounts == () and "u" not in dashboard.active_bindings
        await pressed(pilot, "u", "m")
        await wait_until(pilot, lambda: told(pilot, reason(workspace, "sans.dce", Right.DCE)),
                         "the missing right")  # fmt: skip
        assert pilot.app.screen is dashboard and not told(pilot, "Démonstration")
