"""The fixtures of the tests of rights and scoping (issue 19), a pytest plugin: a module asks
for them with `pytest_plugins = ["tests.helpers.scoping"]` and names its accounts in ACCOUNTS
(login: (organisation, rights))."""

from __future__ import annotations

import pytest

from messagerie.models.store.accounts import Account, resolve_account
from tests.helpers.accounts import add_accounts, add_towns
from tests.helpers.factories import paris

NOW = paris(2026, 11, 27, 10)


@pytest.fixture
def towns(store) -> dict[str, int]:
    """COL-01 (Colmar) and MUL-01 (Mulhouse), each with a company in its dépôts and questions."""
    return add_towns(store, paris(2026, 12, 18), paris(2026, 11, 20))


@pytest.fixture
def accounts(request, store, towns) -> dict[str, Account]:
    """The test module's ACCOUNTS, added by "support" (the store's first account), by login."""
    wanted = request.module.ACCOUNTS
    add_accounts(store, "support", wanted, NOW)
    found = {login: resolve_account(store, login) for login in (*wanted, "support")}
    return {login: account for login, account in found.items() if account}
