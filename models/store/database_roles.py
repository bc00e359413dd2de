"""PostgreSQL's second wall between organisations (migration 0009's row-level security).

The application scopes every query to the account's organisations; on PostgreSQL the server
checks it again: `scope_connections` tells it, on each connection, which organisations this
process works for; a role named after an account's login sees its organisation's rows only,
whatever it sets; the services' roles (members of `messagerie_service`) see every one.
SQLite has no such wall.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from messagerie.models.store.database import Store

SERVICE_ROLE = "messagerie_service"  # the group role of the outbox, listener and page
ORGANISATIONS_SETTING = "messagerie.organisations"


def scope_connections(store: Store, organisation_ids: frozenset[int] | None) -> None:
    """Every connection of `store` from now on declares `organisation_ids` to the server
    (none: nothing declared, as for a store without accounts). PostgreSQL only."""
    if store.engine.dialect.name != "postgresql" or organisation_ids is None:
        return
    declared = ",".join(str(number) for number in sorted(organisation_ids))

    def declare(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, false)", (ORGANISATIONS_SETTING, declared))
        dbapi_connection.commit()  # a session setting made in a transaction needs its commit

    event.listen(store.engine, "connect", declare)
    store.engine.dispose()  # the connections opened before the scope are not reused


def grant_account_role(store: Store, login: str, *, password: str | None = None) -> None:
    """A database role for the account `login` (same name), allowed to read and write the
    store's tables: the policies show it its organisation's rows only. `password` for a
    role that logs in over TCP; without it, the server's own authentication (peer)."""
    _grant(store, login, password=password, member_of=None)


def grant_service_role(store: Store, role: str, *, password: str | None = None) -> None:
    """A role for the services (outbox, listener, page), which see every organisation."""
    _grant(store, role, password=password, member_of=SERVICE_ROLE)


def _grant(store: Store, role: str, *, password: str | None, member_of: str | None) -> None:
    with store.engine.begin() as connection:
        quote = connection.dialect.identifier_preparer.quote_identifier
        schema = quote(connection.execute(sa.text("SELECT current_schema()")).scalar_one())
        if member_of is not None:
            _create_role(connection, quote(member_of), "NOLOGIN")
        _create_role(connection, quote(role), "LOGIN")
        if password is not None:  # a utility statement takes no parameter: quoted by format
            statement = connection.execute(
                sa.text(
                    "SELECT format('ALTER ROLE %I PASSWORD %L', "
                    "CAST(:role AS text), CAST(:password AS text))"
                ),
                {"role": role, "password": password},
            ).scalar_one()
            connection.exec_driver_sql(statement)
        if member_of is not None:
            connection.exec_driver_sql(f"GRANT {quote(member_of)} TO {quote(role)}")
        for grant in (
            f"GRANT USAGE ON SCHEMA {schema}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema}",
        ):
            connection.exec_driver_sql(f"{grant} TO {quote(role)}")


def _create_role(connection: sa.Connection, quoted: str, options: str) -> None:
    """CREATE ROLE unless it exists (roles are the server's: another store may have made it,
    at the same moment too)."""
    connection.exec_driver_sql(
        f"DO $$ BEGIN CREATE ROLE {quoted} {options}; "
        "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    )
