"""Moving the clock for the tests: `--shift-days N` runs the whole session N days away, in
this process (time-machine) and in every Python process the tests start (sitecustomize)."""

from __future__ import annotations

import os
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import time_machine

from messagerie.models.clock import PARIS

SHIFT_VARIABLE = "MESSAGERIE_TEST_SHIFT_DAYS"
SITECUSTOMIZE_DIR = Path(__file__).with_name("clockshift")


def shift_session(days: int) -> None:
    """Move this process's clock `days` ahead (or back), and hand the shift to children.
    An xdist worker was started shifted already (by the sitecustomize): not twice."""
    if getattr(sys.modules.get("sitecustomize"), "SHIFTED_DAYS", None) is not None:
        return
    os.environ[SHIFT_VARIABLE] = str(days)
    inherited = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SITECUSTOMIZE_DIR), inherited]))
    time_machine.travel(datetime.now(UTC) + timedelta(days=days), tick=True).start()
    datetime.now(UTC)  # it ticks from its first reading (see clockshift/sitecustomize.py)


def paris_moment(day: date, at: time) -> datetime:
    """A Paris wall-clock time on `day`, aware."""
    return datetime.combine(day, at, tzinfo=PARIS)
