"""The Textual application: the store is opened in a worker so the first frame comes fast."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from textual.app import SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.theme import ThemeProvider
from textual.worker import get_current_worker

from messagerie.models.clock import utc_now
from messagerie.screens.dashboard import DashboardScreen
from messagerie.screens.french import key_display
from messagerie.screens.keys_help import KeysHelp, key_sections
from messagerie.screens.rights import SINGLE_USER, refusal, tell_refused
from messagerie.screens.widgets import harmless, notify_literal
from messagerie.tui.actor import current_actor
from messagerie.tui.commands import binding_commands
from messagerie.tui.navigation import Navigation
from messagerie.tui.palette import FrenchPalette

if TYPE_CHECKING:
    from textual.actions import ActionParseResult
    from textual.dom import DOMNode

    from messagerie.letters.intake.files import IntakeOptions
    from messagerie.letters.pdf.sign import PlatformSigner
    from messagerie.models.consultations.views import DashboardPage
    from messagerie.models.store.accounts import Account
    from messagerie.models.store.anchor import Anchor
    from messagerie.models.store.database import Store
    from messagerie.tui.embedded import Embedded
    from messagerie.tui.prefetch import Prefetch
    from messagerie.tui.settings import Settings
    from messagerie.tui.snapshot import StartupSnapshot

T = TypeVar("T")
OUTBOX_START_DELAY = 2.0  # seconds after start-up


ANIMATIONS_VARIABLE = "TEXTUAL_ANIMATIONS"  # Textual's own: none, basic or full
DEMO_ACCOUNT_HINT = "« u » sur le tableau de bord ouvre la démonstration sous un autre compte."


def accounts_of_the_demo(store: Store) -> tuple[Account, ...]:
    """Every account of the demo's store (it carries the demo's marker); () elsewhere."""
    from messagerie.models.demo.marker import DEMO_MARKER_KEY
    from messagerie.models.store.accounts import list_accounts

    if store.meta(DEMO_MARKER_KEY) is None:
        return ()
    return tuple(list_accounts(store, None))


def place_toasts(screen: Screen) -> None:
    """Toasts go where they cover nothing being typed: on the side of the focused widget
    with more room, the bottom (Textual's place) unless there is more above it. The class
    goes on the toasts' rack, not on the screen: a screen's class restyles every widget of
    the screen (14 ms each time the focus crossed the middle of a form)."""
    try:
        rack = screen.get_child_by_id("textual-toastrack")
    except NoMatches:  # notifications disabled
        return
    focused = screen.focused
    top = focused is not None and screen.size.height - focused.region.bottom < focused.region.y
    rack.set_class(top, "-top")


# The terminal gone (an SSH connection dropped), the session stopped (shutdown, systemd).
HANG_UPS = (signal.SIGHUP, signal.SIGTERM)
HANG_UP_GRACE = 10.0  # seconds for the drafts and a clean exit, then the process ends anyway


class MessagerieApp(Navigation):
    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "Messagerie sécurisée"
    # F1 works in a field too (where `?` types a "?"); its window lists every key, the
    # palette every action: the footers show the essential keys only (80 columns).
    BINDINGS = [
        Binding("f1", "toggle_help", "Aide"),
        Binding("question_mark", "toggle_help", "Aide", key_display="?", show=False),
        Binding("ctrl+q", "quit", "Quitter", key_display="^q", priority=True, show=False),
        Binding(
            "ctrl+p", "command_palette", "palette", key_display="^p", priority=True,
            show=False, tooltip="Palette : chercher une action par son nom",
        ),
    ]  # fmt: skip

    def __init__(
        self,
        open_store: Callable[[], Store],
        snapshot: StartupSnapshot | None = None,
        actor: str | None = None,
        settings: Callable[[], Settings] | None = None,
        embedded: bool = False,
        clock: Callable[[], datetime] = utc_now,
        account_of: Callable[[Store], Account | None] | None = None,
        prefetch: Prefetch | None = None,
    ) -> None:
        """`embedded`: with no relay configured, run the local mailbox and web page
        (tui/embedded.py). The CLI asks for it; tests that don't want servers leave it off.
        `account_of`: who uses the app, found in the store once it is open (the CLI passes
        the system login's account, tui/cli.py); without it, the app is single-user.
        `prefetch`: the child process reading the dashboard's first page (tui/prefetch.py)."""
        super().__init__()
        if ANIMATIONS_VARIABLE not in os.environ:
            # Textual scrolls to the focused widget in a dozen frames, each a screen sent
            # over SSH: Tab in the form cost twice the CPU (bench/form_typing.py). The user's
            # own TEXTUAL_ANIMATIONS (full, basic) is kept.
            self.animation_level = "none"
        self.clock = clock  # the screens' one clock: tests hand a frozen one
        self.actor = actor or current_actor()
        self._open_store = open_store
        self._account_of = account_of
        # The account using the app (None: a store without accounts): the screens scope
        # what they read with it; its login is the audit's author.
        self.account: Account | None = None
        # Until the store has named the account, no action that needs a right may run.
        self.signed_in = account_of is None
        # On the demo's store, its accounts: the demo may be shown as each (« u » on the
        # dashboard); elsewhere none.
        self.demo_accounts: tuple[Account, ...] = ()
        self._snapshot = snapshot
        self._prefetch = prefetch
        self._store: Store | None = None
        self._store_lock = threading.Lock()
        self._load_settings = settings
        self._settings: Settings | None = None
        self._settings_lock = threading.Lock()
        self._embed = embedded
        self.embedded: Embedded | None = None
        self._outbox_wake = threading.Event()
        # Set when the app ends: a pass in flight stops at once and gives back what it
        # claimed, instead of holding the process's exit (asyncio waits for its thread) and,
        # killed, its recipients until their lease runs out.
        self._outbox_stop = threading.Event()
        # Why the app stopped early (the store could not be opened), for the CLI to print.
        self.failure: str | None = None
        self._hang_up_loop: asyncio.AbstractEventLoop | None = None
        self.hung_up = False  # ended by SIGHUP or SIGTERM: the CLI then ends the process

    def on_mount(self) -> None:
        self.push_screen(DashboardScreen())
        self.keep_typing_at_hang_up()
        # After the first frames: reading the settings imports pydantic.
        self.set_timer(OUTBOX_START_DELAY, self.start_outbox)

    def start_outbox(self) -> None:
        self.run_worker(self.outbox_loop, thread=True, group="outbox", exclusive=True)

    def outbox_loop(self) -> None:
        """With MESSAGERIE_OUTBOX_IN_TUI, send what is due every MESSAGERIE_OUTBOX_EVERY
        seconds; each pass that did something is notified, a relay problem once."""
        from pydantic import ValidationError

        from messagerie.models.errors import Refusal
        from messagerie.tui import services

        try:
            settings = self.settings()
        except ValidationError as error:  # read here first (issue 18): end in French
            from messagerie.tui.settings import invalid_settings

            self.failure = invalid_settings(error)
            self.call_from_thread(self.exit, return_code=2)
            return
        if not settings.outbox_in_tui:
            return
        worker = get_current_worker()
        if self.embedded:
            self.embedded.ready.wait(timeout=30)
        told = ""
        while not worker.is_cancelled:
            try:
                if self.embedded and self.embedded.problem:
                    raise Refusal(self.embedded.problem)
                relay = services.relay(settings)
                report = self.store_call(
                    lambda store, relay=relay: services.outbox_pass(  # type: ignore[misc]
                        store, settings, relay, self._outbox_stop
                    )
                )
                told = ""
                if report and (report.sent or report.retried or report.refused):
                    self.call_from_thread(notify_literal, self, str(report), title="File d'envoi")
            except asyncio.CancelledError:  # the app is ending: the pass gave back its claims
                return
            except Refusal as problem:
                if str(problem) != told:  # once per problem, not every pass
                    told = str(problem)
                    self.call_from_thread(
                        notify_literal,
                        self,
                        told,
                        title="File d'envoi",
                        severity="warning",
                        timeout=12,
                    )
            for _ in range(int(settings.outbox_every * 10)):
                if worker.is_cancelled:
                    return
                if self._outbox_wake.wait(0.1):
                    self._outbox_wake.clear()
                    break

    def wake_outbox(self) -> None:
        """A message was just queued: the outbox running in the TUI sends it now."""
        self._outbox_wake.set()

    def store_call(self, call: Callable[[Store], T]) -> T | None:
        """Run `call` on the store, from a worker thread; a store fault ends the app cleanly."""
        from messagerie.models.store.engine import StoreError, answered_or_refused

        try:
            with self._store_lock:
                opened = self._store is None
                if opened:
                    self._store = self.sign_in(self._open_store())
            with answered_or_refused():  # a Refusal the screen shows: the app goes on
                if opened:
                    self.tell_kept_drafts(self._store)
                return call(self._store)
        except StoreError as error:
            self.failure = str(error)
            self.call_from_thread(self.exit, return_code=2)
            return None

    def tell_kept_drafts(self, store: Store) -> None:
        """Once the store is open (from a worker): the drafts and answers kept when this
        buyer's terminal last went away, until they are saved, sent, published or left."""
        from messagerie.models.consultations.answer_drafts import (
            answers_kept_at_hang_up,
            kept_answers_notice,
        )
        from messagerie.models.messages.drafts import kept_at_hang_up, kept_notice

        drafts = kept_at_hang_up(store, actor=self.actor)
        answers = answers_kept_at_hang_up(store, actor=self.actor)
        for notice, title in (
            (drafts and kept_notice(drafts), "Message non envoyé retrouvé"),
            (answers and kept_answers_notice(answers), "Réponse non publiée retrouvée"),
        ):
            if notice:
                self.call_from_thread(notify_literal, self, notice, title=title, timeout=30)

    def sign_in(self, store: Store) -> Store:
        """Find the account using the app in the freshly opened `store`; a system login
        without an account in a store that has some ends the app (AccountMissing, a
        StoreError), its page of the last run forgotten."""
        if self._account_of is None:
            return store
        try:
            self.account = self._account_of(store)
        except Exception:
            store.close()
            if self._snapshot:
                self._snapshot.path.unlink(missing_ok=True)
            raise
        account = self.account
        self.signed_in = True
        if account is not None:
            self.actor = account.login
            self.demo_accounts = accounts_of_the_demo(store)
        # The footers grey out what the account may not do (screens/rights.py), and no
        # longer everything that needs a right.
        self.call_from_thread(lambda: self.screen.refresh_bindings())
        # Who is at work, in the header of the screens without a consultation of their own.
        who = at_work(account) if account else SINGLE_USER
        self.call_from_thread(setattr, self, "sub_title", harmless(who))
        return store

    def sign_in_as(self, store: Store, login: str) -> Account:
        """On the demo's store only (call from a worker): use the app as its account `login`
        from now on, so that a demonstration shows each organisation's side without leaving
        the app. The next start opens as the system login again."""
        from messagerie.models.store.database_roles import scope_connections

        account = next(one for one in self.demo_accounts if one.login == login)
        scope_connections(store, account.organisation_ids)
        self._snapshot = None  # the page remembered for the next start is the system login's
        return account

    def account_switched(self, account: Account) -> None:
        """The app is used as another demo account: its rights, scope and audit name."""
        self.actor = account.login
        self.account_changed(account)

    def account_changed(self, account: Account) -> None:
        """The account using the app was modified (on the accounts screen): its rights and
        entities hold at once — the footers and the palette grey out what it may no longer
        do, the screens scope what they read next with it."""
        self.account = account
        for screen in self.screen_stack:
            screen.refresh_bindings()
        self.sub_title = harmless(at_work(account))

    def settings(self) -> Settings:
        """The MESSAGERIE_* settings, read on first use (pydantic is slow to import); with
        the embedded services, pointing at them (started then, in the background)."""
        with self._settings_lock:
            if self._settings is None:
                from messagerie.tui.settings import Settings

                settings = self._load_settings() if self._load_settings else Settings()
                if self._embed:
                    from messagerie.tui.embedded import embed

                    settings, self.embedded = embed(settings)
                    if self.embedded:
                        threading.Thread(
                            target=self.embedded.start, name="embedded", daemon=True
                        ).start()
                self._settings = settings
            return self._settings

    def intake_options(self) -> IntakeOptions:
        """Antivirus and size limit for attachments (call from a worker)."""
        from messagerie.tui import services

        return services.intake_options(self.settings())

    def platform_signer(self) -> PlatformSigner:
        """The platform's signer of ARs and bundles, built once (call from a worker)."""
        from messagerie.tui import services

        return services.platform_signer(self.settings())

    def last_anchor(self, store: Store) -> Anchor | None:
        """The platform's newest anchor when it holds, for an AR (call from a worker)."""
        from messagerie.tui import services

        return services.last_anchor(store, self.settings())

    def cached_start_page(self) -> DashboardPage | None:
        """The dashboard's first page as last seen, to paint before the store answers."""
        return self._snapshot.load() if self._snapshot else None

    def prefetched_start_page(self) -> DashboardPage | None:
        """The first page the prefetch child read (call from a worker: it waits for it), once;
        None without a child or when it failed: the dashboard queries the store then."""
        if self._prefetch is None:
            return None
        from messagerie.tui.prefetch import page_of

        return page_of(self._prefetch.take())  # None from the second call on

    def remember_start_page(self, page: DashboardPage) -> None:
        if self._snapshot:
            self._snapshot.save(page)

    def keep_typing_at_hang_up(self) -> None:
        """An SSH connection that drops sends the app SIGHUP, a session being stopped SIGTERM:
        both ended the process at once, and the letter being typed with it."""
        try:
            loop = asyncio.get_running_loop()
            for signum in HANG_UPS:
                loop.add_signal_handler(signum, self.hang_up, signum)
        except (RuntimeError, ValueError):  # not the main thread's loop: no signals there
            return
        self._hang_up_loop = loop

    def hang_up(self, signum: int) -> None:
        """Keep what each screen can keep of its unsaved work (a message form's typing, as a
        draft in « Brouillons de messages »), then end. This runs on the UI's thread, the
        terminal maybe gone: it writes to the store directly, not through a worker, and tells
        no one."""
        from messagerie.models.errors import Refusal
        from messagerie.models.store.engine import answered_or_refused
        from messagerie.screens.quit import unsaved_work

        self.hung_up = True
        self._outbox_stop.set()
        if not self.is_headless:
            # Whatever happens next, the process ends: nobody is left to quit it, and
            # Textual's own shutdown can wait for ever on a terminal that is gone (its
            # writer thread). Not under the Pilot: the process there is the tests'.
            backstop = threading.Timer(HANG_UP_GRACE, os._exit, (128 + signum,))
            backstop.daemon = True
            backstop.start()
        # Not under _store_lock: a worker holds it while it signs in, waiting for this thread
        # (call_from_thread), and the two waited for each other with the terminal gone.
        store = self._store
        for unsaved in unsaved_work(self.screen_stack):
            if unsaved.keep is None or store is None:  # no store open: nothing was read
                continue
            try:
                with answered_or_refused():
                    unsaved.keep(store, self.actor, True)
            except Refusal:
                continue  # nowhere to tell it: the other forms are still kept
        self.exit(return_code=128 + signum)

    async def action_quit(self) -> None:
        """Ctrl+Q (and « Quitter » in the palette): at once when nothing is unsaved, else
        after asking (QuitDialog); pressed again in that dialog, it keeps and quits."""
        from messagerie.screens.quit import QuitDialog, unsaved_work

        if isinstance(self.screen, QuitDialog):
            if self.screen.leave is None:  # pressed again in its own dialog
                self.screen.quit_again()
                return
            await self.screen.dismiss(None)  # over Échap's: the app's question instead
        unsaved = unsaved_work(self.screen_stack)
        if unsaved:
            self.push_screen(QuitDialog(unsaved))
        else:
            self.exit()

    def on_unmount(self) -> None:
        self._outbox_stop.set()
        if self._hang_up_loop is not None:
            for signum in HANG_UPS:
                self._hang_up_loop.remove_signal_handler(signum)
        if self._prefetch is not None:  # left before the child answered: stop it
            self._prefetch.close()
        if self.embedded is not None:
            self.embedded.stop()
        if self._store is not None:
            self._store.close()

    def on_descendant_focus(self) -> None:
        place_toasts(self.screen)  # the toasts shown move away from the new focus

    def action_toggle_help(self) -> None:
        """F1 or ?: the screen's keys in a window that scrolls; F1 again closes it."""
        if isinstance(self.screen, KeysHelp):
            self.screen.dismiss(None)
        else:
            self.push_screen(KeysHelp(key_sections(self.screen)))

    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(FrenchPalette())

    def search_themes(self) -> None:
        self.push_screen(FrenchPalette(providers=[ThemeProvider], placeholder="Chercher un thème…"))

    def action_help_quit(self) -> None:
        """Ctrl+C copies in a field; elsewhere, say how to leave (Textual says it in English)."""
        self.notify("Pour quitter : Ctrl+Q.", title="Quitter ?")

    async def run_action(
        self,
        action: str | ActionParseResult,
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        """Every key and palette entry comes here: an action the account has no right to
        (greyed out in the footer) is told why instead of doing nothing."""
        target, name, parameters = self._parse_action(
            action, self if default_namespace is None else default_namespace, namespaces
        )
        reason = refusal(target, name, parameters)
        if reason is not None:
            if self.demo_accounts:
                reason += f" Démonstration : {DEMO_ACCOUNT_HINT}"
            tell_refused(self, reason)
            return True
        return await super().run_action(action, default_namespace, namespaces)

    def get_key_display(self, binding: Binding) -> str:
        return binding.key_display or key_display(binding.key)

    def notify(self, message: str, **options: Any) -> None:  # type: ignore[override]
        if self.screen_stack:
            place_toasts(self.screen)
        super().notify(message, **options)

    def take_screenshot(self) -> None:
        """The screen as SVG, in the current folder (served to the browser under `serve`)."""
        from messagerie.models.errors import os_problem
        from messagerie.models.formatting import PARIS

        # Named in Paris time by the app's clock: Textual's own name took the server's (UTC).
        moment = self.clock().astimezone(PARIS)
        name = f"{self.title.replace(' ', '_')}_{moment:%Y-%m-%d_%Hh%Mm%Ss}.svg"
        if self.is_web:
            self.deliver_screenshot(name)
            return
        try:
            path = self.save_screenshot(name)
        except OSError as problem:
            notify_literal(self, f"Capture impossible : {os_problem(problem)}.", severity="error")
        else:
            notify_literal(self, f"Capture enregistrée : {path}", title="Capture d'écran")

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from binding_commands(screen)
        palette_commands = getattr(screen, "palette_commands", None)
        if palette_commands is not None:
            for title, help_text, callback in palette_commands():
                yield SystemCommand(title, help_text, callback)
        yield SystemCommand(
            "Thème", "Changer les couleurs de l'application", self.action_change_theme
        )
        yield SystemCommand(
            "Capture d'écran",
            "Enregistrer l'écran au format SVG",
            lambda: self.set_timer(0.1, self.take_screenshot),
        )


def at_work(account: Account) -> str:
    """The header's « who is at work »: a support account sees every organisation, and its
    own organisation alone there misled."""
    scope = "toutes les organisations (lecture)" if account.support else account.organisation
    return f"{account.login} · {scope}"
