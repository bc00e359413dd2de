"""The recipients' web page over HTTP (urllib): a request and its answer, the page's text,
the reply form's key, and a reply with files (multipart)."""

from __future__ import annotations

import html
import re
import urllib.error
import urllib.request


def fetch(url: str, data: bytes | None = None, headers: dict[str, str] | None = None):
    """(status, headers, body) of one request; errors are answers too."""
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def shown(body: bytes) -> str:
    """The page's text as a reader sees it (entities decoded)."""
    return html.unescape(body.decode())


def reply_form(html: str) -> dict[str, str]:
    return {"cle": re.search(r'name="cle" value="([0-9a-f]+)"', html)[1]}


def multipart(fields: dict[str, str], files: list[tuple[str, bytes]] = ()) -> tuple[bytes, str]:
    boundary = "----portail-test"
    chunks = []
    for name, value in fields.items():
        disposition = f'Content-Disposition: form-data; name="{name}"'
        chunks.append(f"--{boundary}\r\n{disposition}\r\n\r\n{value}\r\n".encode())
    for filename, data in files:
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="fichiers"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
            + data
            + b"\r\n"
        )
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def post_reply(url: str, fields: dict[str, str], files=()):
    body, content_type = multipart(fields, list(files))
    return fetch(url, body, {"Content-Type": content_type})
