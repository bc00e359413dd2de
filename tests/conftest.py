"""Shared fixtures: real stores on a SQLite file and on the real PostgreSQL server.

The PostgreSQL server is named by MESSAGERIE_TEST_PG_URL (scripts/test starts one and sets
it). Each test gets its own database there, dropped afterwards.
"""

from __future__ import annotations

import fcntl
import gc
import os
import shutil
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date, time
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine
from hypothesis import HealthCheck, settings

from messagerie.models.clock import paris_today
from messagerie.models.store.database import Store, open_store
from messagerie.models.store.engine import store_file
from tests.helpers.accounts import work_for_every_entity
from tests.helpers.clock import paris_moment, shift_session

PG_URL_VARIABLE = "MESSAGERIE_TEST_PG_URL"

# Property tests judge what comes out, never how fast: a deadline or a "too slow" health check
# fails on a busy machine (seen: 367 ms against Hypothesis's default 200 ms, four workers on
# two cores).
settings.register_profile("messagerie", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("messagerie")
# `scripts/test --hypothesis-profile fuzz tests/test_parsers.py`: 20 times
# the examples, to hunt for a crash beyond CI's budget (README, "Tests").
settings.register_profile("fuzz", parent=settings.get_profile("messagerie"), max_examples=2000)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--shift-days",
        type=int,
        default=0,
        help="run the whole session with the clock N days ahead (negative: back), in this "
        "process and in the Python processes the tests start",
    )


def pytest_configure(config: pytest.Config) -> None:
    # The tests and the processes they start never see this machine's own store, settings or
    # cache (platformdirs): a demo opened by hand once made `verify` read its accounts.
    isolated = Path(tempfile.mkdtemp(prefix="messagerie-tests-home-"))
    for variable in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        os.environ[variable] = str(isolated / variable.lower())
    config.add_cleanup(lambda: shutil.rmtree(isolated, ignore_errors=True))
    days = config.getoption("--shift-days")
    if days:
        shift_session(days)
    if hasattr(config.option, "loadscopereorder"):  # xdist: its work in our order (below)
        config.option.loadscopereorder = False


# The longest work of a run (--durations, 2026-12-02: 40 s to 190 s each on a busy machine),
# handed out first: xdist otherwise orders its work by the number of tests it holds, and a long
# group or test that starts late ends the run alone on one worker while the others wait. xdist
# groups by name, single tests by their function's node id (every parameter).
LONG_FIRST = (
    "tests/test_demo_kill.py::test_a_reset_killed_at_any_moment_leaves_a_whole_demo",
    "test_bundle",
    "test_demo",
    "tests/test_demo.py::test_demo_on_each_backend_is_idempotent_and_leaves_sequences_usable",
    "tests/test_rights.py::test_export_ar_and_verify_through_the_cli_each_account_its_own",
    "test_demo_days",
    "tests/test_outbox_processes.py::",
    "tests/test_cli.py::test_demo_once_then_nothing_then_reset",
    "tests/test_accounts.py::test_comptes_ajouter_lister_retirer_through_the_cli_audited",
    "tests/test_account_rights_ui.py::test_comptes_modifier_through_the_cli_audited",
    # Single tests of 10-25 s on a busy machine, which otherwise came last and ran alone:
    "tests/test_rights_reads.py::test_verify_refuses",
    "tests/test_signing.py::",
    "tests/test_workspace_flows.py::",
)


def xdist_group(item: pytest.Item) -> str | None:
    mark = item.get_closest_marker("xdist_group")
    return str(mark.args[0]) if mark is not None and mark.args else None


def long_rank(item: pytest.Item) -> int:
    group = xdist_group(item)
    for rank, name in enumerate(LONG_FIRST):
        if name == group or (name.startswith("tests/") and item.nodeid.startswith(name)):
            return rank
    return len(LONG_FIRST)


@pytest.hookimpl(trylast=True)  # after pytest's own ordering by fixtures, kept within a rank
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long work first, then the other xdist groups (the largest first, as xdist would),
    then the single tests in their order."""
    sizes = Counter(xdist_group(item) for item in items)

    def key(indexed: tuple[int, pytest.Item]) -> tuple[int, int, int]:
        index, item = indexed
        group = xdist_group(item)
        return long_rank(item), -sizes[group] if group else 0, index

    items[:] = [item for _, item in sorted(enumerate(items), key=key)]


def pytest_collection_finish(session: pytest.Session) -> None:
    """Less CPU in the garbage collector, measured as a fifth of a Pilot test's with Python's
    defaults: every Textual repaint makes short-lived objects, and each full collection then
    walked the whole heap of imported modules again. What exists once the tests are collected
    stays for the run (frozen: never scanned), and collections come less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


def postgres_server_url() -> str:
    url = os.environ.get(PG_URL_VARIABLE)
    if not url:
        pytest.fail(
            f"{PG_URL_VARIABLE} is not set: run the tests with scripts/test, which starts "
            "PostgreSQL, or deselect them with -m 'not postgres'."
        )
    return url


def database_url(server_url: str, database: str) -> str:
    return sa.make_url(server_url).set(database=database).render_as_string(hide_password=False)


def run_on_server(*statements: str) -> None:
    """Statements that take no transaction (CREATE/DROP DATABASE), as the test role."""
    admin = sa.create_engine(postgres_server_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
    finally:
        admin.dispose()


def drop_database(database: str) -> None:
    """Drop a test's database, ending the sessions a child process may have left (FORCE).
    FORCE is refused when autovacuum works on it (a process of the server's own role): a
    plain DROP then ends that worker itself, once the others are gone."""
    try:
        run_on_server(f'DROP DATABASE "{database}" WITH (FORCE)')
    except sa.exc.ProgrammingError:
        run_on_server(f'DROP DATABASE "{database}"')


@pytest.fixture
def postgres_url(request) -> Iterator[str]:
    """The URL of a fresh, empty database of the test server, its own, dropped afterwards (a
    database rather than a schema: a migrated one is cloned from a template in a blink).
    For a test of the `store` fixture, it is that clone at once: an empty one created first,
    then dropped, cost a third of a second of the server's for each of ~300 tests."""
    database = f"test_{uuid.uuid4().hex[:12]}"
    if "store" in request.fixturenames:
        template = request.getfixturevalue("migrated_postgres")
        run_on_server(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
    else:
        run_on_server(f'CREATE DATABASE "{database}"')
    yield database_url(postgres_server_url(), database)
    drop_database(database)


@pytest.fixture(scope="session")
def migrated_postgres() -> Iterator[str]:
    """A database at the code's revision, holding nothing else: the template each PostgreSQL
    store is cloned from (migrating costs about a second of the server's CPU each time)."""
    database = f"template_{uuid.uuid4().hex[:12]}"
    run_on_server(f'CREATE DATABASE "{database}"')
    open_store(database_url(postgres_server_url(), database), upgrade=True).close()
    # CREATE DATABASE … TEMPLATE waits for every session on the template to end. Only the
    # clients' are ended here: an autovacuum worker may be on it too (a process of the
    # server's own role, which the test role may not end: that failed the fixture and 42
    # tests of one worker); CREATE DATABASE ends those itself.
    run_on_server(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{database}' AND pid <> pg_backend_pid() "
        "AND backend_type = 'client backend'"
    )
    yield database
    drop_database(database)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'messagerie.sqlite3'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request) -> str:
    """Each test using it runs twice: on a SQLite file and on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return request.getfixturevalue(name)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """An empty SQLite store at the code's revision (it holds nothing else): copied for each
    test instead of running the migrations again, which cost more than the copy."""
    path = tmp_path_factory.mktemp("migrated") / "messagerie.sqlite3"
    open_store(f"sqlite:///{path}", upgrade=True).close()
    return path


@pytest.fixture
def store(store_url, tmp_path, migrated_sqlite) -> Iterator[Store]:
    """An empty, migrated store on each backend, with its documents folder: the test's
    SQLite file is replaced by a copy of the migrated one, under the same name; its database
    is a clone of the migrated one (postgres_url)."""
    sqlite_file = store_file(store_url)
    if sqlite_file is not None:
        shutil.copy2(migrated_sqlite, sqlite_file)  # its mode (0600) too
    # On PostgreSQL, postgres_url cloned the migrated database already.
    opened = open_store(store_url, upgrade=True, documents_dir=tmp_path / "documents")
    yield opened
    opened.close()


# The fixed demo and the time its tests run at: what they show never depends on the day.
DEMO_TODAY = date(2026, 11, 27)
DEMO_NOW = paris_moment(DEMO_TODAY, time(10, 0))


def demo_documents(url: str) -> Path:
    """The documents folder of a demo built by the fixtures below: next to its SQLite file."""
    return Path(url.removeprefix("sqlite:///")).parent / "documents"


def built_demo(folder: Path, today: date) -> str:
    """The URL of a SQLite demo built in `folder` for `today`, its files in its documents."""
    from messagerie.models.demo.builder import seed_demo

    url = f"sqlite:///{folder / 'demo.sqlite3'}"
    demo_store = open_store(url, upgrade=True, documents_dir=demo_documents(url))
    seed_demo(demo_store, today=today)
    demo_store.close()
    return url


def shared_demo(tmp_path_factory: pytest.TempPathFactory, name: str, today: date) -> str:
    """A demo built once per run for `today`: the first xdist worker to ask builds it, the
    others wait for it and read the same file (a build costs seconds of CPU each)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, shared by its workers
    folder = root / f"shared-{name}-{today.isoformat()}"
    with (root / f"shared-{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "built").exists():
            folder.mkdir(exist_ok=True)
            built_demo(folder, today)
            (folder / "built").touch()
    return f"sqlite:///{folder / 'demo.sqlite3'}"


@pytest.fixture(scope="session")
def demo_url(tmp_path_factory) -> str:
    """A SQLite demo database built once per test run; tests must only read it."""
    return shared_demo(tmp_path_factory, "demo", DEMO_TODAY)


@pytest.fixture
def on_demo_day() -> Iterator[None]:
    """The clock at 10:00 (Paris) on the fixed demo's day, ticking."""
    with time_machine.travel(DEMO_NOW, tick=True):
        yield


@pytest.fixture
def demo_app(demo_url, on_demo_day):
    """The real application on the demo database, on the demo's day."""
    from messagerie.tui.app import MessagerieApp

    return MessagerieApp(
        open_store=lambda: open_store(demo_url, documents_dir=demo_documents(demo_url))
    )


@pytest.fixture(scope="session")
def live_demo_url(tmp_path_factory) -> str:
    """A demo built for the session's today (the clock as --shift-days moved it), for flows
    that check deadlines against the clock: its tests assert what holds on any day."""
    return shared_demo(tmp_path_factory, "live-demo", paris_today())


def copy_demo(url: str, folder: Path) -> str:
    """A private copy in `folder` of the demo at `url`, with its documents beside it."""
    source = Path(url.removeprefix("sqlite:///"))
    shutil.copyfile(source, folder / "workspace.sqlite3")
    shutil.copytree(demo_documents(url), folder / "documents")
    return f"sqlite:///{folder / 'workspace.sqlite3'}"


@pytest.fixture
def workspace(live_demo_url, tmp_path):
    """A private copy of today's demo, with a documents folder: tests may write to it. Its
    buyer marie.dupont (every right, the CEA's manager) works there for every purchasing
    entity, so that the store lets the flows act as her on any consultation of the demo."""
    opened = open_store(copy_demo(live_demo_url, tmp_path), documents_dir=tmp_path / "documents")
    work_for_every_entity(opened, "marie.dupont")
    yield opened
    opened.close()


@pytest.fixture
def workspace_app(workspace):
    """The real application on the private demo copy."""
    from messagerie.tui.app import MessagerieApp

    return MessagerieApp(open_store=lambda: workspace, actor="marie.dupont")
