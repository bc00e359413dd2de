"""A DNS server on 127.0.0.1 (UDP): the TXT records it is given, NXDOMAIN for any other name;
and a silent one (a bound port that never answers). dnspython reads and writes the packets."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from dns.rdtypes.ANY.TXT import TXT

CHUNK = 255  # longest character-string of a TXT record


@contextmanager
def local_dns(records: dict[str, bytes], silent: frozenset[str] = frozenset()) -> Iterator[str]:
    """The server's "127.0.0.1:port", answering `records` (name without its final dot →
    the TXT text, cut in strings of 255 bytes as a zone holds it), and never the names in
    `silent` (a domain whose DNS is down)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(0.2)  # a closed socket does not wake a waiting recvfrom: look again
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                packet, client = server.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(packet)
            answer = dns.message.make_response(query)
            question = query.question[0]
            if question.name.to_text().rstrip(".") in silent:
                continue
            text = records.get(question.name.to_text().rstrip("."))
            if text is None or question.rdtype != dns.rdatatype.TXT:
                answer.set_rcode(dns.rcode.NXDOMAIN)
            else:
                strings = [text[start : start + CHUNK] for start in range(0, len(text), CHUNK)]
                rdata = TXT(dns.rdataclass.IN, dns.rdatatype.TXT, strings)
                answer.answer.append(dns.rrset.from_rdata(question.name, 300, rdata))
            answer.flags |= dns.flags.AA
            server.sendto(answer.to_wire(), client)

    thread = threading.Thread(target=serve, name="dns", daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.getsockname()[1]}"
    finally:
        done.set()
        thread.join(timeout=5)
        server.close()


@contextmanager
def silent_dns() -> Iterator[str]:
    """A port that takes every query and answers none: a DNS server down."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{server.getsockname()[1]}"
