"""The last first page of the dashboard, kept in the user cache folder between runs.

Opening the store costs about 0.15 s of CPU (SQLAlchemy's import, mostly) that Python cannot
run in parallel with Textual's own start. So the dashboard paints the page it showed last time,
marked "actualisation…", and replaces it as soon as the store answers (about 0.2 s later).
The snapshot is keyed by the launch configuration (flags and MESSAGERIE_* variables), so
another database never shows this one's page.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import platformdirs

from messagerie.models.atomic_write import write_whole
from messagerie.models.consultations.views import DashboardPage, page_from_json, page_to_json

KEY_VARIABLES = ("MESSAGERIE_DB", "MESSAGERIE_DATA_DIR")


class StartupSnapshot:
    def __init__(self, *launch_arguments: str | None, folder: Path | None = None) -> None:
        launch = [*launch_arguments, *(os.environ.get(name) for name in KEY_VARIABLES)]
        key = hashlib.sha256(json.dumps(launch).encode()).hexdigest()[:24]
        folder = folder or platformdirs.user_cache_path("messagerie")
        self.path = folder / f"dashboard-{key}.json"

    def load(self) -> DashboardPage | None:
        try:
            return page_from_json(json.loads(self.path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # no snapshot yet, or an unreadable one: wait for the store

    def save(self, page: DashboardPage) -> None:
        try:
            # The organisation's consultation titles and entities: the account's eyes only.
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_whole(self.path, json.dumps(page_to_json(page)).encode(), mode=0o600)
        except OSError:
            pass  # a read-only cache folder only costs a slower next start
