"""The suite's own clock: with --shift-days N, this process and every Python process the tests
start are N days away from the real day, once (not twice in an xdist worker)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from time_machine import escape_hatch

from messagerie.models.clock import utc_now

pytestmark = pytest.mark.services  # starts a child Python process


def test_this_process_is_shifted_once(request):
    travelling = escape_hatch.is_travelling()
    real = escape_hatch.datetime.datetime.now(UTC) if travelling else datetime.now(UTC)
    shift = timedelta(days=request.config.getoption("--shift-days"))
    assert abs(utc_now() - (real + shift)) < timedelta(minutes=5)


def test_a_child_process_keeps_the_suites_clock():
    printed = subprocess.run(
        [sys.executable, "-c", "from datetime import UTC, datetime; print(datetime.now(UTC))"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert abs(datetime.fromisoformat(printed.strip()) - utc_now()) < timedelta(minutes=5)
