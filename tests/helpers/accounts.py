"""Accounts for the tests of rights and scoping (issue 19)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from messagerie.models.store.accounts import NewAccount, add_account, current_login
from messagerie.models.store.database import Store
from messagerie.models.store.enums import ConsultationStatus, RegisterKind, Right
from messagerie.models.store.tables import account, account_entity, purchasing_entity
from tests.helpers.factories import add_consultations, add_register_entries

# The demo's support account bears the login of whoever built it (models/demo/builder.py):
# in the tests, this process's. It sees every consultation of the demo, to read them.
DEMO_READER = current_login()


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


# Two towns of two organisations on one store (tests of scoping, issue 19).
COLMAR, MULHOUSE = "Ville de Colmar", "Ville de Mulhouse"


def add_towns(store: Store, deadline: datetime, registered_at: datetime) -> dict[str, int]:
    """COL-01 (Colmar) and MUL-01 (Mulhouse), each with a company in its dépôts and questions:
    their ids, by "colmar" and "mulhouse"."""
    ids = {}
    for key, town, entity, siret in (
        ("colmar", COLMAR, "Service des marchés publics", "47646011800047"),
        ("mulhouse", MULHOUSE, "Direction des achats", "73282932000074"),
    ):
        (ids[key],) = add_consultations(
            store,
            [(f"{key[:3].upper()}-01", f"Voirie de {town}", ConsultationStatus.OPEN, deadline)],
            entity_name=entity,
            organisation_name=town,
        )
        add_register_entries(store, ids[key], [RegisterKind.DEPOSIT, RegisterKind.QUESTION],
                             registered_at, email=f"offres@{key}.example",
                             company=(f"Entreprise de {town}", siret))  # fmt: skip
    return ids


def add_accounts(
    store: Store, first: str, accounts: dict[str, tuple[str, set[Right]]], now: datetime
) -> None:
    """`first`, the store's first account (support: every organisation, to read, export and
    manage accounts), then `accounts` (login: organisation, rights), added by it."""
    support = new_account(first, COLMAR, {Right.CONSULT, Right.EXPORT, Right.MANAGE},
                          support=True)  # fmt: skip
    add_account(store, support, author="installateur", now=now)
    for login, (town, rights) in accounts.items():
        add_account(store, new_account(login, town, rights), author=first, now=now)
