"""Start-up stays light (issue 18): what a new `messagerie` process imports before the
buyer sees something. Each check runs a fresh Python process and reads its sys.modules, so
no module imported by another test can hide (or fake) a heavy import.

- `messagerie --help` (and every command's parsing) loads neither Textual nor the store;
- the first frame of the TUI needs no SQLAlchemy (it paints the cached page, or "Chargement…");
- the store's first page arrives without SQLModel, pydantic (the settings are read later), nor
  the libraries of the PDFs, the mail and the web page.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.helpers.cli import ROOT

pytestmark = pytest.mark.services  # child Python processes

# Slow to import, and not needed to show the dashboard (each costs 0.05 to 0.3 s of CPU).
HEAVY = (
    "sqlmodel",
    "pydantic",
    "pydantic_settings",
    "alembic",
    "psycopg",
    "weasyprint",
    "pyhanko",
    "cryptography",
    "aiosmtplib",
    "aiosmtpd",
    "starlette",
    "uvicorn",
    "jinja2",
    "babel",
    "dkim",
    "textual_serve",
)
PRINT_MODULES = "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))"

# The TUI as `messagerie` starts it (tui/cli.py run_tui), headless, with no cached page: it
# prints the results' title and the modules loaded once the store's page is painted. With
# "one-core", no prefetch child (tui/prefetch.py): the app reads the page itself.
LIVE_PAGE = f"""
import json, os, sys
import messagerie.tui.app as app_module
from messagerie.tui import cli, prefetch

app_module.OUTBOX_START_DELAY = 3600  # the outbox (which reads the settings) stays out of it
if "one-core" in sys.argv:
    prefetch.usable_cores = lambda: 1

def run(app):
    class Watched(type(app)):
        def on_dashboard_screen_page_shown(self, event):
            if not event.stale:
                print(self.screen.query_one("#results").border_title)
                {PRINT_MODULES}
                sys.stdout.flush()
                if self._prefetch is not None:
                    self._prefetch.close()  # leave no child running
                os._exit(0)
    app.__class__ = Watched
    app.run(headless=True)

cli.run_tui(cli.build_parser().parse_args([]), run=run)
"""


def loaded_modules(code: str, *arguments: str, env: dict[str, str] | None = None) -> list[str]:
    """The lines `code` prints in a new Python process, the last one read as JSON."""
    result = subprocess.run(
        [sys.executable, "-c", f"import json, sys\n{code}", *arguments],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    *lines, modules = result.stdout.strip().splitlines()
    return [*lines, *json.loads(modules)]


def test_the_command_line_parses_without_textual_or_the_store():
    modules = loaded_modules(
        "from messagerie.tui.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        f"    {PRINT_MODULES}\n"
    )
    assert "Usage : messagerie" in modules[0]
    assert not {"textual", "sqlalchemy", *HEAVY} & set(modules)


def test_the_first_frame_waits_for_no_sqlalchemy():
    """What paints the dashboard's first frame: the app, its screens and the snapshot."""
    modules = loaded_modules(
        "import messagerie.tui.app, messagerie.tui.cli, messagerie.tui.snapshot, "
        "messagerie.tui.prefetch\n" + PRINT_MODULES
    )
    assert "textual" in modules
    assert not {"sqlalchemy", *HEAVY} & set(modules)


@pytest.mark.parametrize("cores", ["two cores", "one-core"])
def test_the_stores_first_page_comes_without_pydantic_or_sqlmodel(migrated_sqlite, tmp_path, cores):
    database = tmp_path / "messagerie.sqlite3"
    shutil.copy2(migrated_sqlite, database)
    title, *modules = loaded_modules(
        LIVE_PAGE,
        cores,
        env={"MESSAGERIE_DB": f"sqlite:///{database}", "XDG_CACHE_HOME": str(tmp_path / "cache")},
    )
    assert title == "0 Résultats de recherche"  # the store's answer, not a cached page
    if cores == "one-core":  # else the page may come from the prefetch child, before them
        assert "sqlalchemy" in modules
    assert not set(HEAVY) & set(modules)


@pytest.mark.parametrize(
    ("command", "refusal"),
    [
        (["export", "INCONNUE", "--out", "bundle.zip"], "Aucune consultation n'a la référence"),
        (["ar", "42"], "Destinataire n° 42 introuvable."),
    ],
)
def test_a_refused_export_or_ar_answers_before_loading_the_pdfs(
    migrated_sqlite, tmp_path, command, refusal
):
    """A mistyped reference or recipient is answered without importing weasyprint and
    pyHanko (a second of CPU): only what is there gets drawn and signed."""
    database = tmp_path / "messagerie.sqlite3"
    shutil.copy2(migrated_sqlite, database)
    code = (
        "import contextlib, io\n"
        "from messagerie.tui.cli import main\n"
        "with contextlib.redirect_stderr(io.StringIO()) as said:\n"
        "    status = main(sys.argv[1:])\n"
        "print(status, said.getvalue().strip())\n" + PRINT_MODULES
    )
    answer, *modules = loaded_modules(
        code, *command, env={"MESSAGERIE_DB": f"sqlite:///{database}"}
    )
    assert answer.startswith(f"1 messagerie : {refusal}")
    assert not {"weasyprint", "pyhanko"} & set(modules)
