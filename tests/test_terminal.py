"""The TUI in a real terminal (tmux): 80×24 and 200×50, with and without colour, keys sent
and the screen read back, a resize that keeps the state; and `messagerie serve` answering a
browser's first request."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace

import pytest
import sqlalchemy as sa

from messagerie.tui.embedded import free_port
from tests.helpers.cli import ROOT
from tests.helpers.screens import wines_id
from tests.helpers.terminal import Tmux

pytestmark = pytest.mark.services  # tmux, the `messagerie` TUI and `serve` in child processes

SGR = re.compile(r"\x1b\[([0-9;]*)m")


def colours(screen: str):  # type: ignore[no-untyped-def]
    """Every colour the screen sets, from its SGR sequences: ("16", code), ("256", index)
    or ("rgb", (r, g, b))."""
    for sequence in SGR.findall(screen):
        params = [int(p or 0) for p in sequence.split(";")]
        i = 0
        while i < len(params):
            code = params[i]
            if code in (38, 48) and params[i + 1 : i + 2] == [5]:
                yield "256", params[i + 2]
                i += 3
            elif code in (38, 48) and params[i + 1 : i + 2] == [2]:
                yield "rgb", tuple(params[i + 2 : i + 5])
                i += 5
            else:
                if 30 <= code <= 37 or 40 <= code <= 47 or 90 <= code <= 97 or 100 <= code <= 107:
                    yield "16", code
                i += 1


def is_hue(kind: str, value) -> bool:  # type: ignore[no-untyped-def]
    """Not a grey: black, white and greys carry no hue (256 colours: 232-255 are greys,
    and the 6×6×6 cube's diagonal)."""
    if kind == "rgb":
        return len(set(value)) > 1
    if kind == "16":
        return value % 10 in range(1, 7)
    if value < 16:
        return value not in (0, 7, 8, 15)
    if value < 232:
        cube = value - 16
        return len({cube // 36, (cube // 6) % 6, cube % 6}) > 1
    return False


def hues(screen: str) -> set:  # type: ignore[type-arg]
    """The colours used that are not greys: NO_COLOR leaves only greys (Textual's
    monochrome filter keeps contrast, drops hue)."""
    return {(kind, value) for kind, value in colours(screen) if is_hue(kind, value)}


@pytest.fixture
def terminal_env(demo_url, tmp_path) -> dict[str, str]:
    return {
        "MESSAGERIE_DB": demo_url,
        "MESSAGERIE_DATA_DIR": str(tmp_path),
        "MESSAGERIE_SMTP_URL": "smtp://127.0.0.1:9",  # a relay: no local demo services here
        "TERM": "xterm-256color",
    }


def as_marie_dupont(workspace, tmp_path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The TUI on the test's private copy of the demo, as one of its sending accounts."""
    return {
        "MESSAGERIE_DB": workspace.engine.url.render_as_string(hide_password=False),
        "MESSAGERIE_DATA_DIR": str(tmp_path),
        "MESSAGERIE_SMTP_URL": "smtp://127.0.0.1:9",
        "MESSAGERIE_DEMO_LOGIN": "marie.dupont",
        "TERM": "xterm-256color",
    }


@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=["80x24", "200x50"])
@pytest.mark.parametrize(
    ("colour_system", "colour"),
    [("auto", True), ("standard", True), ("auto", False)],
    ids=["colour", "16-colours", "NO_COLOR"],
)
def test_keys_and_screens_in_a_real_terminal(terminal_env, size, colour_system, colour):
    # 16 colours: Textual does not infer them from TERM; the README says to set this.
    environment = {**terminal_env, "TEXTUAL_COLOR_SYSTEM": colour_system}
    if not colour:
        environment["NO_COLOR"] = "1"
    tmux = Tmux(*size, environment)
    try:
        tmux.wait_for("Tableau de bord")
        tmux.keys("/")  # then the text at once: « / » moves the focus before the next key
        tmux.keys("2025vins", "Enter")
        tmux.wait_for("2025VINS")
        tmux.keys("e")  # "Messagerie sécurisée": the consultation's tracking
        shown = tmux.wait_for("Message sélectionné")
        assert "Statut" in shown and "Evénements" in shown
        assert max(len(line) for line in shown.splitlines()) <= size[0]
        screen = tmux.screen(escapes=True)
        assert bool(hues(screen)) is colour
        if colour_system == "standard":
            assert {kind for kind, _ in colours(screen)} == {"16"}
        tmux.run("resize-window", "-x", str(size[0] + 20), "-y", str(size[1] + 6))
        shown = tmux.wait_for("Message sélectionné")  # same screen, same state, new size
        assert "2025VINS" in shown
        tmux.keys("Escape")
        tmux.wait_for("Tableau de bord")
    finally:
        tmux.close()


def test_a_stale_columns_and_lines_do_not_shrink_the_app(terminal_env):
    """A shell that exported COLUMNS=80 and LINES=24 (bash does, from the size it saw first):
    the TUI still fills the terminal it runs in, as it did before (the pane was 120×40 and the
    app drew in its top-left 80×24 for good, the resizes too)."""
    tmux = Tmux(120, 40, {**terminal_env, "COLUMNS": "80", "LINES": "24"})
    try:
        shown = tmux.wait_for("Résultats de recherche")
        assert max(len(line.rstrip()) for line in shown.splitlines()) > 100
        assert len(shown.splitlines()) > 30
    finally:
        tmux.close()


def test_a_slash_and_the_text_typed_in_one_burst_all_reach_the_search(terminal_env):
    """« / » then a reference, written to the terminal at once (a paste, a fast typist, SSH
    delivering them in one read): every character lands in the search field. Before, the « / »
    moved the focus only after the app had routed the next keys to the results list."""
    tmux = Tmux(80, 24, terminal_env)
    try:
        tmux.wait_for("Résultats de recherche")
        for _ in range(3):
            tmux.keys("-l", "/2025vins")  # one write
            tmux.wait_for("Rechercher (/) : 2025vins")
            tmux.keys("Enter")
            tmux.wait_for("1 Résultats de recherche")
            tmux.keys("Escape")  # from the results: the filters cleared
            tmux.wait_for("Rechercher (/) : référence")
        tmux.keys("-l", "/2025/")  # in the field, « / » is text
        tmux.wait_for("Rechercher (/) : 2025/")
    finally:
        tmux.close()


def test_serve_gives_the_app_to_a_browser(demo_url, tmp_path):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "messagerie.tui.cli", "--db", demo_url, "--data-dir", str(tmp_path),
         "serve", "--port", str(port)],
        cwd=ROOT, env={**os.environ}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as answer:
                    page = answer.read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline, "messagerie serve did not answer"
                time.sleep(0.2)
        assert "Messagerie sécurisée" in page and "ws" in page  # the page opens a websocket
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_an_ssh_connection_that_drops_keeps_the_letter_being_written(workspace, tmp_path):
    """The terminal goes away under the app, as when an SSH connection drops: tmux's server
    killed, the pty's hang-up reaches the TUI as SIGHUP. What the form held (three dépôts
    added from the registers) is in « Brouillons de messages » afterwards."""
    from messagerie.models.messages.drafts import KEPT_AT_HANG_UP, list_drafts
    from messagerie.models.messages.queue import load_form
    from messagerie.models.store.tables import AuditEntry, table_of

    environment = as_marie_dupont(workspace, tmp_path)
    cid = wines_id(workspace)
    before = {d.id for d in list_drafts(workspace, cid, actor="marie.dupont")}
    tmux = Tmux(80, 24, environment)
    try:
        tmux.wait_for("Tableau de bord")
        tmux.keys("/")
        tmux.keys("2025vins", "Enter")
        tmux.wait_for("1 Résultats de recherche")
        tmux.keys("d", "m")  # the consultation, then « Envoyer un message »
        tmux.wait_for("Lot n°1 - Crémant")  # the form has read the consultation
        tmux.keys("F3")
        tmux.wait_for("Ajouter des destinataires depuis les registres")
        tmux.keys("p")  # every dépôt
        tmux.wait_for("destinataire(s) ajouté(s)")
    finally:
        tmux.close()  # and the TUI ended
    (draft,) = [d for d in list_drafts(workspace, cid, actor="marie.dupont") if d.id not in before]
    kept = load_form(workspace, draft.id, actor="marie.dupont")
    assert len(kept.recipients) == 3
    audit = table_of(AuditEntry)
    with workspace.engine.connect() as connection:
        said = connection.execute(
            sa.select(audit.c.detail).where(audit.c.message_id == draft.id)
        ).scalars()
        assert list(said) == [KEPT_AT_HANG_UP]


def test_a_long_notice_shows_its_last_line_in_80x24(workspace, tmp_path):
    """A toast whose text wraps into one line more at 36 columns than at 37 lost that last
    line in 80×24: the rack sized it 40 columns wide (50 % of 80), the toast drew itself in
    39. Here the start's notice of a kept draft, its subject chosen to wrap so."""
    from textual.content import Content

    from messagerie.models.messages.drafts import kept_at_hang_up, kept_notice
    from messagerie.models.messages.form import load_context
    from messagerie.models.messages.presets import preset_form
    from messagerie.models.messages.queue import keep_typing
    from messagerie.models.store.enums import MessageType

    title = "Message non envoyé retrouvé"
    kept = preset_form(load_context(workspace, wines_id(workspace)), MessageType.FREE)
    for extra in range(40):  # the kept time is part of the text: the draft is kept first
        subject = "Visite" + " du site" * extra
        kept = keep_typing(workspace, replace(kept, subject=subject), actor="marie.dupont")
        notice = kept_notice(kept_at_hang_up(workspace, actor="marie.dupont"))
        text = Content.assemble(title, "\n", Content(notice))
        if len(text.wrap(36)) > len(text.wrap(37)):
            break
    else:
        pytest.fail("no subject wraps into one more line at 36 columns")
    environment = as_marie_dupont(workspace, tmp_path)
    tmux = Tmux(80, 24, environment)
    try:
        screen = tmux.wait_for(title)
        time.sleep(0.5)  # the whole toast drawn
        screen = tmux.screen()
    finally:
        tmux.close()
    shown = " ".join(line.rsplit("▌", 1)[1] for line in screen.splitlines() if "▌" in line)
    assert " ".join(notice.split()) in " ".join(shown.split())
