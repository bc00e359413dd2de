"""The shared pipeline of every letter: jinja2 template -> HTML -> PDF (weasyprint).

Templates live in `letters/templates/` and extend `base.html`, which links `letter.css`.
Rendering never touches the network: the URL fetcher only reads the package's own files
(templates, stylesheet, fonts), an optional override folder and `data:` URIs.

weasyprint is imported inside `render_pdf` only: importing it costs ≈ 0.8 s, which the TUI
must not pay at start-up (STACK-NOTES.md).
"""

from __future__ import annotations

import functools
import logging
import re
import traceback
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import jinja2
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from messagerie.letters import PACKAGE_DIR, TEMPLATES_DIR
from messagerie.models.errors import Refusal
from messagerie.models.formatting import (
    LOCALE,
    PARIS,
    PARIS_ZONE,
    in_paris,
    paris_minutes,
    paris_time,
)

LOGGER = logging.getLogger(__name__)


class TemplateProblem(Refusal):
    """A template that cannot be used: not found, invalid syntax, a missing variable, or a
    mandatory mention it does not print.

    `str()` is a French sentence the buyer can read; `template` and `line` say where. A
    refusal: the form that asked for the letter says it and keeps what was typed.
    """

    def __init__(self, message: str, *, template: str | None = None, line: int | None = None):
        super().__init__(message)
        self.template = template
        self.line = line


# --- French dates -------------------------------------------------------------------------


def _paris_day(value: date | datetime) -> date:
    """The Paris calendar day of a datetime (naive = UTC, as the store hands them out)."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(PARIS).date()
    return value


def date_fr(value: date | datetime) -> str:
    """ "14/02/2026" (the Paris day of a datetime)."""
    return format_date(_paris_day(_required(value, "date_fr")), "dd/MM/yyyy", locale=LOCALE)


def datetime_fr(value: datetime, zone: bool = False) -> str:
    """ "14/02/2026 12:00", Europe/Paris; `zone`: "14/02/2026 12:00 (heure de Paris)"."""
    return paris_minutes(_aware(value, "datetime_fr"), zone=PARIS_ZONE if zone else "")


def time_fr(value: datetime, zone: bool = False) -> str:
    """ "12:00", Europe/Paris; `zone`: "12:00 (heure de Paris)"."""
    moment = _aware(value, "time_fr")
    return in_paris(paris_time(moment, "HH:mm"), moment, zone=PARIS_ZONE if zone else "")


def _aware(value: datetime, filter_name: str) -> datetime:
    """A time given to a filter, naive read as UTC (the store's), as `date_fr` reads it."""
    moment: datetime = _required(value, filter_name)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def long_date_fr(value: date | datetime) -> str:
    """ "27 novembre 2026"; the first of the month is written "1er novembre 2026"."""
    day = _paris_day(_required(value, "long_date_fr"))
    text = format_date(day, "d MMMM yyyy", locale=LOCALE)
    return "1er" + text[1:] if day.day == 1 else text


def _required(value: Any, filter_name: str) -> Any:
    if value is None or isinstance(value, jinja2.Undefined):
        raise jinja2.UndefinedError(f"le filtre {filter_name} a reçu une valeur vide")
    return value


# --- French numbers --------------------------------------------------------------------------


def number_fr(value: Decimal | int | float) -> str:
    """ "14,5", "1 200" (French decimal comma and digit grouping)."""
    return format_decimal(_required(value, "number_fr"), locale=LOCALE)


def amount_fr(value: Decimal | int | float) -> str:
    """ "12 345,60 €" (a narrow no-break space groups the digits, as babel writes it)."""
    return format_currency(_required(value, "amount_fr"), "EUR", locale=LOCALE)


FILTERS = {
    function.__name__: function
    for function in (date_fr, datetime_fr, time_fr, long_date_fr, number_fr, amount_fr)
}


# --- The jinja2 environment ---------------------------------------------------------------


def _refuse_none(value: Any) -> Any:
    """Printing None in a letter is always a bug: fail like a missing variable would."""
    if value is None:
        raise jinja2.UndefinedError("une valeur vide (None) est affichée")
    return value


@functools.cache
def environment(templates_dir: Path | None = None) -> jinja2.Environment:
    """The environment of the letters; a file of `templates_dir` wins over the built-in one."""
    # By path, not by package name: installed, the package is `messagerie.letters`, and a
    # loader naming `letters` worked only from the checkout's folder.
    built_in = jinja2.FileSystemLoader(TEMPLATES_DIR)
    loader: jinja2.BaseLoader = built_in
    if templates_dir is not None:
        loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(templates_dir), built_in])
    env = jinja2.Environment(
        loader=loader,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=_refuse_none,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    return env


def render_html(
    template_name: str, context: Mapping[str, Any], *, templates_dir: Path | None = None
) -> str:
    """The HTML of a letter; any template problem is raised as a `TemplateProblem`.

    A template of `templates_dir` (the organisation's override folder) wins over the built-in
    one; a broken override is reported, never silently replaced by the built-in template."""
    if templates_dir is not None and not templates_dir.is_dir():
        # Otherwise every template would quietly come from the package.
        raise TemplateProblem(f"Le dossier des modèles « {templates_dir} » est introuvable.")
    env = environment(templates_dir)
    try:
        template = env.get_template(template_name)
        return template.render(context)
    except jinja2.TemplateSyntaxError as error:
        name = error.name or template_name
        raise TemplateProblem(
            f"Le modèle « {name} » contient une erreur de syntaxe à la ligne {error.lineno} : "
            f"{error.message}{_overridden(error.filename, templates_dir)}",
            template=name,
            line=error.lineno,
        ) from error
    except jinja2.TemplateNotFound as error:
        raise TemplateProblem(
            f"Le modèle « {error.name} » est introuvable.", template=str(error.name)
        ) from error
    except UnicodeDecodeError as error:
        raise TemplateProblem(
            f"Un modèle utilisé par « {template_name} » n'est pas encodé en UTF-8 "
            f"(octet 0x{error.object[error.start]:02X}) : enregistrez-le en UTF-8.",
            template=template_name,
        ) from error
    except jinja2.UndefinedError as error:
        _raise_undefined(error, template_name, templates_dir)


def _raise_undefined(
    error: jinja2.UndefinedError, template_name: str, templates_dir: Path | None
) -> NoReturn:
    name, line, path = template_name, None, None
    # jinja2 rewrites the traceback so that template frames carry the template's file and line.
    for frame, lineno in traceback.walk_tb(error.__traceback__):
        filename = frame.f_code.co_filename
        if filename.endswith(".html"):
            name, line, path = Path(filename).name, lineno, filename
    where = f" (ligne {line})" if line else ""
    raise TemplateProblem(
        f"Le modèle « {name} »{where} utilise une donnée absente : {_in_french(error.message)}"
        f"{_overridden(path, templates_dir)}",
        template=name,
        line=line,
    ) from error


def _overridden(filename: str | None, templates_dir: Path | None) -> str:
    """Says the faulty template is the organisation's own copy, so nobody hunts for a bug."""
    if filename is None or templates_dir is None:
        return ""
    path = Path(filename).resolve()
    if not path.is_relative_to(templates_dir.resolve()):
        return ""
    return f" (modèle de l'organisme : {path})"


def _in_french(message: str | None) -> str:
    """jinja2's two usual undefined messages, in French; anything else as it is."""
    text = message or ""
    if match := re.fullmatch(r"'(.+)' is undefined", text):
        return f"« {match[1]} » n'est pas fourni"
    if match := re.fullmatch(r"'(.+)' has no attribute '(.+)'", text):
        return f"« {match[1]} » n'a pas d'attribut « {match[2]} »"
    return text


# --- HTML -> PDF --------------------------------------------------------------------------


def render_pdf(
    template_name: str, context: Mapping[str, Any], *, templates_dir: Path | None = None
) -> bytes:
    """The PDF of a letter, rendered offline with the fonts shipped in `letters/fonts/`."""
    html = render_html(template_name, context, templates_dir=templates_dir)
    return html_to_pdf(html, extra_roots=(templates_dir,) if templates_dir else ())


def html_to_pdf(
    html: str, *, extra_roots: tuple[Path, ...] = (), pdf_variant: str | None = None
) -> bytes:
    """HTML (already rendered) to PDF; relative URLs resolve against `letters/templates/`.
    `pdf_variant` e.g. "pdf/a-3b" for documents kept as proof."""
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    from messagerie.letters.pdf.offline import OfflineFetcher

    fetcher = OfflineFetcher(roots=(PACKAGE_DIR, *extra_roots))
    document = HTML(string=html, base_url=TEMPLATES_DIR.as_uri() + "/", url_fetcher=fetcher)
    pdf = document.write_pdf(font_config=FontConfiguration(), pdf_variant=pdf_variant)
    assert pdf is not None  # write_pdf returns the bytes when no target is given
    return pdf
