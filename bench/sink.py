"""A local SMTP server that accepts and drops every e-mail (aiosmtpd's Sink), in another
process so that it does not share the measured process's CPU time or event loop."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from messagerie.tui.embedded import free_port

READY_WITHIN = 10.0  # seconds for aiosmtpd to start listening


@contextmanager
def smtp_sink() -> Iterator[int]:
    """The port of a Sink on 127.0.0.1, listening until the block ends."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
         "-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_until_listening(server, port)
        yield port
    finally:
        server.terminate()
        server.wait()


def _wait_until_listening(server: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + READY_WITHIN
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if server.poll() is not None:
                raise RuntimeError(f"aiosmtpd ended at start (exit {server.returncode})") from None
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
