"""The `messagerie` command line, run for real in a child process: forked by a server that
imported the command's libraries once (tests/helpers/zygote.py), or started afresh when the
test's variables are ones the interpreter reads only as it starts."""

import atexit
import json
import locale
import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120
# Read by the interpreter as it starts, before any test's variable could reach a forked child.
STARTUP_VARIABLES = ("PYTHON", "LANG", "LC_")

_server: tuple[subprocess.Popen, str] | None = None


def messagerie(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "messagerie.tui.cli", *arguments]
    environment = {**os.environ, **(env or {})}
    if any(name.startswith(STARTUP_VARIABLES) for name in env or {}):
        return subprocess.run(
            command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=TIMEOUT
        )
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        with open(os.devnull, "rb") as nothing, socket.socket(socket.AF_UNIX) as connection:
            connection.connect(server_path())
            request = {"arguments": list(arguments), "cwd": str(ROOT), "env": environment}
            descriptors = [nothing.fileno(), out.fileno(), err.fileno()]
            socket.send_fds(connection, [json.dumps(request).encode() + b"\n"], descriptors)
            connection.settimeout(TIMEOUT)
            answer = connection.makefile("rb")
            pid = int(answer.readline())
            try:
                returncode = int(answer.readline())
            except TimeoutError:
                os.kill(pid, signal.SIGKILL)
                raise subprocess.TimeoutExpired(command, TIMEOUT) from None
        return subprocess.CompletedProcess(command, returncode, text_of(out), text_of(err))


def text_of(file) -> str:
    """What the child wrote, read as subprocess.run(text=True) reads it."""
    file.seek(0)
    text = file.read().decode(locale.getpreferredencoding(False))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def server_path() -> str:
    """The socket of this process's fork server, started at the first run."""
    global _server
    if _server is None:
        folder = tempfile.mkdtemp(prefix="messagerie-zygote-")
        path = os.path.join(folder, "socket")
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.helpers.zygote", path],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert process.stdout is not None and process.stdout.readline() == b"ready\n"
        _server = process, path
    return _server[1]


def stop_server() -> None:
    """End the fork server (the next run starts another), and remove its socket."""
    global _server
    if _server is not None:
        process, path = _server
        _server = None
        process.communicate()  # closes its stdin: it ends
        os.unlink(path)
        os.rmdir(os.path.dirname(path))


atexit.register(stop_server)


def messagerie_at_a_terminal(*arguments: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """The command with a terminal on its input and output (a pseudo-terminal of 80×24), its
    errors on a pipe apart: the TUI as a person starts it. What it drew is `stdout`."""
    import fcntl
    import pty
    import struct
    import termios
    import threading

    main, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    command = [sys.executable, "-m", "messagerie.tui.cli", *arguments]
    environment = {**os.environ, "TERM": "xterm-256color", **env}
    environment.pop("TEXTUAL_DRIVER", None)
    drawn = bytearray()

    def drain() -> None:  # a full terminal would stop the child mid-frame
        try:
            while chunk := os.read(main, 65536):
                drawn.extend(chunk)
        except OSError:  # the child is gone: EIO
            pass

    reader = threading.Thread(target=drain, daemon=True)
    with subprocess.Popen(command, cwd=ROOT, env=environment, stdin=terminal, stdout=terminal,
                          stderr=subprocess.PIPE, start_new_session=True) as child:  # fmt: skip
        os.close(terminal)
        reader.start()
        try:
            _, errors = child.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            child.kill()
            raise
    reader.join(timeout=5)
    os.close(main)
    return subprocess.CompletedProcess(
        command, child.returncode, drawn.decode(errors="replace"), errors.decode()
    )
