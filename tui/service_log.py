"""The services' log: one line per event on stderr, as key=value pairs (logfmt) that a log
collector parses and journald keeps as they are; the human summary stays on stdout."""

from __future__ import annotations

import logging
import sys

from messagerie.models.text import escaped_controls


class KeyValueLines(logging.Formatter):
    """One event per line, `time=… level=… logger=… message="…"`, its time in ISO 8601. Text
    from outside (a relay's answer, an exception's text) stays inside the quoted message: its
    quotes and backslashes escaped, its control characters written as escapes, it can neither
    add a key (`" level=INFO`) nor end the line and forge a second event."""

    def __init__(self) -> None:
        super().__init__(datefmt="%Y-%m-%dT%H:%M:%S%z")

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            message += "\n" + self.formatStack(record.stack_info)
        quoted = escaped_controls(message.replace("\\", "\\\\").replace('"', '\\"'))
        return (
            f"time={self.formatTime(record, self.datefmt)} level={record.levelname} "
            f'logger={record.name} message="{quoted}"'
        )


class CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Whatever sys.stderr is when a line is written (a caller may swap it)."""

    @property  # type: ignore[override]
    def stream(self):  # type: ignore[no-untyped-def]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:  # type: ignore[no-untyped-def]
        pass


def service_logging() -> logging.Logger:
    """Configure this process's logging for a service; the service's own logger."""
    handler = CurrentStderr()
    handler.setFormatter(KeyValueLines())
    # The libraries' warnings; our own events from INFO.
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    logging.getLogger("messagerie").setLevel(logging.INFO)
    return logging.getLogger("messagerie.service")
