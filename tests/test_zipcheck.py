"""Unsafe zips are refused with a French message naming the member at fault.

Every archive is built here with the zipfile module; hostile ones are crafted by writing odd
names or attributes, or by patching the bytes of a well-formed archive.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import warnings
import zipfile

import pytest

from messagerie.models.rules.zipcheck import (
    DEFAULT_LIMITS,
    ZipLimits,
    ZipMember,
    ZipRefused,
    extract_member,
    inspect_zip,
)

DCE_FILES = {
    "AE_P_JLT20240229-1_L01-02.pdf": b"%PDF-1.7\nacte d'engagement\n" * 40,
    "CCAP_JLT20240229-1.pdf": b"%PDF-1.7\ncahier des clauses\n" * 60,
    "RC_P_JLT20240229-1.pdf": b"%PDF-1.7\nreglement de consultation\n" * 30,
}


def make_zip(
    members: dict[str, bytes] | list[tuple[str | zipfile.ZipInfo, bytes]],
    method: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    buffer = io.BytesIO()
    items = members.items() if isinstance(members, dict) else members
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(buffer, "w", compression=method) as archive:
            for name, data in items:
                archive.writestr(name, data)
    return buffer.getvalue()


def patch_flags(data: bytes, set_bits: int = 0, clear_bits: int = 0) -> bytes:
    """Change the general-purpose flags of every member, in local and central headers."""
    patched = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = patched.find(signature)
        while start != -1:
            (flags,) = struct.unpack_from("<H", patched, start + offset)
            struct.pack_into("<H", patched, start + offset, (flags | set_bits) & ~clear_bits)
            start = patched.find(signature, start + 4)
    return bytes(patched)


def refusal(data: bytes, limits: ZipLimits = DEFAULT_LIMITS) -> ZipRefused:
    with pytest.raises(ZipRefused) as caught:
        inspect_zip(data, limits)
    return caught.value


def test_a_good_dce_zip_is_listed_without_its_directories():
    members = [("DCE/", b""), *((f"DCE/{name}", data) for name, data in DCE_FILES.items())]
    listed = inspect_zip(make_zip(members))
    assert listed == tuple(
        ZipMember(path=f"DCE/{name}", size=len(data)) for name, data in DCE_FILES.items()
    )


def test_extract_member_returns_the_exact_bytes():
    data = make_zip(DCE_FILES)
    for name, content in DCE_FILES.items():
        assert extract_member(data, name) == content
    with pytest.raises(ZipRefused, match=r"ne contient pas de fichier « absent\.pdf »"):
        extract_member(data, "absent.pdf")


def test_french_names_are_read_whatever_the_tool_wrote():
    utf8_flagged = make_zip({"Règlement de consultation.pdf": b"%PDF-"})
    utf8_unflagged = patch_flags(utf8_flagged, clear_bits=0x800)
    windows = make_zip({"R?glement.pdf": b"%PDF-"}).replace(b"R?glement", b"R\x8aglement")
    assert inspect_zip(utf8_flagged)[0].path == "Règlement de consultation.pdf"
    assert inspect_zip(utf8_unflagged)[0].path == "Règlement de consultation.pdf"
    assert inspect_zip(windows)[0].path == "Règlement.pdf"
    assert extract_member(utf8_unflagged, "Règlement de consultation.pdf") == b"%PDF-"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../evil.txt", "remonte dans l'arborescence"),
        ("DCE/../../evil.txt", "remonte dans l'arborescence"),
        ("/etc/passwd", "chemin absolu"),
        ("C:\\x", "barre oblique inverse"),
        ("C:/Windows/evil.dll", "lettre de lecteur"),
        ("DCE\\..\\..\\evil.txt", "barre oblique inverse"),
        ("DCE//evil.txt", "chemin mal formé"),
        ("./evil.txt", "chemin mal formé"),
        ("evil\x1b[2J.pdf", "caractère de contrôle"),
    ],
)
def test_unsafe_paths_are_refused_naming_the_member(name, reason):
    error = refusal(make_zip([("RC.pdf", b"%PDF-"), (name, b"owned")]))
    assert reason in error.message
    assert error.member == name
    shown = name.replace("\x1b", "\\x1b")  # control characters are printed escaped
    assert error.message.startswith(f"« {shown} » ")
    assert error.message.endswith(".")


def test_a_nul_byte_hiding_the_real_extension_is_refused():
    """zipfile cuts names at NUL ("evil.pdf"); the archive is refused all the same."""
    data = make_zip({"evil.pdf_.exe": b"MZ"}).replace(b"evil.pdf_.exe", b"evil.pdf\x00.exe")
    error = refusal(data)
    assert error.member == "evil.pdf\x00.exe"
    assert error.message.startswith("« evil.pdf\\x00.exe » contient un caractère de contrôle")


def test_a_symbolic_link_is_refused():
    link = zipfile.ZipInfo("CCAP.pdf")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    error = refusal(make_zip([(link, b"/etc/passwd")]))
    assert error.message.startswith("« CCAP.pdf » est un lien symbolique")


def test_a_device_or_fifo_member_is_refused():
    fifo = zipfile.ZipInfo("pipe")
    fifo.create_system = 3
    fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
    assert "n'est pas un fichier ordinaire" in refusal(make_zip([(fifo, b"")])).message


def test_an_encrypted_member_is_refused():
    data = patch_flags(make_zip({"RC.pdf": b"%PDF-secret"}), set_bits=0x1)
    error = refusal(data)
    assert error.member == "RC.pdf"
    assert "chiffré" in error.message


def test_bzip2_and_lzma_members_are_refused():
    for method, label in ((zipfile.ZIP_BZIP2, "bzip2"), (zipfile.ZIP_LZMA, "LZMA")):
        error = refusal(make_zip({"RC.pdf": b"%PDF-"}, method=method))
        assert f"méthode de compression non acceptée ({label})" in error.message


def test_duplicate_names_are_refused_even_by_case_or_accents():
    assert "figure deux fois" in refusal(make_zip([("RC.pdf", b"1"), ("RC.pdf", b"2")])).message
    assert refusal(make_zip([("RC.pdf", b"1"), ("rc.PDF", b"2")])).member == "rc.PDF"
    composed, decomposed = "Pi\u00e8ce.pdf", "Pie\u0300ce.pdf"
    assert refusal(make_zip([(composed, b"1"), (decomposed, b"2")])).member == decomposed


def test_a_zip_bomb_is_refused_early():
    bomb = make_zip({"RC.pdf": b"%PDF-", "bombe.bin": bytes(50 * 1024**2)})
    assert len(bomb) < 100 * 1024
    error = refusal(bomb)
    assert error.member == "bombe.bin"
    assert "plus de 100 fois sa taille" in error.message


def test_small_very_compressible_files_are_not_taken_for_bombs():
    listed = inspect_zip(make_zip({"espaces.txt": b" " * 500_000}))
    assert listed == (ZipMember("espaces.txt", 500_000),)


def test_total_uncompressed_size_is_measured_against_the_limit():
    members = {f"piece_{n}.bin": os.urandom(600) for n in range(3)}
    error = refusal(make_zip(members), ZipLimits(max_total_uncompressed=1000))
    assert error.member == "piece_1.bin"
    assert "taille totale décompressée autorisée (1000 octets)" in error.message


def test_member_size_is_measured_against_the_limit():
    error = refusal(make_zip({"gros.bin": os.urandom(5000)}), ZipLimits(max_member_size=4096))
    assert error.member == "gros.bin"
    assert "taille maximale d'un fichier" in error.message


def test_too_many_members_are_refused():
    members = {f"piece_{n}.txt": b"x" for n in range(4)}
    error = refusal(make_zip(members), ZipLimits(max_members=3))
    assert error.member == "piece_3.txt"
    assert "4 éléments, la limite est de 3" in error.message
    assert inspect_zip(make_zip(members), ZipLimits(max_members=4))


def test_default_member_count_limit():
    members = {f"q{n}.txt": b"" for n in range(1001)}
    assert "1001 éléments, la limite est de 1000" in refusal(make_zip(members)).message


def test_not_a_zip_at_all_is_refused():
    error = refusal(b"%PDF-1.7\nthis is no archive\n")
    assert error.message.startswith("Ce fichier n'est pas une archive zip lisible")
    assert error.member is None
    assert refusal(b"").member is None


def test_a_truncated_archive_is_refused():
    data = make_zip(DCE_FILES)
    for cut in (len(data) // 2, len(data) - 10, 30):
        assert "n'est pas une archive zip lisible" in refusal(data[:cut]).message


def test_corrupt_compressed_bytes_are_refused_naming_the_member():
    data = bytearray(make_zip({"CCAP.pdf": os.urandom(4000)}))
    data[60:90] = bytes(30)
    error = refusal(bytes(data))
    assert error.member == "CCAP.pdf"
    assert "l'archive est corrompue" in error.message


def test_a_bad_crc_is_refused():
    name = "RC.pdf"
    data = bytearray(make_zip({name: b"%PDF-1.7 original content"}, method=zipfile.ZIP_STORED))
    data[30 + len(name) + 10] ^= 0xFF  # one byte of the stored content
    error = refusal(bytes(data))
    assert error.member == name
    assert "CRC-32" in error.message


def test_sizes_announced_by_the_headers_are_not_trusted():
    """A central directory that understates a member's size cannot smuggle more bytes."""
    data = bytearray(make_zip({"RC.pdf": os.urandom(5000)}))
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 10)  # uncompressed size: 10 bytes
    error = refusal(bytes(data))
    assert error.member == "RC.pdf"
    assert "corrompue" in error.message
