"""The start-up snapshot: last run's first page painted at once, then replaced by the store's."""

import stat
import threading

from messagerie.models.consultations.dashboard import dashboard_page
from messagerie.models.consultations.views import DashboardQuery
from messagerie.models.store.database import open_store
from messagerie.screens.dashboard import ResultsList
from messagerie.tui.app import MessagerieApp
from messagerie.tui.snapshot import StartupSnapshot
from tests.helpers.pilot import settle


def test_snapshot_round_trip_and_keys(demo_url, tmp_path, monkeypatch):
    store = open_store(demo_url)
    page = dashboard_page(store, DashboardQuery())
    store.close()
    monkeypatch.setenv("MESSAGERIE_DB", demo_url)
    snapshot = StartupSnapshot(None, None, folder=tmp_path)
    assert snapshot.load() is None
    snapshot.save(page)
    assert snapshot.load() == page
    monkeypatch.setenv("MESSAGERIE_DB", "sqlite:////ailleurs.sqlite3")
    assert StartupSnapshot(None, None, folder=tmp_path).load() is None  # another database
    snapshot.path.write_text("{ pas du json")
    assert snapshot.load() is None


def test_the_snapshot_is_the_accounts_alone(demo_url, tmp_path):
    """It holds the organisation's consultation titles: 0644 in a 0755 folder let every
    account of the server read them."""
    store = open_store(demo_url)
    page = dashboard_page(store, DashboardQuery())
    store.close()
    snapshot = StartupSnapshot(None, None, folder=tmp_path / "cache")
    snapshot.save(page)
    assert stat.S_IMODE(snapshot.path.parent.stat().st_mode) & 0o077 == 0
    assert stat.S_IMODE(snapshot.path.stat().st_mode) & 0o077 == 0


async def test_cached_page_first_then_the_stores(demo_url, tmp_path):
    snapshot = StartupSnapshot("test", None, folder=tmp_path)
    store = open_store(demo_url)
    page = dashboard_page(store, DashboardQuery())
    store.close()
    stale = type(page)(
        query=page.query, total=9999, status_counts=page.status_counts, items=page.items[:3]
    )
    snapshot.save(stale)
    release = threading.Event()

    def slow_store():
        release.wait(10)
        return open_store(demo_url)

    app = MessagerieApp(open_store=slow_store, snapshot=snapshot)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        results = app.screen.query_one("#results")
        assert results.border_title == "9\u202f999 Résultats de recherche"
        assert results.border_subtitle == "Page 1 sur 1000 · actualisation…"
        assert len(app.screen.query_one(ResultsList).items) == 3
        release.set()
        await settle(pilot)
        assert "actualisation" not in results.border_subtitle
        assert len(app.screen.query_one(ResultsList).items) == 10
    assert snapshot.load().total == 1395  # the fresh page is remembered for next time
