"""The dialogs that ask where to write a file — the CSV export (x) and the AR (p) of « Suivi
des messages », the proof bundle (x on a consultation) — and the folder of a reply's
« Enregistrer les pièces » (s), at 80×24. A path that cannot be read (a name too long, an
unknown `~name`) ended the app; a write the system refused closed the dialog with its English
words; an existing file was replaced without a word. Now the dialog opens again with what was
typed and, under it, a French problem; an existing file is replaced at the second Entrée."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events
from textual.widgets import Input

from messagerie.screens.dialogs import InputDialog
from tests.helpers.path_dialogs import (
    asked_again,
    opened_with_ar,
    reply_with_files,
    submit_path,
    tracking_on_an_ar,
)
from tests.helpers.pilot import settle, wait_until

SIZE = (80, 24)
UNKNOWN_HOME = "~nosuchuser"

# (key in « Suivi des messages », the file it writes)
CSV, AR = ("x", "suivi.csv"), ("p", "ar.pdf")


def told_apart(pilot) -> list[str]:  # type: ignore[no-untyped-def]
    """The error notifications: a problem the dialog shows is not told there too."""
    return [told.message for told in pilot.app._notifications if told.severity == "error"]


async def suggested(pilot, key: str) -> str:  # type: ignore[no-untyped-def]
    """The path the dialog of `key` suggests; the dialog closed again."""
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, InputDialog), "the dialog")
    value = pilot.app.screen.query_one(Input).value
    await pilot.press("escape")
    await settle(pilot)
    return value


async def test_the_dialogs_suggest_downloads_then_the_folder_last_saved_into(
    workspace, workspace_app, tmp_path, own_certificate, monkeypatch
):
    """Not the folder the app was started from (a checkout, a server's working folder): the
    buyer's Downloads folder (their home without one), then wherever they saved last."""
    home = tmp_path / "maison"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    async with workspace_app.run_test(size=SIZE) as pilot:
        await tracking_on_an_ar(pilot, workspace)
        assert await suggested(pilot, "x") == str(home / "suivi-des-messages.csv")
        (home / "Downloads").mkdir()
        assert await suggested(pilot, "x") == str(home / "Downloads" / "suivi-des-messages.csv")
        (tmp_path / "marches").mkdir()
        await submit_path(pilot, "x", tmp_path / "marches" / "suivi.csv")
        await wait_until(pilot, (tmp_path / "marches" / "suivi.csv").exists, "the CSV")
        ar = Path(await suggested(pilot, "p"))
    assert ar.parent == tmp_path / "marches" and ar.name.startswith("AR-")


@pytest.fixture
def own_certificate(tmp_path, monkeypatch):
    """The AR and the bundle are signed with a demonstration certificate made in the data
    folder: this test's."""
    monkeypatch.setenv("MESSAGERIE_DATA_DIR", str(tmp_path / "donnees"))


@pytest.mark.parametrize(("key", "name"), [CSV, AR], ids=["csv", "ar"])
async def test_a_file_name_too_long_asks_again(workspace, workspace_app, tmp_path, key, name):
    typed = str(tmp_path / ("a" * 300 + name))
    async with workspace_app.run_test(size=SIZE) as pilot:
        await tracking_on_an_ar(pilot, workspace)
        await submit_path(pilot, key, typed)
        path, problem = await asked_again(pilot)
    assert path == typed
    assert problem == f"« {typed} » : nom de fichier trop long ; corrigez le chemin."


async def test_an_unknown_home_asks_again_in_the_csv_export(workspace, workspace_app):
    typed = f"{UNKNOWN_HOME}/suivi.csv"
    async with workspace_app.run_test(size=SIZE) as pilot:
        await tracking_on_an_ar(pilot, workspace)
        await submit_path(pilot, "x", typed)
        path, problem = await asked_again(pilot)
    assert path == typed
    assert problem == (
        f"« {UNKNOWN_HOME} » : dossier personnel introuvable (compte inconnu sur ce poste) ; "
        "écrivez le chemin en entier."
    )


async def test_an_unknown_home_asks_again_when_saving_a_replys_files(workspace, workspace_app):
    typed = f"{UNKNOWN_HOME}/pieces"
    async with workspace_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pilot.app.open_reply(reply_with_files(workspace), lambda _: None)
        await settle(pilot)
        await submit_path(pilot, "s", typed)
        path, problem = await asked_again(pilot)
    assert path == typed
    assert problem.startswith(f"« {UNKNOWN_HOME} » : dossier personnel introuvable")


@pytest.mark.parametrize(("key", "name"), [CSV, AR], ids=["csv", "ar"])
async def test_a_write_the_system_refuses_asks_again_in_french(
    workspace, workspace_app, own_certificate, key, name
):
    """/proc takes no new file: the write, in a worker, fails after the dialog closed."""
    typed = f"/proc/{name}"
    async with workspace_app.run_test(size=SIZE) as pilot:
        await tracking_on_an_ar(pilot, workspace)
        await submit_path(pilot, key, typed)
        path, problem = await asked_again(pilot)
        assert told_apart(pilot) == []  # said once, under the path
    assert path == typed
    assert problem == (
        f"Impossible d'écrire « {typed} » : fichier introuvable ; choisissez un autre emplacement."
    )


async def test_a_bundle_the_system_refuses_asks_again(workspace, workspace_app, own_certificate):
    typed = "/proc/preuves.zip"
    async with workspace_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pilot.app.open_consultation(opened_with_ar(workspace).consultation_id)
        await settle(pilot)
        consultation = pilot.app.screen
        await submit_path(pilot, "x", typed)
        path, problem = await asked_again(pilot)
        assert not consultation.query_one("#export-progress").display  # the bar hidden again
        assert told_apart(pilot) == []  # said once, under the path
    assert path == typed
    assert problem.startswith(f"Impossible d'écrire « {typed} » : ")


@pytest.mark.parametrize(
    ("key", "name", "start"), [(*CSV, "\ufeffRéférence;"), (*AR, "%PDF-")], ids=["csv", "ar"]
)
async def test_an_existing_file_is_replaced_at_the_second_enter(
    workspace, workspace_app, tmp_path, own_certificate, key, name, start
):
    target = tmp_path / name
    target.write_text("ancien\n")
    async with workspace_app.run_test(size=SIZE) as pilot:
        await tracking_on_an_ar(pilot, workspace)
        await submit_path(pilot, key, target)
        path, problem = await asked_again(pilot)
        assert path == str(target)
        assert problem == (
            f"« {target} » existe déjà : Entrée pour le remplacer, ou changez le nom."
        )
        assert target.read_text() == "ancien\n"  # not yet
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: target.read_bytes().startswith(start.encode()), "the file replaced"
        )
        await settle(pilot)
        assert not isinstance(pilot.app.screen, InputDialog)
        assert pilot.app.is_running


async def test_an_existing_bundle_is_not_replaced_at_the_first_enter(
    workspace, workspace_app, tmp_path
):
    target = tmp_path / "preuves.zip"
    target.write_text("ancien\n")
    async with workspace_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pilot.app.open_consultation(opened_with_ar(workspace).consultation_id)
        await settle(pilot)
        await submit_path(pilot, "x", target)
        path, problem = await asked_again(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(pilot.app.screen, InputDialog)
    assert path == str(target)
    assert problem.startswith(f"« {target} » existe déjà : Entrée pour le remplacer")
    assert target.read_text() == "ancien\n"


async def test_a_nul_pasted_in_the_path_asks_again(workspace, workspace_app, tmp_path):
    """A NUL (pasted: no key types it) reached the write, whose ValueError ended the app."""
    typed = f"{tmp_path}/suivi\0.csv"
    async with workspace_app.run_test(size=SIZE) as pilot:
        await tracking_on_an_ar(pilot, workspace)
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, InputDialog), "the dialog")
        field = pilot.app.screen.query_one(Input)
        field.value = ""
        field.post_message(events.Paste(typed))
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        path, problem = await asked_again(pilot)
    assert path == typed
    assert problem == "Le chemin contient un caractère nul : retapez-le."
