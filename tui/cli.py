"""The single entry point: `messagerie [COMMAND]` (see README, "Command line")."""

from __future__ import annotations

import argparse
import gc
import os
import re
import sys
import time
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn, TextIO

from messagerie.models.clock import paris_today, utc_now
from messagerie.models.text import ascii_digits, escaped_controls, whole_number

if TYPE_CHECKING:
    import logging
    from datetime import datetime
    from pathlib import Path

    from messagerie.letters.pdf.anchor import AnchorsRead
    from messagerie.models.messages.bundle import ManifestSignature
    from messagerie.models.store.accounts import Account, AccountChange
    from messagerie.models.store.chain import ChainCheck
    from messagerie.models.store.database import Store
    from messagerie.tui.app import MessagerieApp as App
    from messagerie.tui.settings import Settings

PROGRAM = "messagerie"
ANCHORS_DEFAULT = "(sinon MESSAGERIE_ANCHOR_DIR, ou ancrages/ dans le dossier des données)"
# On the demo's store only: the account to open it as, to show the demo as each of them.
DEMO_LOGIN = "MESSAGERIE_DEMO_LOGIN"
# --every, as MESSAGERIE_OUTBOX_EVERY (tui/settings.py): a day at most between two passes.
MAX_INTERVAL = 86_400

# argparse's "argument NAME: problem", the problem in French after the name.
_ARGUMENT_PROBLEMS = (
    (r"invalid int value: '(.*)'", r" : « \2 » n'est pas un nombre entier"),
    (r"invalid float value: '(.*)'", r" : « \2 » n'est pas un nombre"),
    (r"invalid choice: '(.*)' \(choose from (.*)\)", r" : « \2 » n'est pas un choix possible (\3)"),
    (r"expected one argument", r" attend une valeur"),
    (r"expected at most one argument", r" attend au plus une valeur"),
    (r"expected at least one argument", r" attend une valeur"),
    (r"not allowed with argument (.*)", r" exclut \2"),
    (r"ignored explicit argument (.*)", r" n'accepte pas de valeur (\2)"),
)
_ARGPARSE_MESSAGES = [
    (re.compile(english), french)
    for english, french in (
        (
            r"argument (?:command|COMMANDE): invalid choice: '([^']*)'.*",
            r"sous-commande inconnue « \1 » (demo, import, outbox, inbound, portal, ar, export, "
            r"verify, dkim-record, status, serve, db, comptes, ou rien pour ouvrir l'application)",
        ),
        (
            r"argument db_command: invalid choice: '([^']*)'.*",
            r"« db \1 » inconnu (seule « db upgrade » existe)",
        ),
        (
            r"argument (?:accounts_command|ajouter\S*): invalid choice: '([^']*)'.*",
            r"« comptes \1 » inconnu (ajouter, lister, modifier ou retirer)",
        ),
        (r"unrecognized arguments: (.*)", r"argument inconnu : \1"),
        (r"the following arguments are required: (.*)", r"argument manquant : \1"),
        (r"one of the arguments (.*) is required", r"un de ces arguments est requis : \1"),
        (r"ambiguous option: (\S+) could match (.*)", r"option ambiguë : \1 (\2 ?)"),
        *((rf"argument (.+): {problem}", rf"\1{french}") for problem, french in _ARGUMENT_PROBLEMS),
        (r"argument (.+?): (« .*)", r"\1 : \2"),  # our own types' words (port_number…)
        (r"argument (.+?): (.*)", r"argument \1 : \2"),
    )
]


class FrenchHelpFormatter(argparse.HelpFormatter):
    """`--help` in French: the usage line's prefix (argparse writes "usage: ")."""

    def add_usage(self, usage, actions, groups, prefix=None):  # type: ignore[no-untyped-def]
        super().add_usage(usage, actions, groups, "Usage : " if prefix is None else prefix)


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    """argparse in French: the help's headings and its -h line, and a usage error as one
    French line and exit code 2 (argparse's own strings go through gettext, for which no
    French catalogue is installed: they are replaced here)."""

    def __init__(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        options.setdefault("formatter_class", FrenchHelpFormatter)
        options["add_help"] = False
        super().__init__(*args, **options)
        self._positionals.title = "arguments"
        self._optionals.title = "options"
        self.add_argument("-h", "--help", action="help", help="afficher cette aide et quitter")

    def error(self, message: str) -> NoReturn:
        for pattern, french in _ARGPARSE_MESSAGES:
            if pattern.fullmatch(message):
                message = pattern.sub(french, message)
                break
        raise UsageError(f"{message} — voir « {self.prog} --help »")


def port_number(text: str) -> int:
    """--port: a TCP port, 1 to 65535 (bind() raises OverflowError beyond)."""
    if not ascii_digits(text):
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas un nombre entier")
    port = whole_number(text, 65535)
    if not port:
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas un port (1 à 65535)")
    return port


DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]")


def domain_name(text: str) -> str:
    """--domain: a DNS name the record can be published under (« ville.fr »), lower case."""
    name = text.strip().lower().rstrip(".")
    if len(name) > 253 or not DOMAIN.fullmatch(name):
        raise argparse.ArgumentTypeError(
            f"« {text[:60]} » n'est pas un nom de domaine (exemple : ville.fr)"
        )
    return name


def row_number(text: str) -> int:
    """A recipient's number: digits the database can hold (SQLite refused more with an
    OverflowError)."""
    if not ascii_digits(text):
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas un nombre entier")
    number = whole_number(text, 2**63 - 1)
    if not number:
        raise argparse.ArgumentTypeError(f"« {text[:24]} » n'est pas un numéro de destinataire")
    return number


def interval(text: str) -> float:
    """--every: seconds, more than 0 and a day at most (time.sleep refuses inf and -1)."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas un nombre") from None
    if not 0 < seconds <= MAX_INTERVAL:  # nan included
        raise argparse.ArgumentTypeError(
            f"« {text} » : plus de 0 et {MAX_INTERVAL} secondes au plus"
        )
    return seconds


def build_parser() -> Parser:
    parser = Parser(
        prog=PROGRAM,
        description="Messagerie sécurisée des marchés publics, dans le terminal.",
    )
    parser.add_argument("--db", metavar="URL", help="base de données (sinon MESSAGERIE_DB)")
    parser.add_argument(
        "--data-dir", metavar="DOSSIER", help="dossier des données (sinon MESSAGERIE_DATA_DIR)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMANDE", parser_class=Parser)
    demo = commands.add_parser("demo", help="créer (ou --reset : recréer) la base de démonstration")
    demo.add_argument("--reset", action="store_true", help="reconstruire la démonstration")
    importing = commands.add_parser(
        "import", help="importer consultations, lots, entreprises et registres (JSON ou CSV)"
    )
    importing.add_argument("file", metavar="FICHIER", help="fichier .json ou .csv (voir README)")
    outbox = commands.add_parser("outbox", help="envoyer ce qui est en file d'attente")
    outbox.add_argument("--once", action="store_true", help="envoyer ce qui est dû, puis s'arrêter")
    outbox.add_argument(
        "--every",
        type=interval,
        metavar="SECONDES",
        help="intervalle sans --once (sinon MESSAGERIE_OUTBOX_EVERY, 30)",
    )
    inbound = commands.add_parser(
        "inbound", help="recevoir avis de remise et réponses par courriel (SMTP)"
    )
    inbound.add_argument("--host", default="127.0.0.1", help="adresse d'écoute (127.0.0.1)")
    inbound.add_argument("--port", type=port_number, default=2525, help="port d'écoute (2525)")
    portal = commands.add_parser("portal", help="servir la page web des destinataires")
    portal.add_argument("--host", help="adresse d'écoute (sinon MESSAGERIE_PORTAL_HOST, 127.0.0.1)")
    portal.add_argument(
        "--port", type=port_number, help="port d'écoute (sinon MESSAGERIE_PORTAL_PORT, 8080)"
    )
    add_proofs_parsers(commands)
    dkim_record = commands.add_parser(
        "dkim-record", help="l'enregistrement DNS (TXT) qui publie la clé DKIM"
    )
    dkim_record.add_argument("--domain", metavar="DOMAINE", type=domain_name,
                             help="domaine d'envoi (sinon ceux des entités d'achat)")  # fmt: skip
    commands.add_parser(
        "status",
        help="état de la file d'envoi, de l'antivirus et du certificat de signature (code de "
        "sortie 1 quand la file est bloquée, l'antivirus injoignable ou le certificat "
        "inutilisable)",
    )
    serve = commands.add_parser(
        "serve", help="l'application dans un navigateur, pour les démonstrations (textual-serve)"
    )
    serve.add_argument("--host", default="127.0.0.1", help="adresse d'écoute (127.0.0.1)")
    serve.add_argument("--port", type=port_number, default=8000, help="port d'écoute (8000)")
    db = commands.add_parser("db", help="gérer le schéma de la base")
    db_commands = db.add_subparsers(dest="db_command", required=True, parser_class=Parser)
    db_commands.add_parser("upgrade", help="appliquer les migrations")
    add_accounts_parser(commands)
    return parser


def add_proofs_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The commands that write or check evidence: ar, export, verify, verify-store, anchor."""
    ar = commands.add_parser("ar", help="écrire l'accusé de réception (PDF) d'un destinataire")
    ar.add_argument("recipient_id", type=row_number, metavar="ID", help="numéro du destinataire")
    ar.add_argument(
        "--out", metavar="FICHIER.pdf", help="fichier à écrire (sinon AR-<référence>-<ID>.pdf ici)"
    )
    export = commands.add_parser("export", help="écrire le lot de preuves (zip) d'une consultation")
    export.add_argument("reference", metavar="REFERENCE", help="référence de la consultation")
    export.add_argument("--out", required=True, metavar="FICHIER.zip", help="fichier à écrire")
    export.add_argument(
        "--organisation",
        metavar="NOM",
        help="l'organisation de la consultation, quand plusieurs ont cette référence",
    )
    verify = commands.add_parser(
        "verify", help="vérifier un lot de preuves (code de sortie 1 s'il a été modifié)"
    )
    verify.add_argument("bundle", metavar="FICHIER.zip", help="lot de preuves à vérifier")
    verify.add_argument(
        "--cert",
        metavar="FICHIER",
        help="certificat de la plateforme (PEM ou DER) ; sinon celui des réglages",
    )
    verify_store = commands.add_parser(
        "verify-store",
        help="vérifier l'historique de chaque destinataire, et le comparer aux ancrages (code "
        "de sortie 1 s'il a été modifié, réordonné, coupé ou réécrit)",
    )
    verify_store.add_argument(
        "--ancrages", metavar="DOSSIER", help="les ancrages à comparer " + ANCHORS_DEFAULT
    )
    verify_store.add_argument(
        "--cert",
        action="append",
        default=[],
        metavar="FICHIER",
        help="un certificat que la plateforme avait avant (PEM ou DER, à répéter) : ses "
        "ancrages comptent aussi",
    )
    anchor = commands.add_parser(
        "anchor",
        help="ancrer les historiques : l'état de chacun dans un fichier signé (et horodaté), "
        "à garder hors de ce serveur",
    )
    anchor.add_argument("--dossier", metavar="DOSSIER", help="où l'écrire " + ANCHORS_DEFAULT)


def add_accounts_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    accounts = commands.add_parser("comptes", help="les comptes, leurs entités et leurs droits")
    actions = accounts.add_subparsers(
        dest="accounts_command",
        metavar="ajouter|lister|modifier|retirer",
        required=True,
        parser_class=Parser,
    )
    add = actions.add_parser("ajouter", help="créer le compte d'un nom de connexion système")
    add.add_argument("login", metavar="LOGIN", help="nom de connexion système de la personne")
    add.add_argument("--nom", required=True, help="prénom et nom")
    add.add_argument("--courriel", required=True, metavar="ADRESSE", help="adresse e-mail")
    add.add_argument("--organisation", required=True, metavar="NOM", help="son organisme")
    add_links_arguments(add, required=True)
    add.add_argument(
        "--support", action="store_true", help="compte support : toutes les organisations"
    )
    actions.add_parser("lister", help="les comptes de votre organisation")
    modify = actions.add_parser("modifier", help="changer le nom, l'adresse, entités ou droits")
    modify.add_argument("login", metavar="LOGIN", help="nom de connexion du compte")
    modify.add_argument("--nom", help="prénom et nom")
    modify.add_argument("--courriel", "--email", metavar="ADRESSE", help="adresse e-mail")
    add_links_arguments(modify, required=False)
    modify.add_argument(
        "--toutes-entites",
        action="store_true",
        help="toutes les entités de l'organisation (au lieu de celles nommées)",
    )
    remove = actions.add_parser("retirer", help="retirer un compte")
    remove.add_argument("login", metavar="LOGIN", help="nom de connexion du compte")


def add_links_arguments(parser: argparse.ArgumentParser, *, required: bool) -> None:
    """--entite and --droits, shared by `comptes ajouter` (`required`) and `comptes modifier`
    (where what is not named stays as it is)."""
    parser.add_argument(
        "--entite",
        action="append",
        default=[],
        metavar="NOM",
        help="entité d'achat (à répéter ; sans : "
        + ("toutes celles de l'organisation)" if required else "inchangées)"),
    )
    parser.add_argument(
        "--droits",
        required=required,
        metavar="DROITS",
        help="séparés par des virgules : consult, answer, dce, send, decide, export, import, "
        "manage",
    )


def load_settings(args: argparse.Namespace) -> Settings:
    from messagerie.tui.settings import Settings

    overrides = {
        name: value
        for name, value in (("db", args.db), ("data_dir", args.data_dir))
        if value is not None
    }
    return Settings(**overrides)  # type: ignore[arg-type]


def open_store_for(args: argparse.Namespace, *, upgrade: bool = False) -> Store:
    from messagerie.models.store.database import open_store

    settings = load_settings(args)
    return open_store(settings.database_url, upgrade=upgrade, documents_dir=settings.documents_dir)


def open_tui_store(args: argparse.Namespace) -> Store:
    """The TUI's store, found from --db, --data-dir and their two variables alone: the other
    settings (and pydantic, slow to import) are read after its first page (issue 18), when
    the app first needs them (MessagerieApp.settings)."""
    from messagerie.models.store.database import open_store
    from messagerie.tui.location import StoreLocation

    location = StoreLocation.read(args.db, args.data_dir)
    return open_store(location.database_url, documents_dir=location.documents_dir)


def system_login(store: Store) -> str:
    """Who runs this command: the system login; on the demo's store only, the account that
    MESSAGERIE_DEMO_LOGIN names (to show the demo as each of its accounts)."""
    from messagerie.models.store.accounts import current_login

    demo_login = os.environ.get(DEMO_LOGIN, "").strip()
    if demo_login:
        from messagerie.models.demo.marker import DEMO_MARKER_KEY

        if store.meta(DEMO_MARKER_KEY) is not None:
            return demo_login
    return current_login()


def account_of(store: Store) -> Account | None:
    """The account of who runs this command; None for a store without accounts (single
    user); AccountMissing (exit 2, one French line) for a login without one. On PostgreSQL,
    the store's connections then declare the account's organisations (row-level security)."""
    from messagerie.models.store.accounts import resolve_account
    from messagerie.models.store.database_roles import scope_connections

    account = resolve_account(store, system_login(store))
    if account is not None:
        scope_connections(store, account.organisation_ids)
    return account


def forget_stale_terminal_size(environment: MutableMapping[str, str]) -> None:
    """COLUMNS and LINES win over the terminal's own answer in Python's size lookup, and a
    shell may export them with the size it saw at its start (bash did, in a tmux pane still at
    80×24 before its -x/-y applied): the TUI then drew at that size for good, resizes included.
    On a terminal that tells its size, the terminal is right."""
    try:
        size = os.get_terminal_size(sys.__stdout__.fileno())  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return  # no terminal: the variables are all there is
    if size.columns and size.lines:
        environment.pop("COLUMNS", None)
        environment.pop("LINES", None)


def has_terminal() -> bool:
    """Whether the TUI can be shown: a terminal on both sides, or textual-serve's driver
    (`messagerie serve` talks to it through pipes). From cron or a pipe, it drew its escape
    codes into the log and waited for keys that never came."""
    if os.environ.get("TEXTUAL_DRIVER"):
        return True
    return all(stream is not None and stream.isatty() for stream in (sys.stdin, sys.stdout))


def run_tui(args: argparse.Namespace, run: Callable[[App], object] | None = None) -> int:
    """`run`: how to run the app (bench/dashboard_start.py runs it headless); app.run()."""
    from messagerie.tui.prefetch import prefetch_first_page

    if run is None and not has_terminal():
        say(f"{PROGRAM} : l'interface a besoin d'un terminal (ici, l'entrée ou la sortie n'en "
            "est pas un) ; sans terminal, utilisez les commandes (messagerie --help).",
            file=sys.stderr)  # fmt: skip
        return 2
    forget_stale_terminal_size(os.environ)
    # First, before Textual (and its threads): a child reads the first page meanwhile.
    prefetch = prefetch_first_page(lambda: open_tui_store(args), account_of)
    from messagerie.tui.app import MessagerieApp
    from messagerie.tui.snapshot import StartupSnapshot

    app = MessagerieApp(
        open_store=lambda: open_tui_store(args),
        # One page per account: another login never sees this one's page, even for a moment.
        # The effective uid names the system login (accounts.current_login) without importing
        # SQLAlchemy before the first frame.
        snapshot=StartupSnapshot(
            args.db, args.data_dir, str(os.geteuid()), os.environ.get(DEMO_LOGIN)
        ),
        settings=lambda: load_settings(args),
        embedded=True,
        account_of=account_of,
        prefetch=prefetch,
    )
    try:
        if run is None:
            app.run()
        else:
            run(app)
    finally:
        if prefetch is not None:
            prefetch.close()
    if app.hung_up:
        # The terminal is gone and the drafts are kept: a worker still waiting for the UI's
        # thread would hold the interpreter's exit (it joins them) for ever.
        os._exit(app.return_code or 0)
    if app.failure:
        say(f"{PROGRAM} : {app.failure}", file=sys.stderr)
    return app.return_code or 0


def run_demo(args: argparse.Namespace) -> int:
    from messagerie.models.demo.install import install_demo
    from messagerie.models.store.engine import describe_url

    started = time.perf_counter()
    settings = load_settings(args)
    report = install_demo(
        settings.database_url, settings.documents_dir, paris_today(), reset=args.reset
    )
    elapsed = time.perf_counter() - started
    where = describe_url(settings.database_url)
    if report.created:
        say(
            f"Démonstration prête dans {where} : {report.consultations} "
            f"consultations, {report.companies} entreprises, {report.messages} messages "
            f"({elapsed:.1f} s)."
        )
    else:
        say(f"La démonstration est déjà en place dans {where} (rien à faire).")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from messagerie.models.errors import Refusal
    from messagerie.models.importing.registers import import_file

    store = open_store_for(args)
    try:
        account = account_of(store)  # with accounts, the author is the login, not MESSAGERIE_USER
        actor = account.login if account else load_settings(args).user
        report = import_file(store, Path(args.file), actor=actor)
    except Refusal as refusal:
        say(f"{PROGRAM} : {refusal}", file=sys.stderr)
        return 1
    finally:
        store.close()
    say(f"Import de « {args.file} » : {report.summary()}")
    return 0


def say(*parts: object, file: TextIO | None = None, flush: bool = False) -> None:
    """print() for every line the command line writes. A line may quote text from outside (an
    import file's values, a relay's or clamd's answer): its control characters are written as
    escapes, so that none retitles the terminal, moves its cursor or rewrites a line."""
    text = " ".join(str(part) for part in parts)
    print(escaped_controls(text, keep="\n\t"), file=file or sys.stdout, flush=flush)


def service_logging() -> logging.Logger:
    """Services log one line per event on stderr (tui/service_log.py); loaded when a
    service starts, not for the TUI."""
    from messagerie.tui.service_log import service_logging

    return service_logging()


def stop_on_sigterm() -> None:
    """A service ends on SIGTERM (systemd stop) as on Ctrl+C: the recipients a pass holds are
    released at once instead of waiting for their lease to run out.

    SIGTERM is turned into SIGINT rather than raising KeyboardInterrupt itself: inside
    asyncio.run, SIGINT cancels the main task at its next await, whereas an exception raised
    from a handler can land in a finaliser or a gc callback and be lost (the pass then went on
    sending for half a minute)."""
    import signal

    # SIGINT itself may come in ignored (a service started with « & » by a shell script, as
    # SIG_IGN is inherited): then SIGTERM turned into it stopped nothing.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: signal.raise_signal(signal.SIGINT))


def run_serve(args: argparse.Namespace) -> int:
    """The TUI in a browser (textual-serve): each visitor gets their own TUI process on the
    same store. No authentication: 127.0.0.1 unless the host is chosen deliberately."""
    import shlex

    from textual_serve.server import Server

    command = [sys.executable, "-m", "messagerie.tui.cli"]
    for flag, value in (("--db", args.db), ("--data-dir", args.data_dir)):
        if value:
            command += [flag, value]
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        say(f"{PROGRAM} : attention, {args.host} expose l'application sans authentification.",
              file=sys.stderr)  # fmt: skip
    server = Server(
        shlex.join(command), host=args.host, port=args.port, title="Messagerie sécurisée"
    )
    server.serve()
    return 0


def run_status(args: argparse.Namespace) -> int:
    """The outbox's and the antivirus's health, for a person or a monitoring probe: exit 1
    when the outbox is stuck or the antivirus configured but not answering (every attachment
    is then refused: the buyer's, and the companies' on the recipients' page); `off` is a
    deliberate choice, not a fault."""

    from messagerie.letters.intake.antivirus import antivirus_status
    from messagerie.letters.mail.unmatched import UNMATCHED_FOLDER, status_line
    from messagerie.models.formatting import paris_seconds
    from messagerie.models.messages.outbox import outbox_health, progress_text
    from messagerie.models.store import audit
    from messagerie.models.store.accounts import viewer_of
    from messagerie.models.store.chain import last_check

    store = open_store_for(args)
    try:
        # The last incident's detail for whoever sees its consultation only (issue 19).
        health = outbox_health(store, viewer=viewer_of(store, system_login(store)))
        chains = last_check(store)
        unguarded = audit.missing_guards(store)
    finally:
        store.close()
    antivirus = antivirus_status(load_settings(args).clamd)
    say(progress_text(health.counts))
    say("Dernier envoi : " + (paris_seconds(health.last_sent) if health.last_sent else "aucun"))
    if health.last_problem:
        at, detail = health.last_problem
        say(f"Dernier incident : {paris_seconds(at)} — {detail}")
    lines, signing_problem = signing_status(load_settings(args))
    say("\n".join(lines))
    say(chains_line(chains))
    settings = load_settings(args)
    say(anchors_status(settings.anchors_folder))
    say(audit.guard_line(unguarded))
    say(status_line(settings.data_dir / UNMATCHED_FOLDER, settings.unmatched_retention_days))
    say(antivirus.line)
    if antivirus.problem:
        say(f"Cause : {antivirus.problem}")
    # A warning, not a fault: the services run, and monitoring keeps its meaning.
    for line in exposed_files(load_settings(args)):
        say(f"Attention : {line}")
    problems = []
    stuck = health.stuck(utc_now())
    if stuck:
        problems.append(f"BLOQUÉ — {stuck}")
    if not antivirus.usable:
        problems.append("ANTIVIRUS INJOIGNABLE — les pièces jointes sont refusées")
    if signing_problem:
        problems.append(signing_problem)
    if chains is not None and chains.altered:
        problems.append(f"HISTORIQUES ALTÉRÉS — {chains.altered} destinataire(s)")
    if chains is not None and chains.doubtful_anchors:
        problems.append(f"ANCRAGES DOUTEUX — {chains.doubtful_anchors}")
    if unguarded:
        problems.append("JOURNAL D'AUDIT SANS PROTECTION")
    say("État : " + (" ; ".join(problems) or "normal"))
    return 1 if problems else 0


def chains_line(check: ChainCheck | None) -> str:
    """What `messagerie verify-store` found the last time it ran."""
    from messagerie.models.formatting import paris_seconds

    if check is None:
        return "Historiques chaînés : jamais vérifiés (messagerie verify-store)"
    when = paris_seconds(check.at)
    if check.altered:
        return (
            f"Historiques chaînés : ALTÉRÉS pour {check.altered} destinataire(s) à la "
            f"vérification du {when} ; messagerie verify-store les nomme"
        )
    if check.doubtful_anchors:
        return (
            f"Historiques chaînés : NON vérifiés contre les ancrages le {when}, "
            f"{check.doubtful_anchors} ancrage(s) ne prouvant rien ; messagerie verify-store "
            "les nomme"
        )
    return f"Historiques chaînés : intacts à la vérification du {when}"


def anchors_status(folder: Path) -> str:
    """When the histories were last anchored, from the names of the anchor files."""
    from messagerie.models.formatting import paris_seconds
    from messagerie.models.store.anchor import anchor_files, time_of

    try:
        files = anchor_files(folder)
    except OSError as error:
        from messagerie.models.errors import os_problem

        return f"Ancrages des historiques : dossier « {folder} » illisible ({os_problem(error)})"
    if not files:
        return (
            f"Ancrages des historiques : aucun dans « {folder} » (messagerie anchor ; sans "
            "ancrage, un historique réécrit en entier ne se voit pas)"
        )
    last = time_of(files[-1].name)
    assert last is not None  # anchor_files keeps only the names that give a time
    return (
        f"Ancrages des historiques : {len(files)} dans « {folder} », le dernier du "
        f"{paris_seconds(last)}"
    )


def exposed_files(settings: Settings) -> list[str]:
    """One French line, with the command that fixes it, for the SQLite store (every token and
    the page's secret), the data folder and the private keys when another account can read
    them."""
    from shlex import quote

    from messagerie.models.store.engine import readable_by_others, sqlite_files, store_file

    lines = []
    database = store_file(settings.database_url)
    if database is not None:
        files = sqlite_files(database)
        readable = [(path, mode) for path in files if (mode := readable_by_others(path))]
        if readable:
            fix = "chmod 600 " + " ".join(quote(str(path)) for path, _ in readable)
            lines.append(
                f"La base {database} est lisible par d'autres comptes ({readable[0][1]:04o}) : "
                + fix
            )
    mode = readable_by_others(settings.data_dir)
    if mode is not None:
        lines.append(
            f"Le dossier des données {settings.data_dir} est lisible par d'autres comptes "
            f"({mode:04o}) : chmod 700 {quote(str(settings.data_dir))}"
        )
    # Whoever reads a key signs ARs, bundles or e-mails as the platform.
    for what, key in (("de signature", settings.signing_key), ("de signature (PKCS#12)",
                      settings.signing_p12), ("DKIM", settings.dkim_key)):  # fmt: skip
        if key is not None and (mode := readable_by_others(key)) is not None:
            lines.append(
                f"La clé {what} {key} est lisible par d'autres comptes ({mode:04o}) : "
                f"chmod 600 {quote(str(key))}"
            )
    return lines


def signing_status(settings: Settings) -> tuple[list[str], str | None]:
    """The signing certificate in two lines (subject and expiry, fingerprint), and what stops
    the ARs from being signed, if anything. The demonstration certificate is not made here."""
    from messagerie.letters.pdf.certificate import certificate_info
    from messagerie.models.errors import Refusal
    from messagerie.models.formatting import paris_minutes, paris_time
    from messagerie.tui import services

    demo = not services.certificate_source(settings).configured
    try:
        if demo:
            certificate = services.reference_certificate(settings)
            if certificate is None:
                return [
                    "Certificat de signature : démonstration, créé au premier AR dans "
                    f"« {settings.signing_dir} »"
                ], None
            info = certificate_info(certificate)
        else:
            info = services.platform_signer(settings).info
    except Refusal as problem:
        return [f"Certificat de signature : {problem}"], "CERTIFICAT DE SIGNATURE INUTILISABLE"
    kind = " (autosigné)" if demo else ""
    lines = [
        f"Certificat de signature : {info.subject}{kind}, expire le "
        f"{paris_time(info.not_after, 'dd/MM/yyyy')}",
        f"Empreinte SHA-256 : {info.fingerprint}",
    ]
    now = utc_now()
    if info.valid_at(now):
        return lines, None
    if demo:  # ensure_demo_certificate makes a new pair at the next AR: nothing is stopped
        lines.append("Il n'est plus valide : un nouveau sera créé au prochain AR.")
        return lines, None
    if info.not_before is not None and now < info.not_before:
        valid_from = paris_minutes(info.not_before)
        return lines, f"CERTIFICAT DE SIGNATURE PAS ENCORE VALIDE (à partir du {valid_from})"
    return lines, "CERTIFICAT DE SIGNATURE EXPIRÉ — les AR ne sont plus signés"


def run_outbox(args: argparse.Namespace) -> int:
    """Send what is due (--once), or keep sending every --every seconds until interrupted."""
    from messagerie.models.errors import Refusal
    from messagerie.tui import services

    settings = load_settings(args)
    store = open_store_for(args)
    stop_on_sigterm()
    log = service_logging()
    every = args.every or settings.outbox_every
    try:
        relay = services.relay(settings)  # an unreadable URL stops: no pass could use it
        told, anchors = "", OwnAnchors()
        while True:
            try:
                report = services.outbox_pass(store, settings, relay)
            except Refusal as problem:
                # A relay or a database down for a while: the service waits for it, as the
                # French says (« partiront quand il répondra »). Ending here made systemd
                # restart it five times in ten seconds, then give up (StartLimitBurst).
                if args.once:
                    raise
                if str(problem) != told:  # once per problem, not every pass
                    told = str(problem)
                    log.warning("outbox pass failed, tried again every %gs: %s", every, told)
                    say(f"{PROGRAM} : {told} (nouvel essai toutes les {every:g} s)",
                        file=sys.stderr, flush=True)  # fmt: skip
            else:
                if told:
                    log.info("outbox pass succeeded again")
                told = ""
                say(f"File d'envoi ({relay}) : {report}", flush=True)
                log.info("outbox pass relay=%s sent=%d retried=%d refused=%d", relay,
                         report.sent, report.retried, report.refused)  # fmt: skip
                if args.once:
                    return 0
            anchor_when_due(store, settings, log, anchors)  # relay or not
            time.sleep(every)
    except Refusal as refusal:
        log.error("outbox stopped: %s", refusal)
        say(f"{PROGRAM} : {refusal}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        log.info("outbox stopped by a signal; what it held was given back")
        return 0
    finally:
        store.close()


@dataclass
class OwnAnchors:
    """The outbox service's own anchors: when the next is due (None: ask the audit log), and
    the problem last said, so that each is said once."""

    due: datetime | None = None
    told: str = ""


def anchor_when_due(store: Store, settings: Settings, log: logging.Logger, own: OwnAnchors) -> None:
    """The outbox service's own anchor (MESSAGERIE_ANCHOR_EVERY_HOURS), when it is due: said
    on its output; a problem said once, and the sending goes on. The audit log is read when
    an anchor may be due, not at every pass."""
    from messagerie.models.errors import Refusal, write_problem
    from messagerie.tui import services

    if settings.anchor_every_hours is None or (own.due is not None and utc_now() < own.due):
        return
    try:
        written, own.due = services.anchor_when_due(store, settings, actor=system_login(store))
    except (Refusal, OSError) as problem:
        said = (
            str(problem)
            if isinstance(problem, Refusal)
            else write_problem(settings.anchors_folder, problem)
        )
        if said != own.told:
            log.warning("anchor not written: %s", said)
            say(f"{PROGRAM} : ancrage non écrit : {said}", file=sys.stderr, flush=True)
        own.told = said
        return
    own.told = ""
    if written is not None:
        log.info("anchor written path=%s recipients=%d", written.path, written.recipients)
        say(f"Ancrage de {written.recipients} historique(s) écrit dans « {written.path} ».",
            flush=True)  # fmt: skip


def run_inbound(args: argparse.Namespace) -> int:
    """Listen for delivery reports and e-mailed replies until interrupted."""
    from datetime import timedelta

    from messagerie.letters.mail.inbound import InboundHandler, inbound_controller
    from messagerie.tui import services

    settings = load_settings(args)
    dns = services.dns_lookup(settings)  # a setting that is not an address: said first
    store = open_store_for(args)
    retention = timedelta(days=settings.unmatched_retention_days)
    intake = services.intake_options(settings)
    handler = InboundHandler(store, intake, unmatched_retention=retention, dns=dns)
    controller = inbound_controller(handler, args.host, args.port)
    stop_on_sigterm()  # before the port opens: a stop as soon as it answers is clean too
    try:
        controller.start()
        say(f"Réception SMTP sur {args.host}:{args.port} (Ctrl+C pour arrêter).", flush=True)
        service_logging().info("inbound listening host=%s port=%d", args.host, args.port)
        while True:
            time.sleep(3600)
    except (OSError, RuntimeError) as error:
        say(f"{PROGRAM} : impossible d'écouter sur {args.host}:{args.port} ({error}).",
              file=sys.stderr)  # fmt: skip
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        controller.stop(no_assert=True)  # also after a start that failed or was interrupted
        handler.close()
        store.close()


def run_portal(args: argparse.Namespace) -> int:
    """Serve the recipients' web page until interrupted."""

    import logging

    import uvicorn

    from messagerie.tui import services

    settings = load_settings(args)
    store = open_store_for(args)
    host, port = args.host or settings.portal_host, args.port or settings.portal_port
    service_logging()
    logging.getLogger("uvicorn").setLevel(logging.INFO)  # its start and stop, in our lines
    say(f"Page des destinataires sur http://{host}:{port} (liens : {settings.link_base}/m/…; "
          "Ctrl+C pour arrêter).", flush=True)  # fmt: skip
    try:
        uvicorn.run(services.portal(store, settings), host=host, port=port, access_log=False,
                    log_config=None)  # fmt: skip
    except (OSError, SystemExit) as error:
        say(f"{PROGRAM} : impossible d'écouter sur {host}:{port} ({error}).", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0


def run_ar(args: argparse.Namespace) -> int:
    """Write the signed AR of one recipient; one French line when there is none to write."""
    from pathlib import Path

    from messagerie.models.atomic_write import write_whole
    from messagerie.models.errors import Refusal, write_problem
    from messagerie.models.messages.ar import ar_data

    store = open_store_for(args)
    try:
        # Another organisation's recipient is « introuvable », as one that does not exist.
        account = account_of(store)
        ar_data(store, args.recipient_id, account=account)
        # weasyprint and pyHanko (a second of CPU to import) once there is an AR to draw.
        from messagerie.letters.pdf.ar import ar_filename, signed_ar
        from messagerie.tui import services

        settings = load_settings(args)
        anchor = services.last_anchor(store, settings)
        data = ar_data(store, args.recipient_id, account=account, anchor=anchor)
        pdf = signed_ar(data, services.platform_signer(settings))
    except Refusal as refusal:
        say(f"{PROGRAM} : {refusal}", file=sys.stderr)
        return 1
    finally:
        store.close()
    path = Path(args.out or ar_filename(data))
    try:
        write_whole(path, pdf)
    except OSError as error:
        say(f"{PROGRAM} : {write_problem(path, error)}", file=sys.stderr)
        return 1
    say(f"Accusé de réception du destinataire n° {data.recipient.id} écrit dans « {path} ».")
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Write the proof bundle of one consultation, the ARs' progress on stderr; one French
    line when it cannot."""
    from pathlib import Path

    from messagerie.models.errors import Refusal
    from messagerie.models.messages.bundle import find_consultation

    store = open_store_for(args)
    progress = ProgressLine("AR", sys.stderr)
    try:
        account = account_of(store)
        # A reference that is not there (or another organisation's: « introuvable ») is
        # answered before weasyprint and pyHanko are imported (a second of CPU).
        find_consultation(store, args.reference, account, organisation=args.organisation)
        from messagerie.letters.pdf.bundle import export_bundle
        from messagerie.tui import services

        settings = load_settings(args)
        summary = export_bundle(
            store,
            args.reference,
            Path(args.out),
            signer=services.platform_signer(settings),
            account=account,
            organisation=args.organisation,
            anchor=services.last_anchor(store, settings),
            progress=progress,
        )
    except Refusal as refusal:
        progress.close()
        say(f"{PROGRAM} : {refusal}", file=sys.stderr)
        return 1
    finally:
        progress.close()
        store.close()
    say(f"Lot de preuves de « {args.reference} » écrit dans « {summary.path} » : "
          f"{summary.files} fichiers dont {summary.ars} AR, {summary.size} octets.")  # fmt: skip
    say(f"Empreinte SHA-256 du manifeste (à conserver à part) : {summary.manifest_sha256}")
    say(f"Signé par : {summary.signer.subject} (certificat SHA-256 {summary.signer.fingerprint})")
    return 0


class ProgressLine:
    """« AR : 120/1000 », rewritten in place on a terminal; elsewhere (a log, a pipe) one line
    at each tenth of the way, so that a log is not flooded."""

    def __init__(self, label: str, stream: TextIO) -> None:
        self.label, self.stream = label, stream
        self.terminal = stream.isatty()
        self.open = False  # a line rewritten in place, not ended yet
        self.tenths = -1  # the last tenth written

    def __call__(self, done: int, total: int) -> None:
        if not total:
            return
        text = f"{self.label} : {done}/{total}"
        if self.terminal:
            self.stream.write("\r" + text)
            self.open = True
        elif done * 10 // total > self.tenths:
            self.tenths = done * 10 // total
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the line rewritten in place, so that what follows starts on its own."""
        if self.open:
            self.stream.write("\n")
            self.stream.flush()
            self.open = False


def run_verify(args: argparse.Namespace) -> int:
    """Check a proof bundle against its manifest, and the manifest against its signature by the
    platform's certificate (or --cert): exit 1 when altered or not authentic, 2 when
    unreadable."""
    from pathlib import Path

    from messagerie.letters.pdf.bundle import BundleUnreadable, verify_bundle
    from messagerie.letters.pdf.certificate import read_certificate
    from messagerie.models.errors import Refusal
    from messagerie.tui import services

    foreign = foreign_bundle(args, Path(args.bundle))
    if foreign:
        say(f"{PROGRAM} : {foreign}", file=sys.stderr)
        return 2
    settings = load_settings(args)
    try:
        if args.cert:
            platform = read_certificate(Path(args.cert))
        else:
            platform = services.reference_certificate(settings)
        authorities = services.tsa_authorities(settings)
        check = verify_bundle(Path(args.bundle), platform, authorities)
    except BundleUnreadable as problem:
        say(f"{PROGRAM} : {problem}", file=sys.stderr)
        return 2
    except Refusal as problem:  # the certificate to compare with cannot be read
        say(f"{PROGRAM} : {problem}", file=sys.stderr)
        return 2
    if check.signature is not None:
        say("\n".join(signature_lines(check.signature)))
    if check.intact:
        say(f"Lot de preuves intact et signé par la plateforme : {check.checked} fichiers "
              "vérifiés.")  # fmt: skip
        return 0
    say("\n".join(check.problems))
    return 1


def foreign_bundle(args: argparse.Namespace, bundle: Path) -> str | None:
    """Why the bundle is not verified here: this store exported it, and on a store with
    accounts its consultation is one the account does not see (« introuvable », as `export`
    says; `check_verifiable`). A bundle of another store (another platform), or verified
    without a store here (an auditor's machine: no SQLite file, or a store that cannot be
    opened) or without accounts, is verified: it proves itself, by its signature."""
    from messagerie.letters.pdf.bundle import bundle_origin
    from messagerie.models.messages.bundle import check_verifiable
    from messagerie.models.store.accounts import ConsultationNotFound
    from messagerie.models.store.engine import StoreError, store_file

    said = bundle_origin(bundle)
    database = store_file(load_settings(args).database_url)
    if said.store is None or (database is not None and not database.exists()):
        return None
    try:
        store = open_store_for(args)
    except StoreError:
        return None
    try:
        account = account_of(store)  # a login without an account: one line, exit 2
        check_verifiable(store, said.reference, said.store, account, said.organisation)
    except ConsultationNotFound as hidden:
        return f"{hidden} Le lot de preuves n'est pas vérifié."
    finally:
        store.close()
    return None


def signature_lines(signature: ManifestSignature) -> list[str]:
    from messagerie.models.formatting import paris_seconds

    if signature.authentic:
        verdict = "celui de la plateforme"
    elif signature.expected is None:
        verdict = "aucun certificat de la plateforme à comparer"
    else:
        verdict = "« non authentique », ce n'est pas celui de la plateforme"
    signed_at = (
        paris_seconds(signature.signed_at, zone="Paris") if signature.signed_at else "non indiquée"
    )
    lines = [
        f"Manifeste signé par : {signature.signer}",
        f"Empreinte SHA-256 du certificat : {signature.fingerprint} ({verdict})",
        f"Date de signature : {signed_at}",
    ]
    if stamp := signature.stamp:
        judged = UNJUDGED_AUTHORITY if stamp.trusted is None else ""
        stamped = paris_seconds(stamp.at, zone="Paris")
        lines.append(f"Horodatage : {stamped} par « {stamp.authority} »{judged}")
    lines.append(
        "Signature du manifeste : "
        + ("valide" if signature.intact else "INVALIDE (manifeste modifié)")
    )
    return lines


def run_dkim_record(args: argparse.Namespace) -> int:
    """The DNS TXT record(s) publishing the DKIM key, one per sending domain."""
    from messagerie.letters.mail.dkim import sender_domains
    from messagerie.models.errors import Refusal
    from messagerie.tui import services

    settings = load_settings(args)
    try:
        key = services.dkim_key(settings)
    except Refusal as problem:
        say(f"{PROGRAM} : {problem}", file=sys.stderr)
        return 1
    if key is None:
        say(f"{PROGRAM} : aucune clé DKIM : définissez MESSAGERIE_DKIM_KEY (clé RSA privée, "
              "PEM) et MESSAGERIE_DKIM_SELECTOR.", file=sys.stderr)  # fmt: skip
        return 1
    if args.domain:
        domains = [args.domain]
    else:
        store = open_store_for(args)
        try:
            domains = sender_domains(store)
        finally:
            store.close()
    if not domains:
        say(f"{PROGRAM} : aucune adresse d'envoi dans la base : indiquez --domain DOMAINE.",
              file=sys.stderr)  # fmt: skip
        return 1
    for domain in domains:
        say(key.record(domain))
    return 0


def run_accounts(args: argparse.Namespace) -> int:
    """`messagerie comptes ajouter|lister|modifier|retirer`. Changing one takes the `manage`
    right in the account's organisation (anyone may create a store's first account); each
    change is audited with its author's system login."""
    from messagerie.models.errors import Refusal
    from messagerie.models.store import accounts

    store = open_store_for(args)
    try:
        login = system_login(store)
        if args.accounts_command == "lister":
            listed = accounts.list_accounts(store, accounts.resolve_account(store, login))
            lines = [account.describe() for account in listed] or [
                "Aucun compte : la base est en mode mono-utilisateur (chacun y voit toutes "
                "les consultations). Créez le premier avec « messagerie comptes ajouter »."
            ]
        elif args.accounts_command == "ajouter":
            new = accounts.NewAccount(
                login=args.login,
                name=args.nom,
                email=args.courriel,
                organisation=args.organisation,
                entities=tuple(args.entite),
                rights=accounts.parse_rights(args.droits),
                support=args.support,
            )
            added = accounts.add_account(store, new, author=login, now=utc_now())
            lines = [f"Compte ajouté : {added.describe()}"]
        elif args.accounts_command == "modifier":
            modified = accounts.modify_account(
                store, args.login, account_change(args), author=login, now=utc_now()
            )
            lines = [f"Compte modifié : {modified.describe()}"]
        else:
            removed = accounts.remove_account(store, args.login, author=login, now=utc_now())
            lines = [f"Compte retiré : {removed.describe()}"]
    except Refusal as refusal:
        say(f"{PROGRAM} : {refusal}", file=sys.stderr)
        return 1
    finally:
        store.close()
    say("\n".join(lines))
    return 0


def account_change(args: argparse.Namespace) -> AccountChange:
    """What `comptes modifier` was asked to change; a Refusal when nothing or two ways."""
    from messagerie.models.errors import Refusal
    from messagerie.models.store.accounts import AccountChange, parse_rights

    if args.entite and args.toutes_entites:
        raise Refusal("--entite et --toutes-entites s'excluent : choisissez l'un des deux.")
    change = AccountChange(
        name=args.nom,
        email=args.courriel,
        entities=() if args.toutes_entites else (tuple(args.entite) or None),
        rights=parse_rights(args.droits) if args.droits is not None else None,
    )
    if change == AccountChange():
        raise Refusal(
            "Rien à modifier : indiquez --nom, --courriel, --entite, --toutes-entites ou --droits."
        )
    return change


def run_db(args: argparse.Namespace) -> int:
    store = open_store_for(args, upgrade=True)
    say(f"Base à jour : {store.description}.")
    store.close()
    return 0


def run_verify_store(args: argparse.Namespace) -> int:
    """Walk every recipient's hash chain, and find in it each head its anchors hold: exit 1,
    naming each recipient, when a history was edited, reordered, cut or rewritten since, or
    naming each anchor that proves nothing (unsigned, altered, another store's, missing)."""
    from pathlib import Path

    from messagerie.models.errors import Refusal
    from messagerie.models.store.chain import verify_store

    settings = load_settings(args)
    folder = Path(args.ancrages) if args.ancrages else settings.anchors_folder
    if args.ancrages and not folder.is_dir():
        what = "n'est pas un dossier" if folder.exists() else "n'existe pas"
        say(f"{PROGRAM} : le dossier des ancrages « {folder} » {what}.", file=sys.stderr)
        return 2
    store = open_store_for(args)
    try:
        read = anchors_of(store, folder, settings, args.cert)
        doubtful = len(read.problems) if read else 0
        checked, broken = verify_store(
            store, utc_now(), read.anchors if read else (), doubtful_anchors=doubtful
        )
    except Refusal as problem:  # a --cert that cannot be read: nothing was checked
        say(f"{PROGRAM} : {problem}", file=sys.stderr)
        return 2
    finally:
        store.close()
    for line in read.problems if read else ():
        say(line)
    for chain in broken:
        say(f"Destinataire n°{chain.recipient_id} : {chain.reason}.")
    say(anchors_line(read, folder))
    if broken:
        say(f"Historique altéré pour {len(broken)} destinataire(s) sur {checked}.")
    elif doubtful:
        say(f"Historiques NON vérifiés contre les ancrages ({doubtful} problème(s) ci-dessus) : "
            f"{checked} destinataire(s) vérifiés par leur seule chaîne.")  # fmt: skip
    else:
        say(f"Historiques intacts : {checked} destinataire(s) vérifiés.")
    return 1 if broken or doubtful else 0


def anchors_of(
    store: Store, folder: Path, settings: Settings, earlier: Sequence[str] = ()
) -> AnchorsRead | None:
    """The anchors kept in `folder`, checked against the platform's certificate and the
    `earlier` ones (files), and against those the audit log says were written; None when
    there are none of either (pyHanko, a second of CPU to import, is then not loaded)."""
    from pathlib import Path

    from messagerie.models.store.anchor import anchor_files, anchors_written

    with store.engine.connect() as connection:
        written = anchors_written(connection)
    try:
        if not written and not anchor_files(folder):
            return None
    except OSError:
        pass  # an unreadable folder: read_anchors says so
    from messagerie.letters.pdf.anchor import read_anchors
    from messagerie.letters.pdf.certificate import read_certificate
    from messagerie.models.store.database import store_identity
    from messagerie.tui import services

    current = services.reference_certificate(settings)
    platform = [read_certificate(Path(path)) for path in earlier]
    if current is not None:
        platform.append(current)
    authorities = services.tsa_authorities(settings)
    return read_anchors(folder, platform, store_identity(store), written, authorities)


UNJUDGED_AUTHORITY = " (autorité non vérifiée : MESSAGERIE_TSA_CERT n'est pas donné)"


def anchors_line(read: AnchorsRead | None, folder: Path) -> str:
    """How many anchors were compared, over which days, and how many a timestamp dates."""
    from messagerie.models.formatting import paris_seconds

    if read is None:
        return (
            f"Ancrages : aucun dans « {folder} » ; un historique réécrit en entier ne se verrait "
            "pas (messagerie anchor)."
        )
    if not read.anchors:
        return "Ancrages : aucun n'a pu être comparé."
    times = sorted({anchor.at for anchor in read.anchors})
    span = paris_seconds(times[0]) + (f" au {paris_seconds(times[-1])}" if len(times) > 1 else "")
    stamped = f", dont {len(read.stamped)} horodaté(s)" if read.stamped else ", non horodatés"
    if read.stamped and not read.authorities_judged:
        stamped += UNJUDGED_AUTHORITY
    unstamped = len(read.anchors) - len(read.stamped)
    if read.stamped and unstamped:  # their dates, and their heads, rest on the key alone
        stamped += f" ; {unstamped} sans horodatage, datés par la seule plateforme"
    elif unstamped and read.authorities_judged:
        stamped += ", datés par la seule plateforme"
    return f"Ancrages comparés : {len(times)}, du {span}{stamped}."


def run_anchor(args: argparse.Namespace) -> int:
    """Write an anchor of every history, signed (and timestamped with a TSA), to be kept off
    this server: `verify-store` then sees a history rewritten or cut since."""
    from pathlib import Path

    from messagerie.letters.pdf.anchor import write_anchor
    from messagerie.models.errors import Refusal, write_problem
    from messagerie.models.formatting import paris_seconds
    from messagerie.tui import services

    settings = load_settings(args)
    folder = Path(args.dossier) if args.dossier else settings.anchors_folder
    store = open_store_for(args)
    try:  # a Refusal (no certificate, the authority silent) is main's: one line, exit 1
        signer = services.platform_signer(settings)
        written = write_anchor(store, folder, signer, actor=system_login(store), now=utc_now())
    except OSError as error:
        raise Refusal(write_problem(folder, error)) from None
    finally:
        store.close()
    say(f"Ancrage de {written.recipients} historique(s) écrit dans « {written.path} ».")
    say(f"Empreinte SHA-256 (à noter ailleurs) : {written.sha256}")
    if stamp := written.stamp:
        judged = UNJUDGED_AUTHORITY if stamp.trusted is None else ""
        say(f"Horodaté le {paris_seconds(stamp.at)} par « {stamp.authority} »{judged}.")
    else:
        say("Non horodaté : sans MESSAGERIE_TSA_URL, seule la signature de la plateforme le date.")
    say(
        "Copiez-le avec sa signature (.p7s) hors de ce serveur ; « verify-store --ancrages "
        "DOSSIER » y compare les historiques."
    )
    return 0


COMMANDS: dict[str | None, Callable[[argparse.Namespace], int]] = {
    None: run_tui,
    "demo": run_demo,
    "import": run_import,
    "db": run_db,
    "outbox": run_outbox,
    "inbound": run_inbound,
    "portal": run_portal,
    "status": run_status,
    "serve": run_serve,
    "ar": run_ar,
    "export": run_export,
    "verify": run_verify,
    "dkim-record": run_dkim_record,
    "verify-store": run_verify_store,
    "anchor": run_anchor,
    "comptes": run_accounts,
}


def main(argv: Sequence[str] | None = None) -> int:
    # A command's imports make objects that live as long as the process: collecting the young
    # ones every 700 allocations spent 7 % of a short command's CPU walking them (issue 14).
    gc.set_threshold(10_000, 20, 20)
    try:
        args = build_parser().parse_args(argv)
        code = COMMANDS[args.command](args)
        sys.stdout.flush()  # a reader that left early is found here, not at the exit
        return code
    except UsageError as error:
        say(f"{PROGRAM} : {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl+C: what was written is whole (atomic_write), no traceback
        say(f"\n{PROGRAM} : interrompu.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `messagerie status | head -3`: the reader has left
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing at exit
        return 141
    except Exception as error:
        # Faults the user can fix get one line, not a traceback.
        from pydantic import ValidationError
        from sqlalchemy.exc import DatabaseError

        from messagerie.models.errors import Refusal
        from messagerie.models.store.engine import StoreError, database_problem

        if isinstance(error, StoreError):
            say(f"{PROGRAM} : {error}", file=sys.stderr)
            return 2
        if isinstance(error, Refusal):  # what the user can fix, that no command caught
            say(f"{PROGRAM} : {error}", file=sys.stderr)
            return 1
        if isinstance(error, DatabaseError) and (problem := database_problem(error)):
            say(f"{PROGRAM} : {problem}", file=sys.stderr)
            return 2
        if isinstance(error, ValidationError):
            from messagerie.tui.settings import invalid_settings

            say(f"{PROGRAM} : {invalid_settings(error)}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
