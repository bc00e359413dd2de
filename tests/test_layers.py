"""Dependencies point one way: models/ and letters/ never import Textual; screens/ never
open a session, write SQL or speak SMTP (ARCHITECTURE.md, "Layout")."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN_IN_SCREENS = (
    "sqlalchemy",
    "sqlmodel",
    "psycopg",
    "sqlite3",
    "aiosmtplib",
    "smtplib",
    "models.tables",
    "models.engine",
    "models.migrate",
)
FORBIDDEN_CALLS_IN_SCREENS = ("Session", "execute", "exec", "create_engine", "connect")


def python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", ["models", "letters"])
def test_domain_packages_never_load_textual(package):
    modules = [
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for path in python_files(package)
        if "migrations" not in path.parts
    ]
    assert modules, f"no module found in {package}/"
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"


@pytest.mark.parametrize("path", python_files("screens"), ids=lambda p: p.name)
def test_screens_never_touch_sql_or_smtp(path):
    imports = imported_modules(path)
    bad = {
        name
        for name in imports
        for forbidden in FORBIDDEN_IN_SCREENS
        if name == forbidden or name.startswith(forbidden + ".")
    }
    assert not bad, f"{path.name} imports {bad}"
    calls = {
        node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
    }
    assert not calls & set(FORBIDDEN_CALLS_IN_SCREENS), (
        f"{path.name} calls {calls & set(FORBIDDEN_CALLS_IN_SCREENS)}"
    )


def test_the_layer_check_sees_a_violation(tmp_path):
    """The checks above would catch a screen that opens a session."""
    offender = tmp_path / "offender.py"
    offender.write_text("from sqlmodel import Session\nSession(engine).execute('SELECT 1')\n")
    assert "sqlmodel" in imported_modules(offender)
