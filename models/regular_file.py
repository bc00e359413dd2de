"""Files read from outside (an import, an anchor and its signature): a regular file only, and
never more than the caller can use. A pipe would make open() wait for ever, /dev/zero fill
the memory; a link, where the caller refuses them, is not followed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from messagerie.models.errors import NotARegularFile


def read_regular(path: Path, limit: int, *, follow_links: bool = True) -> bytes:
    """At most `limit` + 1 bytes of the file at `path` (more than `limit` read: it is too big,
    the caller says so). NotARegularFile for anything but a file; OSError as open() raises."""
    flags = os.O_RDONLY | os.O_NONBLOCK | (0 if follow_links else os.O_NOFOLLOW)
    with os.fdopen(os.open(path, flags), "rb") as file:  # a file ignores O_NONBLOCK
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            raise NotARegularFile(path)
        return file.read(limit + 1)
