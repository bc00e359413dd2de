"""Scanning attachments with clamd over its socket (INSTREAM protocol, standard library only).

The address comes from MESSAGERIE_CLAMD: ``unix:///run/clamav/clamd.ctl``, ``tcp://host:3310``,
a bare socket path, or ``off``. ``off`` is a deliberate choice: files are then stored as
"non analysé". Any other failure to reach clamd refuses the attachment.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

from models.enums import AntivirusVerdict
from models.errors import Refusal

CHUNK_SIZE = 64 * 1024
OFF = "off"


class AntivirusRefusal(Refusal):
    """An attachment refused by the antivirus step; str(error) says why, in French."""


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
        if host and port.isdigit() and 0 < int(port) < 65536:
            return ClamdAddress(host=host, port=int(port))
    elif value.startswith("/"):
        return ClamdAddress(path=value)
    raise AntivirusRefusal(
        f"Adresse de l'antivirus illisible : « {text} ». Indiquez unix:///chemin/clamd.ctl, "
        "tcp://hôte:port, un chemin de socket, ou « off »."
    )


class ClamdUnreachable(OSError):
    """clamd could not be reached, or answered something that is not a verdict."""


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
        raise ClamdUnreachable(f"{address} : {error.strerror or error}") from error
    # Replies: "stream: OK", "stream: <Signature> FOUND", "INSTREAM size limit exceeded. ERROR".
    if "size limit exceeded" in reply.lower():
        raise ClamdSizeLimit(reply)
    if reply.endswith(" FOUND"):
        signature = reply.removesuffix(" FOUND").partition(": ")[2] or "signature inconnue"
        return ScanResult(AntivirusVerdict.INFECTED, signature)
    if reply.endswith(": OK"):
        return ScanResult(AntivirusVerdict.CLEAN)
    raise ClamdUnreachable(f"{address} : réponse inattendue « {reply or 'vide'} »")


def _french_number(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")


def check_attachment(
    data: bytes, filename: str, address: ClamdAddress | None, *, timeout: float = 10.0
) -> AntivirusVerdict:
    """CLEAN or NOT_SCANNED (address None, i.e. ``off``); AntivirusRefusal otherwise."""
    try:
        result = scan(data, filename, address, timeout=timeout)
    except ClamdSizeLimit as error:
        raise AntivirusRefusal(
            f"Le fichier « {filename} » dépasse la taille que l'antivirus accepte d'analyser "
            f"({_french_number(len(data))} octets) : il est refusé."
        ) from error
    except ClamdUnreachable as error:
        raise AntivirusRefusal(
            f"L'antivirus est injoignable ({error}) : les pièces jointes sont refusées. "
            "Vérifiez MESSAGERIE_CLAMD, ou choisissez « off » délibérément."
        ) from error
    if result.verdict is AntivirusVerdict.INFECTED:
        raise AntivirusRefusal(
            f"Le fichier « {filename} » est infecté ({result.signature}) : il est refusé."
        )
    return result.verdict
