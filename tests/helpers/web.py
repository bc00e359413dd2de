"""The recipients' web page served for real (uvicorn on 127.0.0.1) and a headless Chromium.

The page's test modules take its fixtures (`clock`, `portal`, `browser`, `page`) with
`pytest_plugins = ["tests.helpers.web"]`."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn

from messagerie.letters.portal.app import create_portal
from messagerie.tui.embedded import free_port
from tests.helpers.antivirus import intake

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


BUTTON = "Prendre connaissance du message"


def press_the_button(page, url: str) -> None:
    """What the recipient does in the browser: the link, then « Prendre connaissance du
    message » (L); the page then shows the message."""
    page.goto(url)
    page.get_by_role("button", name=BUTTON).click()
    page.get_by_role("region", name="Contenu du message").wait_for()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def portal(store, clock):
    """The page of the test's store, served by uvicorn: its base URL."""
    with Served(create_portal(store, intake(), clock=clock), free_port()) as served:
        yield served.url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS
        )
        yield launched
        launched.close()


def person_agent(browser) -> str:
    """The user agent of this Chromium as a person runs it: headless, it says
    « HeadlessChrome », which only a program driving it sends (the page takes it for one)."""
    return (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{browser.version} Safari/537.36"
    )


@pytest.fixture
def page(browser):
    context = browser.new_context(
        locale="fr-FR", accept_downloads=True, user_agent=person_agent(browser)
    )
    yield context.new_page()
    context.close()
