"""Accounts for the tests of rights and scoping (issue 19)."""

from __future__ import annotations

import sqlalchemy as sa

from messagerie.models.store.accounts import NewAccount
from messagerie.models.store.database import Store
from messagerie.models.store.enums import Right
from messagerie.models.store.tables import account, account_entity, purchasing_entity


def new_account(login: str, organisation: str, rights: set[Right], **more: object) -> NewAccount:
    """The account `login` of `organisation` (every entity of it unless `entities=`), with an
    e-mail and a name made from the login."""
    fields: dict = {"entities": (), "support": False, **more}
    return NewAccount(
        login=login,
        name=login.replace(".", " ").title(),
        email=f"{login}@example.fr",
        organisation=organisation,
        rights=frozenset(rights),
        **fields,
    )


def work_for_every_entity(store: Store, login: str) -> None:
    """Let `login` see every consultation of `store` while its organisation (and the accounts
    it manages) stays its own: it works for every purchasing entity, of any organisation.
    The application never links an account to another organisation's entity; the tests of
    the flows on the demo do, so that they may take any of its consultations."""
    with store.engine.begin() as connection:
        account_id = connection.execute(
            sa.select(account.c.id).where(account.c.login == login)
        ).scalar_one()
        linked = sa.select(account_entity.c.entity_id).where(
            account_entity.c.account_id == account_id
        )
        entity_ids = connection.execute(
            sa.select(purchasing_entity.c.id).where(purchasing_entity.c.id.not_in(linked))
        ).scalars()
        rows = [{"account_id": account_id, "entity_id": entity_id} for entity_id in entity_ids]
        if rows:
            connection.execute(sa.insert(account_entity), rows)
