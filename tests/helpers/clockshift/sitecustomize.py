"""Loaded by the Python processes that tests start, when the suite runs with --shift-days:
their clock moves with the suite's (see tests/helpers/clock.py)."""

import os

if os.environ.get("MESSAGERIE_TEST_SHIFT_DAYS"):
    from datetime import UTC, datetime, timedelta

    import time_machine

    SHIFTED_DAYS = int(os.environ["MESSAGERIE_TEST_SHIFT_DAYS"])
    time_machine.travel(datetime.now(UTC) + timedelta(days=SHIFTED_DAYS), tick=True).start()
    # time-machine's clock starts ticking when first read, not when started: read it now, or
    # a process that reads it later (a forked child: tests/helpers/zygote.py) lags behind.
    datetime.now(UTC)
