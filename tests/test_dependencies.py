"""Every library the program imports is declared in pyproject.toml. One that comes in only
through another package (MarkupSafe through jinja2, rich through Textual…) installs today,
and is gone the day that package stops needing it: the program then fails at import."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("tui", "screens", "models", "letters")


def normalised(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()  # PEP 503


def declared_distributions() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {re.match(r"[A-Za-z0-9._-]+", line)[0] for line in project["dependencies"]}
    return {normalised(name) for name in names}


def runtime_imports(source: str) -> set[str]:
    """Top-level names of what `source` imports when it runs: not its relative imports, nor
    those under `if TYPE_CHECKING:` (for the type checker only)."""
    tree = ast.parse(source)
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING")
        for statement in node.body
        for inner in ast.walk(statement)
    }
    names = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return {name.split(".")[0] for name in names}


def undeclared_imports(sources: dict[str, str], declared: set[str]) -> dict[str, list[str]]:
    """Third-party top-level imports whose distribution is not declared, with the files."""
    providers = importlib.metadata.packages_distributions()
    missing: dict[str, list[str]] = {}
    for where, source in sources.items():
        for name in runtime_imports(source) - set(sys.stdlib_module_names) - {"messagerie"}:
            given_by = {normalised(d) for d in providers.get(name, [name])}
            if not given_by & declared:
                missing.setdefault(name, []).append(where)
    return missing


def program_sources() -> dict[str, str]:
    return {
        str(path.relative_to(ROOT)): path.read_text(encoding="utf-8")
        for folder in FOLDERS
        for path in sorted((ROOT / folder).rglob("*.py"))
    }


def test_every_library_the_program_imports_is_declared():
    missing = undeclared_imports(program_sources(), declared_distributions())
    assert not missing, f"add them to [project] dependencies in pyproject.toml: {missing}"


def test_the_dependency_check_sees_an_undeclared_import():
    """MarkupSafe, imported without its line, is named; a stub import for the type checker
    and a relative import are not."""
    sources = {
        "mime.py": "from markupsafe import Markup\nimport jinja2.sandbox\n",
        "rows.py": "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from _typeshed import DataclassInstance\n",
        "local.py": "from .tables import Message\n",
    }
    declared = declared_distributions() - {"markupsafe"}
    assert undeclared_imports(sources, declared) == {"markupsafe": ["mime.py"]}
