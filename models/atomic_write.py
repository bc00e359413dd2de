"""Files written whole or not at all: filled beside their place, synced, then renamed into it.

Every file the app writes for the buyer (an AR, a CSV, a proof bundle, a reply's files) or for
itself (a blob, a kept e-mail, the signing key) goes through here, so that a full disk, a
killed process or a power cut never leaves half a file under the name asked for, nor
destroys the file that was there."""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from messagerie.models.errors import NotARegularFile

PARTIAL_SUFFIX = ".partiel"  # French: a buyer may see one left by a power cut
# What link() says where the file system has no hard links.
NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP}
NAME_KEPT = 40  # characters of the name in the temporary one: 4 bytes each stay under 255


@contextmanager
def writing_beside(path: Path, *, mode: int = 0o666, overwrite: bool = True) -> Iterator[Path]:
    """A new empty file beside `path` (hidden, ending in .partiel) for the caller to fill.
    On a clean exit it is synced to disk and renamed to `path` in one step; on an error it
    is removed and `path` keeps what it held. `mode` goes through the umask, as for open().
    A `path` that holds anything but a file (a device, a pipe, a link) is refused at once.
    With overwrite=False an existing `path` raises FileExistsError and is left alone (no
    check-then-write race where the file system has hard links)."""
    _regular_or_absent(path)
    suffix = f".{secrets.token_hex(4)}{PARTIAL_SUFFIX}"
    temporary = path.with_name(f".{path.name[:NAME_KEPT]}{suffix}")
    os.close(os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, mode))
    try:
        yield temporary
        _sync(temporary)
        if overwrite:
            os.replace(temporary, path)
        else:
            _put_new(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    sync_folder(path.parent)


def write_whole(path: Path, data: bytes, *, mode: int = 0o666, overwrite: bool = True) -> None:
    """Write `data` to `path` whole or not at all (see `writing_beside`)."""
    with writing_beside(path, mode=mode, overwrite=overwrite) as temporary:
        temporary.write_bytes(data)


def _regular_or_absent(path: Path) -> None:
    """Only a file is ever replaced: the rename would put a file in place of a device, a
    pipe or a link (the link itself, not what it points to)."""
    try:
        found = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISDIR(found.st_mode):
        raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
    if not stat.S_ISREG(found.st_mode):
        raise NotARegularFile(path)


def _put_new(temporary: Path, path: Path) -> None:
    """Give `temporary` the name `path` unless a file has it: linked, which never replaces.
    A USB key's FAT or some network shares have no links: there, checked then renamed."""
    try:
        os.link(temporary, path)
    except OSError as error:
        if error.errno not in NO_LINKS:
            raise
        if path.exists():
            raise FileExistsError(errno.EEXIST, "File exists", str(path)) from None
        os.replace(temporary, path)


def _sync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def sync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX); a no-op where folders cannot be opened."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
