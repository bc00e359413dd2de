"""The TUI finds its store without pydantic (tui/location.py, issue 18): it must open the
database every command opens, the one Settings names, whatever flags and variables say."""

import pytest

from messagerie.tui.location import StoreLocation
from messagerie.tui.settings import Settings

FLAGS = [
    pytest.param({}, id="no-flag"),
    pytest.param({"db": "sqlite:////srv/drapeau.sqlite3"}, id="db-flag"),
    pytest.param({"data_dir": "donnees-drapeau"}, id="data-dir-flag"),
]
ENVIRONMENTS = [
    pytest.param({}, id="no-variable"),
    pytest.param({"MESSAGERIE_DB": "postgresql+psycopg://u:p@hote/base"}, id="db-variable"),
    pytest.param({"messagerie_data_dir": "donnees-variable"}, id="data-dir-lower-case"),
    pytest.param({"MESSAGERIE_DB": "", "MESSAGERIE_DATA_DIR": "donnees"}, id="empty-db"),
]


@pytest.mark.parametrize("flags", FLAGS)
@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_tui_opens_the_store_every_command_opens(flags, environment, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # relative data folders are made here
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    for name in ("MESSAGERIE_DB", "MESSAGERIE_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    location = StoreLocation.read(flags.get("db"), flags.get("data_dir"))
    settings = Settings(**flags)
    assert location.database_url == settings.database_url
    assert location.documents_dir == settings.documents_dir
