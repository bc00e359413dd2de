"""A local RFC 3161 timestamping authority: a tiny HTTP server in the test process answering
timestamp requests with pyHanko's DummyTimeStamper, under a certificate of its own made by
openssl (RSA, the only key the dummy signs with; the timeStamping extended key usage)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
from pyhanko.sign.timestamps import DummyTimeStamper

from messagerie.letters.pdf.certificate import self_signed_pair
from tests.helpers.signing import openssl

TSA_NAME = "Horodatage de recette"


def stamper(
    folder: Path, name: str = TSA_NAME, at: datetime | None = None, *, expired: bool = False
) -> DummyTimeStamper:
    """The authority `name`, on an RSA key and certificate (tsa-certificat.pem) that openssl
    makes in `folder` (`expired`: one valid in 2020 only, which openssl 3.0 cannot date, made
    by `cryptography`); its clock says `at` when given, else the time it is."""
    folder.mkdir(parents=True, exist_ok=True)
    key, certificate = folder / "tsa-cle.pem", folder / "tsa-certificat.pem"
    if expired:
        expired_pair(name, key, certificate)
    else:
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "400",
                "-subj", f"/CN={name}", "-addext", "extendedKeyUsage=critical,timeStamping",
                "-keyout", str(key), "-out", str(certificate))  # fmt: skip
    return DummyTimeStamper(
        load_cert_from_pemder(str(certificate)),
        load_private_key_from_pemder(str(key), None),
        fixed_dt=at,
    )


def expired_pair(name: str, key_path: Path, certificate_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    usage = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING])
    start, end = datetime(2020, 1, 1, tzinfo=UTC), datetime(2021, 1, 1, tzinfo=UTC)
    key_pem, certificate_pem = self_signed_pair(key, subject, start, end, extensions=(usage,))
    key_path.write_bytes(key_pem)
    certificate_path.write_bytes(certificate_pem)


@contextmanager
def local_tsa(
    folder: Path, name: str = TSA_NAME, at: datetime | None = None, *, expired: bool = False
) -> Iterator[tuple[str, list[datetime]]]:
    """The authority's URL on 127.0.0.1, and the times it stamped (one per answer)."""
    authority = stamper(folder, name, at, expired=expired)
    stamped: list[datetime] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            response = authority.request_tsa_response(request)
            info = response["time_stamp_token"]["content"]["encap_content_info"]["content"]
            stamped.append(info.parsed["gen_time"].native)
            body = response.dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="tsa", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", stamped
    finally:
        server.shutdown()
        server.server_close()
