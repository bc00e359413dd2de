"""The rights table's rule for actions that need several rights (screens/rights.py)."""

from __future__ import annotations

from messagerie.models.store.accounts import Account, missing_right
from messagerie.models.store.enums import Right
from messagerie.screens.rights import ACTION_RIGHTS, lacking


def account_with(*rights: Right) -> Account:
    return Account(
        id=1,
        login="lea.schmitt",
        name="Léa Schmitt",
        email="lea.schmitt@mulhouse.fr",
        organisation_id=1,
        organisation="Ville de Mulhouse",
        organisation_ids=frozenset({1}),
        entities=(),
        rights=frozenset({Right.CONSULT, *rights}),
        support=False,
    )


def test_publishing_an_answer_needs_the_answer_and_the_dce_rights_as_the_store_does():
    publish = ACTION_RIGHTS["QaEditorScreen"]["publish"]
    answering = account_with(Right.ANSWER)
    # The answer right alone: greyed out, the reason names the DCE right the store asks.
    assert lacking(answering, publish) == missing_right(answering, Right.DCE)
    modifying = account_with(Right.DCE)
    assert lacking(modifying, publish) == missing_right(modifying, Right.ANSWER)
    assert lacking(account_with(Right.ANSWER, Right.DCE), publish) is None
    # The answer dialog's « publier dans le DCE » choice follows the same rule.
    assert lacking(answering, ACTION_RIGHTS["AnswerDialog"]["choose('dce')"]) is not None


def test_a_single_right_and_a_store_without_accounts():
    send = ACTION_RIGHTS["MessageFormScreen"]["send"]
    assert lacking(account_with(Right.SEND), send) is None
    assert "« " in (lacking(account_with(), send) or "")
    assert lacking(None, send) is None  # a store without accounts may do everything


async def test_before_the_store_names_the_account_no_action_needing_a_right_runs(workspace):
    """The page painted at start (the last run's, or the prefetch child's) comes before the
    store has named the account: « c » then must not open the accounts of every organisation
    as if the store had no accounts; once signed in, the manager's « c » opens its own."""
    import threading

    from textual.widgets import DataTable

    from messagerie.models.store.accounts import resolve_account
    from messagerie.screens.rights import SIGNING_IN
    from messagerie.tui.app import MessagerieApp
    from tests.helpers.hostile import toasts
    from tests.helpers.pilot import wait_until
    from tests.helpers.screens import pressed

    release = threading.Event()

    def account_of(store):  # type: ignore[no-untyped-def]
        release.wait(30)
        return resolve_account(store, "marie.dupont")

    app = MessagerieApp(open_store=lambda: workspace, account_of=account_of)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        # No settle: the sign-in worker waits for `release`.
        await wait_until(
            pilot, lambda: type(pilot.app.screen).__name__ == "DashboardScreen", "dashboard"
        )
        await pilot.press("c")
        await wait_until(
            pilot, lambda: any(SIGNING_IN in " ".join(t.split()) for t in toasts(pilot)), "told"
        )
        assert type(pilot.app.screen).__name__ == "DashboardScreen"
        release.set()
        await wait_until(pilot, lambda: pilot.app.signed_in, "signed in")
        await pressed(pilot, "c")
        await wait_until(
            pilot, lambda: type(pilot.app.screen).__name__ == "AccountsScreen", "accounts"
        )
        table = pilot.app.screen.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count > 0, "rows")
        logins = {str(table.get_row_at(row)[0]) for row in range(table.row_count)}
        assert "marie.dupont" in logins and "paul.weber" not in logins  # its organisation's only
