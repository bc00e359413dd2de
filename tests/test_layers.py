"""Dependencies point one way: models/ and letters/ never import Textual; screens/ never
open a session, write SQL or speak SMTP (ARCHITECTURE.md, "Layout")."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.services  # a child Python process imports models/ and letters/

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN_IN_SCREENS = (
    "sqlalchemy",
    "sqlmodel",
    "psycopg",
    "sqlite3",
    "aiosmtplib",
    "smtplib",
    "messagerie.models.store.tables",
    "messagerie.models.store.engine",
    "messagerie.models.store.migrate",
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
        ".".join(("messagerie", *path.relative_to(ROOT).with_suffix("").parts))
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


def imported_test_modules(path: Path, package: tuple[str, ...] = ("tests",)) -> set[str]:
    """The tests/test_*.py modules that `path` (a module of `package`) imports, however the
    import is spelled: `tests.test_x`, `from tests import test_x`, `from .test_x import y`."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            module = ".".join((*base, *([node.module] if node.module else [])))
            names = [module, *(f"{module}.{alias.name}" for alias in node.names)]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "tests" and len(parts) > 1 and parts[1].startswith("test_"):
                found.add(".".join(parts[:2]))
    return found


def test_no_test_module_imports_another():
    """Shared test helpers live in tests/helpers/: no test module imports another one (nor
    does a helper or conftest.py), so that each runs, moves or goes alone."""
    offenders = {}
    for path in sorted((ROOT / "tests").rglob("*.py")):
        if "__snapshots__" in path.parts:
            continue
        package = path.relative_to(ROOT).parent.parts
        itself = ".".join((*package, path.stem))
        imported = imported_test_modules(path, package) - {itself}
        if imported:
            offenders[str(path.relative_to(ROOT))] = sorted(imported)
    assert not offenders, f"move what they share to tests/helpers/: {offenders}"


def test_the_cross_import_check_sees_a_violation(tmp_path):
    """The check above would catch a test module importing another, however spelled."""
    offender = tmp_path / "test_offender.py"
    offender.write_text(
        "from tests.test_portal import A, sent_message\n"
        "import tests.test_outbox as outbox\n"
        "from tests import test_cli, helpers\n"
        "from .test_dce import DCE_ZIP\n"
        "from tests.helpers.factories import paris\n"
    )
    assert imported_test_modules(offender) == {
        "tests.test_portal",
        "tests.test_outbox",
        "tests.test_cli",
        "tests.test_dce",
    }


def bare_imports(path: Path) -> set[str]:
    """Imports of the repository's folders under their bare names ("models.x", "tui")."""
    return {
        name
        for name in imported_modules(path)
        if name.split(".")[0] in ("models", "letters", "tui", "screens")
    }


def test_everything_imports_the_installed_names():
    """The code is the package `messagerie` (messagerie.models is models/…): a bare `models`
    import would load a second copy of a module beside the first, with its own state."""
    paths = [
        path
        for folder in ("models", "letters", "tui", "screens", "tests", "bench")
        for path in (ROOT / folder).rglob("*.py")
    ]
    offenders = {
        str(p.relative_to(ROOT)): sorted(bare_imports(p)) for p in paths if bare_imports(p)
    }
    assert not offenders, f"import them as messagerie.…: {offenders}"


def test_the_bare_import_check_sees_a_violation(tmp_path):
    offender = tmp_path / "offender.py"
    offender.write_text("from models.store.tables import Message\nimport tui.cli\n")
    assert bare_imports(offender) == {"models.store.tables", "tui.cli"}


# Long by nature: the schema's history and the demo's texts (data written as code).
LONG_ALLOWED = ("models/store/migrations/", "models/demo/corpus.py")
MAX_FUNCTION_LINES = 80


def long_functions(path: Path) -> list[str]:
    """The functions of `path` over MAX_FUNCTION_LINES lines, decorators and docstring
    included, as "name (N lines)"."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            lines = (node.end_lineno or node.lineno) - first + 1
            if lines > MAX_FUNCTION_LINES:
                found.append(f"{node.name} ({lines} lines)")
    return found


def test_no_function_is_over_80_lines():
    """A function that outgrows a screen is split where its parts have names (the issue
    asked for it; migrations and the demo corpus are data)."""
    offenders = {
        str(relative): long_functions(path)
        for package in ("models", "letters", "tui", "screens", "bench", "scripts", "tests")
        for path in python_files(package)
        if not (relative := path.relative_to(ROOT)).as_posix().startswith(LONG_ALLOWED)
        and long_functions(path)
    }
    assert not offenders, f"split them: {offenders}"


def test_the_length_check_sees_a_long_function(tmp_path):
    offender = tmp_path / "offender.py"
    body = "".join(f"    x{n} = {n}\n" for n in range(MAX_FUNCTION_LINES - 1))
    offender.write_text(f"def fits():\n{body}\n\ndef too_long():\n    y = 0\n{body}")
    assert long_functions(offender) == [f"too_long ({MAX_FUNCTION_LINES + 1} lines)"]
