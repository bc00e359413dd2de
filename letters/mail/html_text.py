"""The plain text of an HTML e-mail (a reply sent with only a text/html part).

The standard library's html.parser, which never runs or fetches anything: tags give the
line breaks and list dashes a reader expects, scripts, styles and the head are dropped,
entities are decoded once (so « &lt;b&gt; » becomes the text « <b> », shown as typed like
any other text from outside), a link's address is written after its text. No HTML renderer
is a dependency of the project (pyproject.toml), and none is needed to read a reply.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Elements whose content is never text for a reader (not <head>: often left open, it would
# hide the body; what it holds is hidden one by one).
HIDDEN = frozenset({"script", "style", "title", "template", "noscript", "svg", "math"})
# Elements that start and end a line (a paragraph, a list item, a table row…).
BLOCKS = frozenset({
    "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "fieldset",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tr", "ul",
})  # fmt: skip
LINK_PIECES = 8  # a link's text longer than this is not its address (and never re-read)
PARAGRAPHS = frozenset({"p", "blockquote", "table", "pre", "ul", "ol", "dl"})
SPACES = re.compile(r"[ \t\r\n\f\v]+")
BLANK_LINES = re.compile(r"\n{3,}")
TAG = re.compile(r"<[^>]*>?")


class _TextOfHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str | int] = []  # text, or the line breaks a tag asks for
        self.hidden = 0  # depth inside a HIDDEN element
        self.preformatted = 0
        self.links: list[tuple[str | None, int]] = []  # open <a>: its href, where its text starts

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in HIDDEN:
            self.hidden += 1
        elif tag == "br":
            self.pieces.append("\n")
        elif tag in BLOCKS:
            self.pieces.append(2 if tag in PARAGRAPHS else 1)
            self.pieces.append("- " if tag == "li" else "")
            self.preformatted += tag == "pre"
        elif tag in {"td", "th"}:
            self.pieces.append("\t")
        elif tag == "a":
            self.links.append((dict(attrs).get("href"), len(self.pieces)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in HIDDEN:  # <br/>, <p/>: a line break; <script/> hides nothing
            self.handle_starttag(tag, attrs)
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in BLOCKS:
            self.pieces.append(2 if tag in PARAGRAPHS else 1)
            self.preformatted = max(0, self.preformatted - (tag == "pre"))
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            address = " ".join((href or "").split())
            words = self.pieces[start:] if len(self.pieces) - start <= LINK_PIECES else []
            shown = "".join(p for p in words if isinstance(p, str)).strip()
            if address and not address.startswith("#") and address != shown and not self.hidden:
                self.pieces.append(f" <{address}>")  # where the link leads, not only its words

    def text(self) -> str:
        """The pieces joined: the breaks asked for between two texts make one run of line
        breaks, the longest of them (a list item ends and the next starts: one line)."""
        out: list[str] = []
        pending = 0
        for piece in self.pieces:
            if isinstance(piece, int):
                pending = max(pending, piece)
            elif piece:
                out.append("\n" * pending if out else "")
                out.append(piece)
                pending = 0
        return "".join(out)

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        self.pieces.append(data if self.preformatted else SPACES.sub(" ", data))


def html_text(html: str) -> str:
    """What a reader of `html` would read, as plain text (never an error: markup the parser
    cannot follow is stripped)."""
    parser = _TextOfHtml()
    try:
        parser.feed(html)
        parser.close()
        text = parser.text()
    except Exception:  # the parser gave up on some input: its tags removed, by hand
        text = SPACES.sub(" ", TAG.sub(" ", html))
    lines = (line.strip(" \t") for line in text.replace("\r", "").split("\n"))
    return BLANK_LINES.sub("\n\n", "\n".join(lines)).strip("\n")
