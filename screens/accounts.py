"""« Comptes de l'organisation »: for an account with the `manage` right, its organisation's
accounts (a support account: every organisation's), added, modified and removed through a
form. The store checks the right again and audits each change with its author."""

from __future__ import annotations

from datetime import datetime

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, DataTable, Input, Label, SelectionList, Static

from messagerie.models.store.accounts import (
    Account,
    AccountChange,
    NewAccount,
    add_account,
    list_accounts,
    modify_account,
    remove_account,
)
from messagerie.models.store.database import Store
from messagerie.models.store.enums import Right
from messagerie.screens.base import StoreModal, StoreScreen, Unsaved
from messagerie.screens.dialogs import ConfirmDialog
from messagerie.screens.quit import how_to_keep, leave_or_ask
from messagerie.screens.rights import SINGLE_USER
from messagerie.screens.widgets import (
    Table,
    back_key,
    dialog_box,
    harmless,
    literal,
    notify_literal,
    save_key,
)

TITLE = "Comptes de l'organisation"
ENTITY_SEPARATOR = ";"  # an entity's name may hold a comma
ALL_ENTITIES = "toutes"


def entities_text(account: Account) -> str:
    return f"{ENTITY_SEPARATOR} ".join(name for _, name in account.entities) or ALL_ENTITIES


def rights_text(account: Account) -> str:
    return ", ".join(right.value for right in Right if right in account.rights)


class AccountsScreen(StoreScreen[None]):
    """The organisation's accounts: login, name, e-mail, entities, rights."""

    TITLE = TITLE
    DEFAULT_CSS = """
    AccountsScreen DataTable {
        height: 1fr;
        border: round $primary;
        border-title-align: left;
    }
    """
    BINDINGS = [
        back_key(),
        Binding("a", "add", "Ajouter", tooltip="Ajouter un compte"),
        Binding("e", "modify", "Modifier", tooltip="Modifier le compte sélectionné"),
        Binding("r", "remove", "Retirer", tooltip="Retirer le compte sélectionné"),
        Binding("f5", "refresh", "Actualiser", show=False, tooltip="Relire les comptes"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.accounts: list[Account] = []

    def compose_body(self) -> ComposeResult:
        yield Table(id="accounts", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        account = self.app.account
        self.sub_title = harmless(account.organisation if account else SINGLE_USER)
        self.query_one(DataTable).add_columns("Identifiant", "Nom", "Courriel", "Entités", "Droits")
        self.action_refresh()

    def action_refresh(self) -> None:
        app = self.app  # its account read once the store is open: signed in by then
        self.store_task(lambda store: list_accounts(store, app.account), self.show)

    def show(self, accounts: list[Account]) -> None:
        self.accounts = accounts
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for account in accounts:
            table.add_row(
                *(
                    literal(harmless(text))
                    for text in (
                        account.login,
                        account.name,
                        account.email,
                        entities_text(account),
                        rights_text(account),
                    )
                ),
                key=account.login,
            )
        table.border_title = f"{len(accounts)} compte(s)" if accounts else "Aucun compte"
        table.border_subtitle = "a ajouter · e modifier · r retirer"
        if accounts:
            table.move_cursor(row=min(row, len(accounts) - 1))

    def selected(self) -> Account | None:
        if not self.accounts:
            return None
        return self.accounts[min(self.query_one(DataTable).cursor_row, len(self.accounts) - 1)]

    def action_add(self) -> None:
        self.app.push_screen(AccountForm(None), self.changed)

    @on(DataTable.RowSelected)
    async def row_chosen(self) -> None:
        await self.run_action("modify")  # as its key

    def action_modify(self) -> None:
        chosen = self.selected()
        if chosen is not None:
            self.app.push_screen(AccountForm(chosen), self.changed)

    def action_remove(self) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        author, now = self.app.actor, self.app.clock()

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.store_task(
                    lambda store: remove_account(store, chosen.login, author=author, now=now),
                    lambda removed: self.changed(f"Compte retiré : {removed.login}"),
                )

        self.app.push_screen(
            ConfirmDialog(
                "Retirer un compte",
                f"Retirer le compte « {chosen.login} » ({chosen.name}) ? Il ne pourra plus "
                "ouvrir la messagerie.",
                yes="Retirer",
            ),
            confirmed,
        )

    def changed(self, done: str | None) -> None:
        if done:
            notify_literal(self, done, title=TITLE)
            self.action_refresh()


class AccountForm(StoreModal[str | None]):
    """Add an account, or modify one (its login and organisation then stay as they are)."""

    AUTO_FOCUS = "Input"  # the first field that may be typed in (a login kept is disabled)

    BINDINGS = [
        save_key("save", "Enregistrer"),
        back_key("cancel", "Annuler"),
    ]
    DEFAULT_CSS = """
    AccountForm #account-form {
        height: 90%;
    }
    AccountForm SelectionList {
        height: auto;
    }
    """

    def __init__(self, account: Account | None) -> None:
        super().__init__()
        self.account = account
        self.opened: tuple[object, ...] = ()

    def compose(self) -> ComposeResult:
        account, manager = self.account, self.app.account
        organisation = account.organisation if account else manager.organisation if manager else ""
        with dialog_box(
            "Modifier un compte" if account else "Ajouter un compte", id="account-form", scroll=True
        ):
            yield Static("Les champs avec une * sont obligatoires")
            for field, label, value, editable in (
                ("login", "Identifiant (nom de connexion système) *", account and account.login,
                 account is None),
                ("name", "Prénom et nom *", account and account.name, True),
                ("email", "Adresse e-mail *", account and account.email, True),
                ("organisation", "Organisation *", organisation, account is None),
                ("entities", "Entités d'achat (séparées par « ; » ; vide : toutes)",
                 account and f"{ENTITY_SEPARATOR} ".join(name for _, name in account.entities),
                 True),
            ):  # fmt: skip
                yield Label(label)
                yield Input(value=harmless(value or ""), id=field, disabled=not editable)
            yield Label("Droits * (Entrée ou Espace : cocher)")
            yield SelectionList[Right](
                *(
                    (
                        f"{right.label} ({right.value})",
                        right,
                        bool(account) and right in account.rights,
                    )
                    for right in Right
                ),
                id="rights",
            )
            yield Label("", id="account-error", classes="error")
            with Vertical(classes="buttons"):
                yield Button("Enregistrer (Ctrl+S)", id="save", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.opened = self.fields()

    def fields(self) -> tuple[object, ...]:
        """What the form holds: each field, and the rights ticked."""
        typed = tuple(field.value for field in self.query(Input))
        return (*typed, frozenset(self.query_one("#rights", SelectionList).selected))

    def unsaved(self) -> Unsaved | None:
        if self.fields() == self.opened:
            return None
        what = f"le compte « {self.account.login} »" if self.account else "le nouveau compte"
        return Unsaved(what, found=how_to_keep("Pour le garder", "Enregistrer"))

    def action_cancel(self) -> None:
        """Échap: closes the form, once the buyer has confirmed what was typed may go."""
        leave_or_ask(self, self.unsaved(), "Quitter le compte", lambda _: self.dismiss(None))

    def typed(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value

    def entities(self) -> tuple[str, ...]:
        names = (name.strip() for name in self.typed("entities").split(ENTITY_SEPARATOR))
        return tuple(name for name in names if name)

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        self.query_one("#account-error", Label).update("")
        rights = frozenset(self.query_one("#rights", SelectionList).selected)
        author, now = self.app.actor, self.app.clock()
        existing = self.account
        if existing is None:
            new = NewAccount(
                login=self.typed("login").strip(),
                name=self.typed("name"),
                email=self.typed("email"),
                organisation=self.typed("organisation"),
                entities=self.entities(),
                rights=rights,
            )
            self.store_task(
                lambda store: self.added(store, new, author, now), self.dismiss, self.refused
            )
            return
        change = AccountChange(
            name=self.typed("name"),
            email=self.typed("email"),
            entities=self.entities(),
            rights=rights,
        )
        self.store_task(
            lambda store: modify_account(store, existing.login, change, author=author, now=now),
            self.modified,
            self.refused,
        )

    @staticmethod
    def added(store: Store, new: NewAccount, author: str, now: datetime) -> str:
        created = add_account(store, new, author=author, now=now)
        return f"Compte ajouté : {created.login}"

    def modified(self, after: Account) -> None:
        """Its own account modified, the app's follows at once (greyed keys, scoping)."""
        own = self.app.account
        if own is not None and own.id == after.id:
            self.app.account_changed(after)
        self.dismiss(f"Compte modifié : {after.login}")

    def refused(self, refusal: Exception) -> None:
        """The store's reason stays written in the form, what was typed kept."""
        self.query_one("#account-error", Label).update(literal(str(refusal)))
