"""Files written whole or not at all (models/atomic_write.py): what the buyer asked to save (an
AR, a CSV, a proof bundle, a reply's files) and what the app keeps (blobs, kept e-mails, the
demonstration key) never stand half-written under their name, nor destroy what was there."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from messagerie.models.atomic_write import write_whole, writing_beside
from messagerie.models.errors import NotARegularFile, write_problem

EARLIER = b"%PDF-1.7 the AR saved yesterday\n"


def test_a_file_cut_short_by_a_full_disk_leaves_the_one_it_was_to_replace(tmp_path):
    """A child process whose files may not grow past 50 kB (the file size limit stands in
    for the full disk) writes 100 kB over yesterday's file."""
    target = tmp_path / "AR-2026WEB-12.pdf"
    target.write_bytes(EARLIER)
    script = textwrap.dedent(
        f"""
        import resource, sys
        from pathlib import Path
        from messagerie.models.atomic_write import write_whole
        resource.setrlimit(resource.RLIMIT_FSIZE, (50_000, 50_000))
        try:
            write_whole(Path({str(target)!r}), b"x" * 100_000)
        except OSError as error:
            sys.exit(error.errno)
        """
    )
    ended = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert ended.returncode == errno.EFBIG, ended.stderr
    assert target.read_bytes() == EARLIER
    assert [path.name for path in tmp_path.iterdir()] == [target.name]
    error = OSError(errno.EFBIG, "File too large")
    assert write_problem(target, error) == (
        f"Impossible d'écrire « {target} » : fichier trop gros pour cet emplacement ; "
        "choisissez un autre emplacement."
    )


def test_a_failure_while_filling_leaves_the_earlier_file_and_nothing_beside(tmp_path):
    target = tmp_path / "suivi.csv"
    target.write_bytes(EARLIER)
    with pytest.raises(RuntimeError), writing_beside(target) as partial:
        partial.write_bytes(b"Ref;Objet\n2026WEB;half")
        raise RuntimeError("the store went away mid-export")
    assert target.read_bytes() == EARLIER
    assert [path.name for path in tmp_path.iterdir()] == ["suivi.csv"]


def test_a_whole_write_replaces_the_file_at_once(tmp_path):
    target = tmp_path / "suivi.csv"
    target.write_bytes(EARLIER)
    write_whole(target, b"Ref;Objet\n")
    assert target.read_bytes() == b"Ref;Objet\n"
    assert [path.name for path in tmp_path.iterdir()] == ["suivi.csv"]


def test_a_new_file_never_replaces_one_there(tmp_path):
    target = tmp_path / "offre.pdf"
    target.write_bytes(EARLIER)
    with pytest.raises(FileExistsError):
        write_whole(target, b"%PDF-1.7 another company's offer", overwrite=False)
    assert target.read_bytes() == EARLIER
    assert [path.name for path in tmp_path.iterdir()] == ["offre.pdf"]
    write_whole(tmp_path / "offre (2).pdf", b"%PDF-1.7 second", overwrite=False)
    assert (tmp_path / "offre (2).pdf").read_bytes() == b"%PDF-1.7 second"


def test_only_a_file_is_ever_replaced(tmp_path):
    """`--out /dev/null` run as root replaced the device by a PDF: a device, a pipe or a link
    at the path is refused, left as it was, with nothing beside it."""
    target = tmp_path / "x"
    pipe, link = tmp_path / "tube", tmp_path / "lien"
    os.mkfifo(pipe)
    target.write_bytes(EARLIER)
    link.symlink_to(target)
    for path in (pipe, link, Path("/dev/null")):
        with pytest.raises(NotARegularFile) as refused:
            write_whole(path, b"%PDF-1.7 AR")
        assert write_problem(path, refused.value) == (
            f"Impossible d'écrire « {path} » : ce n'est pas un fichier ordinaire (périphérique, "
            "tube, socket ou lien) ; choisissez un autre emplacement."
        )
    assert stat.S_ISFIFO(pipe.lstat().st_mode) and link.is_symlink()
    assert Path("/dev/null").is_char_device()
    assert target.read_bytes() == EARLIER
    assert sorted(path.name for path in tmp_path.iterdir()) == ["lien", "tube", "x"]
    with pytest.raises(IsADirectoryError):
        write_whole(tmp_path, b"x")


def test_the_mode_is_the_one_open_would_give_or_the_one_asked(tmp_path):
    plain = tmp_path / "plain"
    plain.write_bytes(b"")
    write_whole(tmp_path / "ar.pdf", b"%PDF-")
    write_whole(tmp_path / "key.pem", b"secret", mode=0o600)
    assert (tmp_path / "ar.pdf").stat().st_mode & 0o777 == plain.stat().st_mode & 0o777
    assert (tmp_path / "key.pem").stat().st_mode & 0o777 == 0o600


def test_the_longest_name_a_folder_allows_can_be_written(tmp_path):
    """The temporary name keeps only the start of the name: 255 bytes of « é » still fit."""
    target = tmp_path / ("é" * 123 + ".pdf")  # 250 bytes
    write_whole(target, b"%PDF-")
    assert target.read_bytes() == b"%PDF-"
