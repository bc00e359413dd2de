"""The URL fetcher of the letters: no network, only our own files and `data:` URIs.

Imported by `letters.render.html_to_pdf` only, as it loads weasyprint.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from weasyprint.urls import URLFetcher, URLFetcherResponse

LOGGER = logging.getLogger("messagerie.letters.pdf.render")


class RefusedURL(ValueError):
    """A letter asked for something outside the package: weasyprint skips it with a warning."""


class OfflineFetcher(URLFetcher):
    """Serves `data:` URIs and files under `roots`; refuses (and records) anything else."""

    def __init__(self, roots: tuple[Path, ...]) -> None:
        super().__init__(timeout=1, allowed_protocols=("file", "data"), allow_redirects=False)
        self.roots = tuple(root.resolve() for root in roots)
        self.fetched: list[str] = []
        self.refused: list[str] = []

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        if not self._allowed(url):
            self.refused.append(url)
            LOGGER.warning("letter resource refused (rendering is offline): %s", url)
            raise RefusedURL(f"ressource externe refusée : {url}")
        self.fetched.append(url)
        LOGGER.debug("letter resource fetched: %s", url)
        return super().fetch(url, headers)

    def _allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            return True
        if scheme != "file" or parts.netloc not in ("", "localhost"):
            return False
        path = Path(url2pathname(parts.path)).resolve()
        return path.is_file() and any(path.is_relative_to(root) for root in self.roots)
