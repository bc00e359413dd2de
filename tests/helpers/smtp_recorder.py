"""An SMTP relay for tests that run the outbox in other processes: every accepted recipient
is appended to a file as "Message-ID recipient", flushed at once.

    python -m aiosmtpd -n -l 127.0.0.1:PORT -c tests.helpers.smtp_recorder.Recorder FILE
"""

from __future__ import annotations

from argparse import ArgumentParser
from email import message_from_bytes
from email.policy import default


class Recorder:
    def __init__(self, path: str) -> None:
        self.path = path

    @classmethod
    def from_cli(cls, parser: ArgumentParser, *args: str) -> Recorder:
        if len(args) != 1:
            parser.error("Recorder needs the file to write to")
        return cls(args[0])

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        message_id = message_from_bytes(envelope.original_content, policy=default)["Message-ID"]
        with open(self.path, "a", encoding="utf-8") as file:
            for recipient in envelope.rcpt_tos:
                file.write(f"{message_id} {recipient}\n")
        return "250 2.0.0 Accepted"
