"""Scanning attachments with clamd over its socket (INSTREAM protocol, standard library only).

The address comes from MESSAGERIE_CLAMD: ``unix:///run/clamav/clamd.ctl``, ``tcp://host:3310``,
a bare socket path, or ``off``. ``off`` is a deliberate choice: files are then stored as
"non analysé". Any other failure to reach clamd refuses the attachment.

`antivirus_status` says which antivirus is in force (clamd's VERSION answer), for the line
the buyer reads where files are attached and for `messagerie status`.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from datetime import date
from enum import Enum

from messagerie.models.errors import Refusal, os_problem
from messagerie.models.rules.filetype import FileRefused, check_file
from messagerie.models.store.enums import AntivirusVerdict
from messagerie.models.text import ascii_digits, whole_number

CHUNK_SIZE = 64 * 1024
OFF = "off"


class AntivirusRefusal(Refusal):
    """An attachment refused by check_attachment (infected, or not what its name says: see
    models.rules.filetype); str(error) says why, in French."""


class AntivirusUnavailable(AntivirusRefusal):
    """Refused because clamd could not be asked: nothing is known about the file yet.

    str(error) is for the buyer and the operator (it names the address and the setting);
    `address` and `error` alone go to a log line. A company is told neither.
    """

    def __init__(self, address: str, error: str) -> None:
        super().__init__(
            f"L'antivirus est injoignable ({address} : {error}) : les pièces jointes sont "
            "refusées. Vérifiez MESSAGERIE_CLAMD, ou choisissez « off » délibérément."
        )
        self.address, self.error = address, error


@dataclass(frozen=True)
class ClamdAddress:
    """Where clamd listens: a Unix socket path, or a TCP host and port."""

    path: str | None = None
    host: str | None = None
    port: int | None = None

    def __str__(self) -> str:
        if self.path is not None:
            return f"unix://{self.path}"
        return f"tcp://{self.host}:{self.port}"


@dataclass(frozen=True)
class ScanResult:
    verdict: AntivirusVerdict
    signature: str | None = None


def parse_clamd_address(text: str) -> ClamdAddress | None:
    """The address named by text, or None for ``off`` (scanning deliberately disabled).

    Raises AntivirusRefusal for text that names no address.
    """
    value = text.strip()
    if value.lower() == OFF:
        return None
    if value.startswith("unix://"):
        path = value.removeprefix("unix://")
        if path:
            return ClamdAddress(path=path)
    elif value.startswith("tcp://"):
        host, _, port = value.removeprefix("tcp://").rstrip("/").rpartition(":")
        host = host.strip("[]")
        number = whole_number(port, 65535)
        if host and number:
            return ClamdAddress(host=host, port=number)
    elif value.startswith("/"):
        return ClamdAddress(path=value)
    raise AntivirusRefusal(
        f"Adresse de l'antivirus illisible : « {text} ». Indiquez unix:///chemin/clamd.ctl, "
        "tcp://hôte:port, un chemin de socket, ou « off »."
    )


class ClamdUnreachable(OSError):
    """clamd could not be reached, or answered something that is not a verdict."""

    def __init__(self, address: ClamdAddress, error: str) -> None:
        super().__init__(f"{address} : {error}")
        self.address, self.error = address, error


class ClamdSizeLimit(Exception):
    """clamd refused the stream as larger than its StreamMaxLength."""


def _connect(address: ClamdAddress, timeout: float) -> socket.socket:
    if address.path is not None:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.settimeout(timeout)
        try:
            connection.connect(address.path)
        except BaseException:
            connection.close()
            raise
        return connection
    assert address.host is not None and address.port is not None
    return socket.create_connection((address.host, address.port), timeout=timeout)


def _ask(address: ClamdAddress, command: bytes, timeout: float) -> str:
    """clamd's answer to one z-command (``zVERSION\\0``…); OSError when it cannot be asked."""
    with _connect(address, timeout) as connection:
        connection.sendall(command)
        return _read_reply(connection)


def _read_reply(connection: socket.socket) -> str:
    parts = []
    while True:
        part = connection.recv(4096)
        if not part:
            break
        parts.append(part)
        if part.endswith(b"\0"):
            break
    return b"".join(parts).rstrip(b"\0\n").decode("utf-8", "replace")


def scan(
    data: bytes, filename: str, address: ClamdAddress | None, *, timeout: float = 10.0
) -> ScanResult:
    """Stream data to clamd and return its verdict; NOT_SCANNED when address is None.

    Raises ClamdUnreachable (an OSError) when clamd cannot be reached or answers oddly, and
    ClamdSizeLimit when the data exceeds clamd's StreamMaxLength.
    """
    if address is None:
        return ScanResult(AntivirusVerdict.NOT_SCANNED)
    try:
        with _connect(address, timeout) as connection:
            connection.sendall(b"zINSTREAM\0")
            view = memoryview(data)
            try:
                for start in range(0, len(data), CHUNK_SIZE):
                    chunk = view[start : start + CHUNK_SIZE]
                    connection.sendall(struct.pack("!I", len(chunk)) + chunk)
                connection.sendall(struct.pack("!I", 0))
            except (BrokenPipeError, ConnectionResetError):
                # clamd closes the stream once it exceeds StreamMaxLength; its reply says so.
                pass
            reply = _read_reply(connection)
    except ClamdUnreachable:
        raise
    except OSError as error:
        raise ClamdUnreachable(address, os_problem(error)) from error
    # Replies: "stream: OK", "stream: <Signature> FOUND", "INSTREAM size limit exceeded. ERROR".
    if "size limit exceeded" in reply.lower():
        raise ClamdSizeLimit(reply)
    if reply.endswith(" FOUND"):
        signature = reply.removesuffix(" FOUND").partition(": ")[2] or "signature inconnue"
        return ScanResult(AntivirusVerdict.INFECTED, signature)
    if reply.endswith(": OK"):
        return ScanResult(AntivirusVerdict.CLEAN)
    raise ClamdUnreachable(address, f"réponse inattendue « {reply or 'vide'} »")


def _french_number(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")


def check_attachment(
    data: bytes, filename: str, address: ClamdAddress | None, *, timeout: float = 10.0
) -> AntivirusVerdict:
    """CLEAN or NOT_SCANNED (address None, i.e. ``off``); AntivirusRefusal otherwise.

    Once clamd has called it clean, the file must also be what its name says (filetype).
    """
    try:
        result = scan(data, filename, address, timeout=timeout)
    except ClamdSizeLimit as error:
        raise AntivirusRefusal(
            f"Le fichier « {filename} » dépasse la taille que l'antivirus accepte d'analyser "
            f"({_french_number(len(data))} octets) : il est refusé."
        ) from error
    except ClamdUnreachable as error:
        raise AntivirusUnavailable(str(error.address), error.error) from error
    if result.verdict is AntivirusVerdict.INFECTED:
        raise AntivirusRefusal(
            f"Le fichier « {filename} » est infecté ({result.signature}) : il est refusé."
        )
    try:
        check_file(data, filename)
    except FileRefused as refused:
        raise AntivirusRefusal(refused.message) from refused
    return result.verdict


# --- Which antivirus is in force -------------------------------------------------------------


class AntivirusState(Enum):
    ON = "on"  # clamd answered
    OFF = "off"  # MESSAGERIE_CLAMD=off, deliberately
    UNREACHABLE = "unreachable"  # configured, but not answering (or unreadable address)


OFF_LINE = "Antivirus désactivé — fichiers non analysés"
UNREACHABLE_LINE = "Antivirus injoignable — les pièces jointes seront refusées"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class AntivirusStatus:
    """Which antivirus scans the files, as clamd describes itself.

    clamd tells its engine version and the version and date of its signature database (the
    official ``daily`` base that freshclam keeps up to date), but no count of signatures:
    VERSION answers ``ClamAV 1.4.6/27500/Mon Dec  1 08:30:00 2026``, or only ``ClamAV 1.4.6``
    when no official base is loaded (local signature files only, like the EICAR-only clamd
    of scripts/test and scripts/demo), and STATS speaks of threads and memory.
    """

    state: AntivirusState
    engine: str | None = None  # "ClamAV 1.4.6"
    database: int | None = None  # version of the official signature base, not a count
    database_date: date | None = None
    problem: str | None = None  # why it does not answer (address, error): operators only

    @property
    def usable(self) -> bool:
        """Attachments can be taken in (scanned, or deliberately not)."""
        return self.state is not AntivirusState.UNREACHABLE

    @property
    def line(self) -> str:
        """One line in French: what the buyer reads where files are attached."""
        if self.state is AntivirusState.OFF:
            return OFF_LINE
        if self.state is AntivirusState.UNREACHABLE:
            return UNREACHABLE_LINE
        if self.database is None:
            return f"Antivirus : {self.engine}, sans base officielle (antivirus de test)"
        dated = f" du {self.database_date:%d/%m/%Y}" if self.database_date else " (non datée)"
        return f"Antivirus : {self.engine}, base de signatures n° {self.database}{dated}"


def read_version(reply: str) -> AntivirusStatus:
    """The status told by clamd's VERSION answer; UNREACHABLE for anything else."""
    engine, _, rest = reply.strip().partition("/")
    if not engine.startswith("ClamAV "):
        return AntivirusStatus(
            AntivirusState.UNREACHABLE, problem=f"réponse inattendue « {reply or 'vide'} »"
        )
    number, _, when = rest.partition("/")
    return AntivirusStatus(
        AntivirusState.ON,
        engine=engine,
        database=whole_number(number, 2**31 - 1),
        database_date=_ctime_date(when),
    )


def _ctime_date(text: str) -> date | None:
    """The day of a C ``ctime`` text (``Mon Dec  1 08:30:00 2026``); None when unreadable or
    at the epoch (a base without a date)."""
    parts = text.split()
    if len(parts) != 5 or parts[1] not in _MONTHS or not ascii_digits(parts[2] + parts[4]):
        return None
    try:
        day = date(int(parts[4]), _MONTHS.index(parts[1]) + 1, int(parts[2]))
    except ValueError:
        return None
    return None if day.year <= 1970 else day


def antivirus_status(setting: str, *, timeout: float = 3.0) -> AntivirusStatus:
    """Ask the clamd named by MESSAGERIE_CLAMD who it is (blocking: call it off the UI)."""
    try:
        address = parse_clamd_address(setting)
    except AntivirusRefusal as refusal:
        return AntivirusStatus(AntivirusState.UNREACHABLE, problem=str(refusal))
    if address is None:
        return AntivirusStatus(AntivirusState.OFF)
    try:
        reply = _ask(address, b"zVERSION\0", timeout)
    except OSError as error:
        return AntivirusStatus(
            AntivirusState.UNREACHABLE, problem=f"{address} : {os_problem(error)}"
        )
    status = read_version(reply)
    if status.problem:
        return AntivirusStatus(status.state, problem=f"{address} : {status.problem}")
    return status
