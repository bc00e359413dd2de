"""The recipients' web page served for real (uvicorn on 127.0.0.1) and a headless Chromium."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn

CHROMIUM_VARIABLE = "MESSAGERIE_TEST_CHROMIUM"
CHROMIUM_FLAGS = [  # the machine has no internet: no background connections, no sandbox as root
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class Clock:
    """The only fake: the portal's notion of now, moved by the test."""

    def __init__(self) -> None:
        self.now: datetime | None = None

    def __call__(self) -> datetime:
        return self.now or datetime.now(UTC)


class Served:
    """An ASGI app served by uvicorn in a thread, on a free port."""

    def __init__(self, app, port: int) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{port}"

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def chromium_path() -> str:
    path = os.environ.get(CHROMIUM_VARIABLE, "/usr/bin/chromium")
    if not Path(path).exists():
        pytest.fail(f"Chromium is missing ({path}): .ci/run installs Debian's chromium package.")
    return path
