"""Hostile text from outside, put straight into a private copy of the demo (bypassing the
import, which refuses control characters), and what the screen shows of it.

One consultation of the demo, with lots, questions, dépôts and a sent message answered by a
company, gets markup, ANSI escapes, bidi and zero-width characters, a 10,000-character name,
emoji and combining marks in every text a company or an import writes."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from rich.console import Console
from textual.pilot import Pilot

from messagerie.models.messages.drafts import DraftRecipient, DraftRequest, create_draft
from messagerie.models.store.enums import MessageType
from messagerie.models.text import search_text

CLICK = "[@click=app.quit]clic[/]"
ACME = f"[/oops] ACME {CLICK}"  # the company of issue 17
LINK = "[link=https://evil.example]x[/link]"
ESC = "\x1b[31mROUGE\x1b[0m"
SHOWN_ESC = "␛[31mROUGE␛[0m"  # ESC written raw would turn the buyer's terminal red
LONG = "Société " + "L" * 9_992  # 10,000 characters
CORPUS = (
    ACME,
    "[b]gras[/b] SARL",
    CLICK,
    f"Agence {LINK}",
    f"{ESC} SAS",
    "Société \u202eLIVE\u202c Nord",  # RIGHT-TO-LEFT OVERRIDE … POP DIRECTIONAL FORMATTING
    "Zéro\u200bLargeur\u200d\ufeff SA",  # zero-width space, joiner, no-break space
    LONG,
    "Boulangerie 🥖🇫🇷 e\u0301te\u0301",  # emoji, a flag, combining acute accents
)
REFERENCE = "2026-HOSTILE"
TITLE = f"[b]gras[/b] Marché [/oops] {CLICK}"
OBJECT = f"Objet {LINK} e\u0301te\u0301 🥖 \u202eLIVE\u202c {ESC}"
ENTITY = "[@click=app.quit]Entité[/] d'achat"
LOT_TITLES = ("Lot [/oops]", LINK, "Lot 🥖🇫🇷 e\u0301te\u0301", f"Lot {ESC}", CLICK)
QUESTION = f"{CLICK} Faut-il [/oops] un {ESC} ?"
SUBJECT = f"[/oops] Objet {CLICK}"
BODY = f"Bonjour [b]gras[/b] {LINK}"
REPLY = f"Réponse {LINK} [/oops] \u200b{CLICK}"
FILENAME = f"[/oops]pièce {CLICK}.pdf"
DCE_PATH = "[/oops]DCE [b]gras[/b].pdf"
DRAFT_SUBJECT = "[@click=app.quit]Brouillon[/] [/oops]"
SUITE_TITLE = f"Suite {CLICK}"

CANDIDATE = sa.text(
    """
    select c.id, m.id as message_id, r.id as recipient_id, p.id as reply_id
    from consultation c
    join message m on m.consultation_id = c.id and m.state = 'queued'
    join recipient r on r.message_id = m.id and r.company_id is not null
    join reply p on p.recipient_id = r.id
    where c.parent_id is null
      and (select count(*) from lot where lot.consultation_id = c.id) >= 2
      and exists (select 1 from register_entry e
                  where e.consultation_id = c.id and e.kind = 'question')
      and (select count(distinct e.company_id) from register_entry e
           where e.consultation_id = c.id and e.kind = 'deposit') >= 3
      and (select count(distinct e.company_id) from register_entry e
           where e.consultation_id = c.id) >= :names
    order by c.id, m.id, r.id, p.id
    limit 1
    """
)


@dataclass(frozen=True)
class Hostile:
    consultation_id: int
    message_id: int
    recipient_id: int
    reply_id: int
    companies: dict[int, str]  # company id → its hostile name
    deposits: tuple[str, ...]  # the names of the companies of the dépôts, register order
    lots: tuple[str, ...]  # "Lot n°1 - Lot [/oops]", …


def make_hostile(store) -> Hostile:  # type: ignore[no-untyped-def]
    """Put the corpus into one consultation of the store (a private copy of the demo)."""
    with store.engine.begin() as connection:
        found = connection.execute(CANDIDATE, {"names": len(CORPUS)}).one()  # each name once
        cid = found.id
        companies = _rename_companies(connection, cid)
        lots = _rename_lots(connection, cid)
        _rename_consultation(connection, cid)
        _write_texts(connection, found)
        _add_files(connection, found)
        _add_suite(connection, cid)
        deposits = tuple(
            companies[company_id]
            for company_id in connection.execute(
                sa.text(
                    "select distinct company_id from register_entry where consultation_id = :c"
                    " and kind = 'deposit' order by company_id"
                ),
                {"c": cid},
            ).scalars()
        )
    draft = DraftRequest(
        cid, MessageType.FREE, (DraftRecipient("brouillon@entreprise.example"),), (),
        subject=DRAFT_SUBJECT, body=BODY,
    )  # fmt: skip
    create_draft(store, draft, actor="marie.dupont")
    return Hostile(
        cid, found.message_id, found.recipient_id, found.reply_id, companies, deposits, lots
    )


def _rename_companies(connection, cid: int) -> dict[int, str]:  # type: ignore[no-untyped-def]
    """Every company of the consultation's registers gets a name of the corpus (in turn, the
    dépôts' first: the mail-merge has several to read), every contact another one."""
    ids = connection.execute(
        sa.text(
            "select company_id from register_entry where consultation_id = :c"
            " group by company_id order by max(kind = 'deposit') desc, company_id"
        ),
        {"c": cid},
    ).scalars()
    companies = {company_id: CORPUS[i % len(CORPUS)] for i, company_id in enumerate(ids)}
    for company_id, name in companies.items():
        connection.execute(
            sa.text("update company set name = :n where id = :i"), {"n": name, "i": company_id}
        )
    entries = connection.execute(
        sa.text("select id from register_entry where consultation_id = :c order by id"),
        {"c": cid},
    ).scalars()
    for i, entry_id in enumerate(entries):
        connection.execute(
            sa.text("update register_entry set contact_name = :n where id = :i"),
            {"n": CORPUS[(i + 3) % len(CORPUS)], "i": entry_id},
        )
    connection.execute(
        sa.text(
            "update register_entry set question_text = :q where consultation_id = :c"
            " and kind = 'question'"
        ),
        {"q": QUESTION, "c": cid},
    )
    return companies


def _rename_lots(connection, cid: int) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    numbers = connection.execute(
        sa.text("select number from lot where consultation_id = :c order by number"), {"c": cid}
    ).scalars()
    labels = []
    for i, number in enumerate(numbers):
        title = LOT_TITLES[i % len(LOT_TITLES)]
        connection.execute(
            sa.text("update lot set title = :t where consultation_id = :c and number = :n"),
            {"t": title, "c": cid, "n": number},
        )
        labels.append(f"Lot n°{number} - {title}")
    return tuple(labels)


def _rename_consultation(connection, cid: int) -> None:  # type: ignore[no-untyped-def]
    entity_id = connection.execute(
        sa.text("select entity_id from consultation where id = :c"), {"c": cid}
    ).scalar_one()
    connection.execute(
        sa.text("update purchasing_entity set name = :n where id = :e"),
        {"n": ENTITY, "e": entity_id},
    )
    connection.execute(
        sa.text(
            "update consultation set reference = :r, title = :t, object = :o, search_text = :s"
            " where id = :c"
        ),
        {
            "r": REFERENCE,
            "t": TITLE,
            "o": OBJECT,
            "s": search_text(REFERENCE, TITLE, OBJECT, ENTITY),
            "c": cid,
        },
    )


def _write_texts(connection, found) -> None:  # type: ignore[no-untyped-def]
    connection.execute(
        sa.text("update message set subject = :s, body = :b where id = :m"),
        {"s": SUBJECT, "b": BODY, "m": found.message_id},
    )
    connection.execute(
        sa.text("update reply set body = :b where id = :r"), {"b": REPLY, "r": found.reply_id}
    )


def _document(connection, cid: int, filename: str, origin: str) -> int:  # type: ignore[no-untyped-def]
    return connection.execute(
        sa.text(
            "insert into document (filename, sha256, size, media_type, origin, antivirus,"
            " consultation_id, created_at, created_by) values (:f, :h, 2048,"
            " 'application/pdf', :o, 'clean', :c, :t, 'marie.dupont') returning id"
        ),
        {"f": filename, "h": "ab" * 32, "o": origin, "c": cid, "t": datetime.now(UTC)},
    ).scalar_one()


def _add_files(connection, found) -> None:  # type: ignore[no-untyped-def]
    """The file name on the message, on the reply, and a DCE piece."""
    cid = found.id
    attached = _document(connection, cid, FILENAME, "attachment")
    connection.execute(
        sa.text("insert into attachment (message_id, document_id) values (:m, :d)"),
        {"m": found.message_id, "d": attached},
    )
    replied = _document(connection, cid, FILENAME, "reply")
    connection.execute(
        sa.text("insert into reply_attachment (reply_id, document_id) values (:r, :d)"),
        {"r": found.reply_id, "d": replied},
    )
    number = connection.execute(
        sa.text("select coalesce(max(number), 0) + 1 from dce_version where consultation_id = :c"),
        {"c": cid},
    ).scalar_one()
    version = connection.execute(
        sa.text(
            "insert into dce_version (consultation_id, number, created_at, author, comment)"
            " values (:c, :n, :t, :a, :m) returning id"
        ),
        {"c": cid, "n": number, "t": datetime.now(UTC), "a": "marie.dupont", "m": CLICK},
    ).scalar_one()
    piece = _document(connection, cid, DCE_PATH, "dce")
    connection.execute(
        sa.text(
            "insert into dce_piece (version_id, document_id, path, position) values (:v, :d, :p, 0)"
        ),
        {"v": version, "d": piece, "p": DCE_PATH},
    )


def _add_suite(connection, cid: int) -> None:  # type: ignore[no-untyped-def]
    parent = connection.execute(
        sa.text("select * from consultation where id = :c"), {"c": cid}
    ).one()
    connection.execute(
        sa.text(
            "insert into consultation (reference, title, object, procedure, status,"
            " bid_deadline, urgent, entity_id, organisation_id, parent_id, access_code,"
            " created_at, search_text)"
            " values (:r, :t, :o, 'restricted_tender', 'open', :d, 0, :e, :g, :c, 'CODE-1234',"
            " :now, :s)"
        ),
        {
            "r": f"{REFERENCE}-S1",
            "t": SUITE_TITLE,
            "o": OBJECT,
            "d": parent.bid_deadline,
            "e": parent.entity_id,
            "g": parent.organisation_id,
            "c": cid,
            "now": datetime.now(UTC),
            "s": search_text(f"{REFERENCE}-S1", SUITE_TITLE),
        },
    )


def screen_text(pilot: Pilot) -> str:
    """What the terminal shows, character for character (toasts and dialogs included)."""
    app = pilot.app
    width, height = app.size
    console = Console(
        width=width, height=height, file=io.StringIO(), force_terminal=True, record=True,
        color_system=None, legacy_windows=False, safe_box=False,
    )  # fmt: skip
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text()


def on_screen(pilot: Pilot, text: str) -> bool:
    """`text` is shown on one line of the screen."""
    return any(text in line for line in screen_text(pilot).splitlines())


def toasts(pilot: Pilot) -> list[str]:
    """The notifications shown, title and message, as the buyer reads them."""
    return [str(toast.render()) for toast in pilot.app.screen.query("Toast")]


async def click_on(pilot: Pilot, text: str) -> None:
    """Click where `text` is shown, as a buyer with a mouse would (a `[@click=…]` read as
    markup would run its action there)."""
    for y, line in enumerate(screen_text(pilot).splitlines()):
        x = line.find(text)
        if x >= 0:
            await pilot.click(offset=(x + 1, y))
            return
    raise AssertionError(f"« {text} » is not on the screen")
