"""A fork server for the `messagerie` command line: it imports the command's libraries once,
then forks a child for each run a test asks for (`tests.helpers.cli.messagerie`).

Each run stays a real process of its own (its pid, environment, folder, files, exit code and
signals), started as `python -m messagerie.tui.cli` starts: `runpy` runs the module as
`__main__`, and the interpreter ends the child as it ends any program (threads joined, atexit
run, streams flushed). What it skips is the interpreter's start and the imports, 0.5 to 1 s
of CPU a run, about 150 runs a suite (issue 14). Tests of what a fresh process imports, of
signals and of kills start their processes themselves.

Protocol, on a Unix socket: a run is one connection. The client sends its request as a JSON
line with three descriptors (stdin, stdout, stderr); the server answers with the child's pid
on a line, then its exit code (negative: the signal that ended it) on another.
"""

from __future__ import annotations

import importlib
import json
import os
import runpy
import selectors
import socket
import sys
import time
from dataclasses import dataclass

# What the commands the tests run import, once (tui/cli.py imports them command by command).
# Not the command's own module: `python -m` runs it as __main__, never imported before.
PRELOADED = (
    "messagerie.tui.services",
    "messagerie.tui.settings",
    "messagerie.tui.location",
    "messagerie.models.store.database",
    "messagerie.models.store.accounts",
    "messagerie.models.store.database_roles",
    "messagerie.models.store.chain",
    "messagerie.models.demo.install",
    "messagerie.models.importing.registers",
    "messagerie.models.messages.outbox",
    "messagerie.models.messages.ar",
    "messagerie.models.messages.bundle",
    "messagerie.letters.intake.antivirus",
    "messagerie.letters.mail.unmatched",
    "messagerie.letters.pdf.ar",
    "messagerie.letters.pdf.bundle",
    "messagerie.letters.pdf.certificate",
)
MODULE = "messagerie.tui.cli"
REQUEST_LIMIT = 1 << 20


@dataclass(frozen=True)
class Run:
    """What one child runs: `python -m messagerie.tui.cli *arguments` in `cwd` with `env`."""

    arguments: list[str]
    cwd: str
    env: dict[str, str]
    descriptors: list[int]


def serve(path: str) -> Run:
    """Serve runs until the parent closes our stdin; return (in the child only) the run to do."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(sys.stdin, selectors.EVENT_READ)
    print("ready", flush=True)
    waiting: dict[int, tuple[int, socket.socket]] = {}  # pidfd -> (pid, its connection)
    while True:
        for key, _ in selector.select():
            if key.fileobj is sys.stdin:
                if not os.read(0, 1024):
                    sys.exit(0)  # the tests' process is gone: so are we
            elif key.fileobj is listener:
                connection, _ = listener.accept()
                request, descriptors = receive(connection)
                pid = os.fork()
                if pid == 0:
                    selector.close()
                    listener.close()
                    connection.close()
                    for other_pidfd, (_, other) in waiting.items():
                        os.close(other_pidfd)
                        other.close()
                    return Run(request["arguments"], request["cwd"], request["env"], descriptors)
                for descriptor in descriptors:
                    os.close(descriptor)
                connection.sendall(f"{pid}\n".encode())
                pidfd = os.pidfd_open(pid)
                waiting[pidfd] = (pid, connection)
                selector.register(pidfd, selectors.EVENT_READ)
            else:
                pidfd = key.fd
                pid, connection = waiting.pop(pidfd)
                selector.unregister(pidfd)
                os.close(pidfd)
                _, status = os.waitpid(pid, 0)
                connection.sendall(f"{os.waitstatus_to_exitcode(status)}\n".encode())
                connection.close()


def receive(connection: socket.socket) -> tuple[dict, list[int]]:
    """A request's JSON line, which may come in several reads, and its three descriptors."""
    message, descriptors, _, _ = socket.recv_fds(connection, REQUEST_LIMIT, 3)
    while not message.endswith(b"\n"):
        more = connection.recv(REQUEST_LIMIT)
        if not more:  # the client left mid-request: fail loudly rather than wait for ever
            raise ConnectionError("a request ended before its line did")
        message += more
    return json.loads(message), descriptors


def run(child: Run) -> None:
    """In the child: become the command's process, then run it as `python -m` would."""
    for target, descriptor in enumerate(child.descriptors):
        os.dup2(descriptor, target)
        os.close(descriptor)
    os.chdir(child.cwd)
    os.environ.clear()
    os.environ.update(child.env)
    time.tzset()
    sys.argv = [MODULE, *child.arguments]
    runpy.run_module(MODULE, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    for name in PRELOADED:
        importlib.import_module(name)
    run(serve(sys.argv[1]))
