"""How the dashboard looks, at 80×24 and 120×40 (pytest-textual-snapshot)."""

import pytest

from tests.pilot import quiet_cursor, settle


async def ready(pilot):
    quiet_cursor(pilot)
    await settle(pilot)


async def detailed_second_page(pilot):
    await ready(pilot)
    await pilot.press("pagedown", "v")
    await settle(pilot)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_dashboard(snap_compare, demo_app, size):
    assert snap_compare(demo_app, terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_dashboard_detailed_view(snap_compare, demo_app, size):
    assert snap_compare(demo_app, terminal_size=size, run_before=detailed_second_page)
