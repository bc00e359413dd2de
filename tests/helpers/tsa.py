"""A local RFC 3161 timestamping authority: a tiny HTTP server in the test process answering
timestamp requests with pyHanko's DummyTimeStamper, under a certificate of its own made by
openssl (RSA, the only key the dummy signs with; the timeStamping extended key usage)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from asn1crypto import tsp
from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
from pyhanko.sign.timestamps import DummyTimeStamper

from tests.helpers.signing import openssl

TSA_NAME = "Horodatage de recette"


def stamper(folder: Path, name: str = TSA_NAME, at: datetime | None = None) -> DummyTimeStamper:
    """The authority `name`, on an RSA key and certificate (tsa-certificat.pem) that openssl
    makes in `folder`; its clock says `at` when given, else the time it is."""
    folder.mkdir(parents=True, exist_ok=True)
    key, certificate = folder / "tsa-cle.pem", folder / "tsa-certificat.pem"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "400",
            "-subj", f"/CN={name}", "-addext", "extendedKeyUsage=critical,timeStamping",
            "-keyout", str(key), "-out", str(certificate))  # fmt: skip
    return DummyTimeStamper(
        load_cert_from_pemder(str(certificate)),
        load_private_key_from_pemder(str(key), None),
        fixed_dt=at,
    )


@contextmanager
def local_tsa(
    folder: Path, name: str = TSA_NAME, at: datetime | None = None
) -> Iterator[tuple[str, list[datetime]]]:
    """The authority's URL on 127.0.0.1, and the times it stamped (one per answer)."""
    authority = stamper(folder, name, at)
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
