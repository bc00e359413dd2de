"""Accounts, rights and organisation scoping (issue 19).

Who uses the messagerie is the system login (`current_login`), never an environment
variable. Its account says which consultations it sees — `visible_consultations`, the one
WHERE clause every scoped query adds — and what it may do (`Right`). A store without any
account runs as before: single-user, every consultation visible (the account is None).
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from messagerie.models.errors import Refusal
from messagerie.models.store import audit
from messagerie.models.store.database import Store
from messagerie.models.store.engine import StoreError
from messagerie.models.store.enums import Right
from messagerie.models.store.locking import lock_rows
from messagerie.models.store.rows import from_row
from messagerie.models.store.tables import (
    account,
    account_entity,
    account_right,
    consultation,
    organisation,
    purchasing_entity,
)
from messagerie.models.text import control_character_problem

NO_ACCOUNT = (
    "Le compte système « {login} » n'a pas de compte dans cette base : demandez à un "
    "gestionnaire de l'organisation de vous en créer un (messagerie comptes ajouter)."
)
ADDED, REMOVED, MODIFIED = "account.add", "account.remove", "account.modify"  # audit actions
MAX_LENGTHS = {"login": 100, "name": 200}
NO_RIGHT = "Indiquez au moins un droit (--droits consult,send,…)."


class AccountMissing(StoreError):
    """The store has accounts, and none for this login: nothing may be opened."""

    def __init__(self, login: str) -> None:
        super().__init__(NO_ACCOUNT.format(login=login))


class ConsultationAmbiguous(Refusal):
    """Several organisations the account sees have a consultation of the reference asked
    for (a reference is unique in its organisation only)."""


class ConsultationNotFound(Refusal):
    """The consultation is not (or no longer) in the store, or not one the account sees:
    both read the same, so that another organisation's consultations cannot be probed."""

    @classmethod
    def numbered(cls, consultation_id: int) -> ConsultationNotFound:
        return cls(f"La consultation n°{consultation_id} est introuvable.")


@dataclass(frozen=True)
class Account:
    """Who uses the app, as the store knows them (read once, at start)."""

    id: int
    login: str
    name: str
    email: str
    organisation_id: int
    organisation: str
    # The organisations it sees: its own, or every one for a support account.
    organisation_ids: frozenset[int]
    # The purchasing entities it works for (id, name); none = every entity of its organisation.
    entities: tuple[tuple[int, str], ...]
    rights: frozenset[Right]
    support: bool

    @property
    def entity_ids(self) -> frozenset[int]:
        return frozenset(entity_id for entity_id, _ in self.entities)

    def can(self, right: Right) -> bool:
        return right in self.rights

    def describe(self) -> str:
        """One line, in French: who, where, which entities, which rights."""
        entities = ", ".join(name for _, name in self.entities) or "toutes"
        rights = ", ".join(right.value for right in Right if right in self.rights) or "aucun"
        support = " — support : toutes les organisations, en lecture" if self.support else ""
        return (
            f"{self.login} — {self.name} <{self.email}> — {self.organisation} "
            f"(entités : {entities}) — droits : {rights}{support}"
        )


@dataclass(frozen=True)
class NewAccount:
    """What `messagerie comptes ajouter` asks for; names as the buyer types them."""

    login: str
    name: str
    email: str
    organisation: str
    entities: tuple[str, ...]
    rights: frozenset[Right]
    support: bool = False


@dataclass(frozen=True)
class AccountChange:
    """What `messagerie comptes modifier` (or the accounts screen) changes; None: unchanged."""

    name: str | None = None
    email: str | None = None
    entities: tuple[str, ...] | None = None  # () = every entity of its organisation
    rights: frozenset[Right] | None = None


def current_login() -> str:
    """The system account running this process (effective uid), as the system names it."""
    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # a uid without a passwd entry (some containers): its number
        return str(uid)


@dataclass(frozen=True)
class NoAccount:
    """A login without an account on a store that has accounts (a monitoring probe's, say):
    where it may still look (`messagerie status`), it sees no consultation."""

    login: str


def viewer_of(store: Store, login: str) -> Account | NoAccount | None:
    """`resolve_account`, with NoAccount where it refuses."""
    try:
        return resolve_account(store, login)
    except AccountMissing:
        return NoAccount(login)


def resolve_account(store: Store, login: str) -> Account | None:
    """The account of `login`; None when the store has no account at all (single-user);
    AccountMissing when it has accounts, none of them this login's."""
    with store.engine.connect() as connection:
        if not has_accounts(connection):
            return None
        found = load_account(connection, login)
    if found is None:
        raise AccountMissing(login)
    return found


def visible_consultations(account: Account | NoAccount | None) -> sa.ColumnElement[bool]:
    """The consultations `account` may see, as a WHERE clause on the consultation table:
    every one without accounts (None) or for support, else those of its entities, or of
    every entity of its organisation when it names none; none for a login without one."""
    if isinstance(account, NoAccount):
        return sa.false()
    if account is None or account.support:
        return sa.true()
    if account.entities:
        return consultation.c.entity_id.in_(sorted(account.entity_ids))
    return consultation.c.organisation_id.in_(sorted(account.organisation_ids))


def require(account: Account | None, right: Right) -> None:
    """Refuse, in French, what `account` has no right to do. Store functions call it, so the
    store refuses even when a screen forgot to grey the action out; None (a store without
    accounts) may do everything."""
    if account is not None and not account.can(right):
        raise Refusal(missing_right(account, right))


def authorize(
    connection: Connection, actor: str, right: Right, consultation_id: int | None = None
) -> Account | None:
    """The account `actor` (a login) acts as, once it may do `right` — on `consultation_id`
    when given. Every store function that reads or writes a consultation's data calls it
    inside its transaction, so the store refuses even what a screen forgot to grey out.

    None: a store without accounts (single user, every right). AccountMissing: a login
    without an account. ConsultationNotFound: a consultation the account does not see, in
    the same words as one that does not exist (checked before the right, so that nothing
    tells the two apart). A Refusal naming the right: a right the account lacks."""
    seen = None
    if consultation_id is not None:
        seen = (
            sa.select(consultation.c.id)
            .where(consultation.c.id == consultation_id, seen_by(actor))
            .correlate(None)
            .scalar_subquery()
            .label("seen")
        )
    # One statement for the account and whether it sees the consultation; a second for its
    # entities and rights, once it does: two in all, where loading it alone took four.
    row = connection.execute(_account_select(actor, *(() if seen is None else (seen,)))).first()
    if row is None:  # no such account: a store without any (single user), or a stranger
        any_account, seen_id = connection.execute(
            sa.select(
                sa.exists(sa.select(account.c.id)),
                sa.null() if seen is None else seen,
            )
        ).one()
        if any_account:
            raise AccountMissing(actor)
    else:
        seen_id = row.seen if seen is not None else None
    if consultation_id is not None and seen_id is None:
        raise ConsultationNotFound.numbered(consultation_id)
    found = None if row is None else _account_of(connection, row)
    require(found, right)
    return found


def authorize_reading(
    connection: Connection,
    actor: str,
    consultation_id: int | sa.ColumnElement[int],
    *,
    right: Right = Right.CONSULT,
    missing: Refusal | None = None,
) -> int:
    """`authorize`'s checks, in one query, for the reads a screen makes on each refresh (the
    account itself is not loaded): the id of the consultation `consultation_id` names — a
    number, or a scalar subquery such as a message's consultation — once `actor` sees it and
    holds `right`. The same refusals as `authorize`, in the same order; `missing` (default:
    ConsultationNotFound) for what is not there or not the account's, in the same words."""
    if missing is None:
        assert isinstance(consultation_id, int), "a subquery names its own refusal"
        missing = ConsultationNotFound.numbered(consultation_id)
    row = connection.execute(sa.select(*access_columns(actor, right, consultation_id))).one()
    check_access(row, actor, right, missing)
    return int(row.seen)


def access_columns(
    actor: str, right: Right, consultation_id: int | sa.ColumnElement[int]
) -> tuple[sa.ColumnElement, ...]:
    """The columns `check_access` reads (any_account, known, allowed, seen): uncorrelated
    scalar subqueries, so that a hot query may carry them and save the round trip."""
    me = account.c.login == actor
    seen = (
        sa.select(consultation.c.id)
        .where(consultation.c.id == consultation_id, seen_by(actor))
        .correlate(None)  # never the consultation of the query that carries it
        .scalar_subquery()
    )
    allowed = (
        sa.select(account_right.c.account_id)
        .join(account, account.c.id == account_right.c.account_id)
        .where(me, account_right.c.right == right)
    )
    return (
        sa.exists(sa.select(account.c.id).correlate(None)).label("any_account"),
        sa.exists(sa.select(account.c.id).where(me).correlate(None)).label("known"),
        sa.exists(allowed.correlate(None)).label("allowed"),
        seen.label("seen"),
    )


def check_access(row: sa.Row, actor: str, right: Right, missing: Refusal) -> None:
    """Raise what `authorize` would from `access_columns`' answer: AccountMissing, then
    `missing` for a consultation not seen, then the missing right."""
    if row.any_account and not row.known:
        raise AccountMissing(actor)
    if row.seen is None:
        raise missing
    if row.any_account and not row.allowed:
        raise Refusal(missing_right_of(actor, right))


def seen_by(actor: str) -> sa.ColumnElement[bool]:
    """`visible_consultations` of `actor`'s account as SQL, on the consultation table's row,
    without loading the account: every consultation without accounts or for support, else
    those of its entities, or of every entity of its organisation when it names none."""
    me = account.c.login == actor
    own_entities = sa.exists(
        sa.select(account_entity.c.entity_id)
        .join(account, account.c.id == account_entity.c.account_id)
        .where(me, account_entity.c.entity_id == consultation.c.entity_id)
    )
    whole_organisation = sa.exists(
        sa.select(account.c.id)
        .join(purchasing_entity, purchasing_entity.c.organisation_id == account.c.organisation_id)
        .where(
            me,
            purchasing_entity.c.id == consultation.c.entity_id,
            ~sa.exists(sa.select(account_entity.c.entity_id).where(
                account_entity.c.account_id == account.c.id
            )),
        )
    )  # fmt: skip
    return sa.or_(
        ~sa.exists(sa.select(account.c.id)),
        sa.exists(sa.select(account.c.id).where(me, account.c.support)),
        own_entities,
        whole_organisation,
    )


def missing_right_of(login: str, right: Right) -> str:
    """`missing_right` for the account of `login`, not loaded."""
    return (
        f"Le compte « {login} » n'a pas le droit « {right.label} » : demandez-le à "
        "un gestionnaire de votre organisation."
    )


def missing_right(account: Account, right: Right) -> str:
    """Why an action is greyed out or refused: the right it needs, and whom to ask."""
    return missing_right_of(account.login, right)


def has_accounts(connection: Connection) -> bool:
    return connection.execute(sa.select(account.c.id).limit(1)).first() is not None


def load_account(connection: Connection, login: str) -> Account | None:
    row = connection.execute(_account_select(login)).first()
    return None if row is None else _account_of(connection, row)


def _account_select(login: str, *more: sa.ColumnElement) -> sa.Select:
    """The account row of `login` with its organisation's name (and `more` columns)."""
    return (
        sa.select(account, organisation.c.name.label("organisation"), *more)
        .join(organisation, organisation.c.id == account.c.organisation_id)
        .where(account.c.login == login)
    )


def _account_of(connection: Connection, row: sa.Row) -> Account:
    """The account of `_account_select`'s row: its entities (by name), its rights and, for
    support, every organisation, read in one statement."""
    parts = [
        sa.select(
            sa.literal("entity").label("link_kind"),
            purchasing_entity.c.id.label("link_id"),
            purchasing_entity.c.name.label("link_text"),
        )
        .join(account_entity, account_entity.c.entity_id == purchasing_entity.c.id)
        .where(account_entity.c.account_id == row.id),
        sa.select(
            sa.literal("right"),
            sa.cast(sa.null(), sa.Integer),
            sa.cast(account_right.c.right, sa.String),
        ).where(account_right.c.account_id == row.id),
    ]
    if row.support:
        parts.append(
            sa.select(sa.literal("organisation"), organisation.c.id, sa.cast(sa.null(), sa.String))
        )
    order: list[sa.ColumnElement] = [
        sa.literal_column(name) for name in ("link_kind", "link_text", "link_id")
    ]
    links = connection.execute(sa.union_all(*parts).order_by(*order)).all()
    organisations = (
        {link.link_id for link in links if link.link_kind == "organisation"}
        if row.support
        else {row.organisation_id}
    )
    return from_row(
        Account,
        row,
        organisation_ids=frozenset(organisations),
        entities=tuple(
            (link.link_id, link.link_text) for link in links if link.link_kind == "entity"
        ),
        rights=frozenset(Right(link.link_text) for link in links if link.link_kind == "right"),
    )


def list_accounts(store: Store, viewer: Account | None) -> list[Account]:
    """The accounts `viewer` may see: those of its organisation, or all (support, or a
    store still without accounts), by login."""
    query = sa.select(account.c.login).order_by(account.c.login)
    if viewer is not None and not viewer.support:
        query = query.where(account.c.organisation_id == viewer.organisation_id)
    with store.engine.connect() as connection:
        logins = connection.execute(query).scalars().all()
        return [found for login in logins if (found := load_account(connection, login))]


def parse_rights(text: str) -> frozenset[Right]:
    """« consult,send » → the rights; a Refusal naming every right when one is unknown."""
    rights = set()
    for word in (part.strip() for part in text.split(",")):
        if not word:
            continue
        try:
            rights.add(Right(word))
        except ValueError:
            known = ", ".join(f"{right.value} ({right.label})" for right in Right)
            raise Refusal(f"Droit inconnu « {word} » : les droits sont {known}.") from None
    return frozenset(rights)


def add_account(store: Store, new: NewAccount, *, author: str, now: datetime) -> Account:
    """Create the account `new`, audited as `author`'s act. The store's first account may be
    created by anyone and must have the `manage` right; after it, only an account with
    `manage` in that organisation (or a support account with it) may add one."""
    from messagerie.models.rules.validation import check_email

    _check_new(new)
    with store.engine.begin() as connection:
        first = not has_accounts(connection)
        manager = None if first else _manager(connection, author)
        organisation_id = _organisation_id(connection, new.organisation)
        if first and Right.MANAGE not in new.rights:
            raise Refusal(
                "Le premier compte de la base doit avoir le droit « manage » (Gérer les "
                "comptes de l'organisation) : sans lui, personne ne pourrait en ajouter."
            )
        if manager is not None:
            _check_may_manage(manager, organisation_id, support=new.support)
        if load_account(connection, new.login) is not None:
            raise Refusal(f"Le compte « {new.login} » existe déjà.")
        entity_ids = _entity_ids(connection, organisation_id, new.organisation, new.entities)
        account_id = connection.execute(
            sa.insert(account)
            .values(
                login=new.login,
                name=new.name.strip(),
                email=check_email(new.email, field="email"),
                organisation_id=organisation_id,
                support=new.support,
                created_at=now,
            )
            .returning(account.c.id)
        ).scalar_one()
        _write_links(connection, account_id, entity_ids, new.rights)
        created = load_account(connection, new.login)
        assert created is not None
        detail = f"Compte ajouté : {created.describe()}"
        audit.append(connection, action=ADDED, actor=author, at=now, detail=detail)
    return created


def remove_account(store: Store, login: str, *, author: str, now: datetime) -> Account:
    """Remove the account of `login` (its rights and entities with it), audited as `author`'s
    act: an account with `manage` in its organisation, never the author's own account."""
    with store.engine.begin() as connection:
        manager, target = _managed(connection, login, author)
        if target.id == manager.id:
            raise Refusal(
                "Vous ne pouvez pas retirer votre propre compte : demandez-le à un autre "
                "gestionnaire de l'organisation."
            )
        for table in (account_right, account_entity):
            connection.execute(sa.delete(table).where(table.c.account_id == target.id))
        connection.execute(sa.delete(account).where(account.c.id == target.id))
        detail = f"Compte retiré : {target.describe()}"
        audit.append(connection, action=REMOVED, actor=author, at=now, detail=detail)
    return target


def modify_account(
    store: Store, login: str, change: AccountChange, *, author: str, now: datetime
) -> Account:
    """Change the name, e-mail, entities or rights of `login`'s account, audited as `author`'s
    act with the account before and after; the same manager as for removing it, who may not
    take the `manage` right from their own account, nor give it a right it lacks."""
    from messagerie.models.rules.validation import check_email

    with store.engine.begin() as connection:
        manager, target = _managed(connection, login, author)
        if change.name is not None:
            _check_field("name", change.name)
        if change.rights is not None and not change.rights:
            raise Refusal(NO_RIGHT)
        if target.id == manager.id and change.rights is not None:
            _check_own_rights(manager, change.rights)
        values: dict[str, str] = {}
        if change.name is not None:
            values["name"] = change.name.strip()
        if change.email is not None:
            values["email"] = check_email(change.email, field="email")
        if values:
            connection.execute(sa.update(account).where(account.c.id == target.id).values(values))
        entity_ids = None
        if change.entities is not None:
            entity_ids = _entity_ids(
                connection, target.organisation_id, target.organisation, change.entities
            )
            connection.execute(
                sa.delete(account_entity).where(account_entity.c.account_id == target.id)
            )
        if change.rights is not None:
            connection.execute(
                sa.delete(account_right).where(account_right.c.account_id == target.id)
            )
        _write_links(connection, target.id, entity_ids, change.rights)
        after = load_account(connection, login)
        assert after is not None
        detail = f"Compte modifié : avant : {target.describe()} ; après : {after.describe()}"
        audit.append(connection, action=MODIFIED, actor=author, at=now, detail=detail)
    return after


def _check_own_rights(manager: Account, rights: frozenset[Right]) -> None:
    """A manager changing their own rights may neither drop `manage` (nobody could give it
    back) nor take a right they lack: the limits another manager set would mean nothing."""
    if Right.MANAGE not in rights:
        raise Refusal(
            "Vous ne pouvez pas retirer le droit « manage » de votre propre compte : "
            "demandez-le à un autre gestionnaire de l'organisation."
        )
    if taken := [right.value for right in Right if right in rights - manager.rights]:
        raise Refusal(
            f"Vous ne pouvez pas vous donner un droit que vous n'avez pas "
            f"({', '.join(taken)}) : demandez-le à un autre gestionnaire de l'organisation."
        )


def _managed(connection: Connection, login: str, author: str) -> tuple[Account, Account]:
    """`author`'s account and `login`'s, once `author` may manage the latter; both held
    until the transaction ends: the only two managers removing each other at once each
    found their own account there, and left the store with no account at all (open to
    anyone, as a store without accounts is)."""
    if not has_accounts(connection):
        raise Refusal("Cette base n'a aucun compte (mode mono-utilisateur).")
    lock_rows(connection, account, account.c.login.in_(sorted({author, login})))
    manager = _manager(connection, author)
    target = load_account(connection, login)
    if target is None:
        raise Refusal(f"Aucun compte « {login} » dans cette base.")
    _check_may_manage(manager, target.organisation_id, support=target.support)
    return manager, target


def _write_links(
    connection: Connection,
    account_id: int,
    entity_ids: Iterable[int] | None,
    rights: Iterable[Right] | None,
) -> None:
    """The account's entity and right rows (None: left as they are)."""
    for table, column, values in (
        (account_entity, "entity_id", entity_ids),
        (account_right, "right", sorted(rights) if rights is not None else None),
    ):
        if values:
            rows = [{"account_id": account_id, column: value} for value in values]
            connection.execute(sa.insert(table), rows)


def _check_new(new: NewAccount) -> None:
    for field in ("login", "name"):
        _check_field(field, getattr(new, field))
    if not new.rights:
        raise Refusal(NO_RIGHT)


def _check_field(field: str, value: str) -> None:
    label = {"login": "L'identifiant", "name": "Le nom"}[field]
    problem = control_character_problem(value)
    if not value.strip():
        raise Refusal(f"{label} est obligatoire.")
    if problem or (field == "login" and value != "".join(value.split())):
        raise Refusal(f"{label} « {value.strip()} » {problem or 'contient une espace.'}")
    if len(value) > MAX_LENGTHS[field]:
        raise Refusal(f"{label} dépasse {MAX_LENGTHS[field]} caractères.")


def _manager(connection: Connection, author: str) -> Account:
    found = load_account(connection, author)
    if found is None:
        raise AccountMissing(author)
    return found


def _check_may_manage(manager: Account, organisation_id: int, *, support: bool) -> None:
    if not manager.can(Right.MANAGE):
        raise Refusal(
            f"Le compte « {manager.login} » n'a pas le droit « manage » (Gérer les comptes "
            "de l'organisation)."
        )
    if not manager.support and organisation_id != manager.organisation_id:
        raise Refusal(
            f"Le compte « {manager.login} » ne gère que les comptes de « {manager.organisation} »."
        )
    if support and not manager.support:
        raise Refusal("Seul un compte support peut ajouter ou retirer un compte support.")


def _organisation_id(connection: Connection, name: str) -> int:
    found = connection.execute(
        sa.select(organisation.c.id).where(organisation.c.name == name.strip())
    ).scalar()
    if found is None:
        known = connection.execute(sa.select(organisation.c.name).order_by(organisation.c.name))
        raise Refusal(
            f"Aucune organisation « {name.strip()} » dans cette base"
            + _known(known.scalars(), "les organisations sont")
        )
    return found


def _entity_ids(
    connection: Connection, organisation_id: int, organisation_name: str, names: Iterable[str]
) -> list[int]:
    entities = dict(
        connection.execute(
            sa.select(purchasing_entity.c.name, purchasing_entity.c.id).where(
                purchasing_entity.c.organisation_id == organisation_id
            )
        ).all()
    )
    ids = []
    for name in names:
        if name.strip() not in entities:
            raise Refusal(
                f"Aucune entité d'achat « {name.strip()} » dans « {organisation_name.strip()} »"
                + _known(sorted(entities), "ses entités sont")
            )
        ids.append(entities[name.strip()])
    return sorted(set(ids))


def _known(names: Iterable[str], lead: str) -> str:
    listed = " ; ".join(f"« {name} »" for name in names)
    return f" ({lead} : {listed})." if listed else "."
