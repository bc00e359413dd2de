"""Which right each action of a screen needs (issue 19): the one table that the footers grey
out, the keys and the palette refuse with the reason. The store refuses too (never only the
UI): this is so the buyer sees, before trying, what their account may not do.

A store without accounts (the app's account None) may do everything, and so may an action
listed nowhere here."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.dom import DOMNode

from messagerie.models.store.enums import MessageType, Right
from messagerie.screens.widgets import notify_literal

if TYPE_CHECKING:
    from messagerie.models.store.accounts import Account

REFUSED_TITLE = "Action non autorisée"
# Who is at work when the store has no account at all (issue 19: "says so").
SINGLE_USER = "base sans compte (mono-utilisateur)"
SIGNING_IN = "Identification du compte en cours : réessayez dans un instant."

# The right an action needs, or the rights it needs all of.
Needed = Right | tuple[Right, ...]

# Class name → action (as written in its binding, parameters included) → the right it needs.
ACTION_RIGHTS: dict[str, dict[str, Needed]] = {
    "DashboardScreen": {"accounts": Right.MANAGE},
    "ResultsList": {"open('modify')": Right.DCE},
    "ConsultationScreen": {
        "message": Right.SEND,
        "invitation": Right.SEND,
        "merge": Right.DECIDE,
        "export_bundle": Right.EXPORT,
    },
    "DceScreen": dict.fromkeys(
        ("add", "replace", "delete", "replace_all", "save", "validate"), Right.DCE
    ),
    # Publishing an answer to all puts a new questions/answers document into the DCE (and
    # may move the bid deadline): it needs both rights, as the store asks (answer, then DCE).
    "QaEditorScreen": {"publish": (Right.ANSWER, Right.DCE)},
    "RegisterScreen": {"add": Right.IMPORT, "edit": Right.IMPORT, "answer": Right.ANSWER},
    "AnswerDialog": {"choose('dce')": (Right.ANSWER, Right.DCE), "choose('messaging')": Right.SEND},
    "MessageFormScreen": {"send": Right.SEND},
    "MergeScreen": {"queue": Right.DECIDE},
    "TrackingScreen": {
        "message": Right.SEND,
        "resend": Right.SEND,
        "ar": Right.EXPORT,
        "export": Right.EXPORT,
    },
    "MessageDetailScreen": {"ar": Right.EXPORT},
    "AccountsScreen": dict.fromkeys(("add", "modify", "remove"), Right.MANAGE),
}


def action_key(action: str, parameters: tuple[object, ...]) -> str:
    """`open`, ('modify',) → "open('modify')", as the binding writes it."""
    if not parameters:
        return action
    return f"{action}({', '.join(repr(parameter) for parameter in parameters)})"


def required_right(
    node: DOMNode, action: str, parameters: tuple[object, ...] = ()
) -> Needed | None:
    return ACTION_RIGHTS.get(type(node).__name__, {}).get(action_key(action, parameters))


def right_of_type(kind: MessageType) -> Right:
    """A decision letter (rejection, award, notification, cancellation) needs `decide`."""
    return Right.DECIDE if kind.decision else Right.SEND


def app_account(node: DOMNode) -> Account | None:
    """The account using the app (None: a store without accounts, or not signed in yet)."""
    return getattr(node.app, "account", None)


def lacking(account: Account | None, needed: Needed | None) -> str | None:
    """Why `account` may not do what needs `needed`, in French (the first right it lacks);
    None when it may."""
    if account is None or needed is None:
        return None
    missing = [right for right in _rights(needed) if not account.can(right)]
    if not missing:
        return None
    # Only here: the footers ask on the first frame, before SQLAlchemy is needed (issue 18).
    from messagerie.models.store.accounts import missing_right

    return missing_right(account, missing[0])


def _rights(needed: Needed) -> tuple[Right, ...]:
    return needed if isinstance(needed, tuple) else (needed,)


def refusal(node: DOMNode, action: str, parameters: tuple[object, ...] = ()) -> str | None:
    """Why the account using the app may not run `action` on `node`; None when it may."""
    needed = required_right(node, action, parameters)
    if needed is not None and not signed_in(node):
        return SIGNING_IN
    return lacking(app_account(node), needed)


def signed_in(node: DOMNode) -> bool:
    """False while the page painted at start (the last run's, or the one read by the child
    process) waits for the store to name the account: its rights are not known yet, and
    « no account » then would read as a store without accounts, where everything is allowed."""
    return bool(getattr(node.app, "signed_in", True))


def tell_refused(node: DOMNode, reason: str) -> None:
    notify_literal(node.app, reason, title=REFUSED_TITLE, severity="warning", timeout=8)


def guarded(
    node: DOMNode, right: Right, title: str, help_text: str, callback: Callable[[], object]
) -> tuple[str, str, Callable[[], object]]:
    """A palette entry of a screen's own (`palette_commands`): kept in the list, but with
    the reason instead of its help, and telling it instead of running, when the right lacks."""
    reason = lacking(app_account(node), right) if signed_in(node) else SIGNING_IN
    if reason is None:
        return title, help_text, callback
    return title, reason, partial(tell_refused, node, reason)


class RightsChecked:
    """For a screen or widget whose actions ACTION_RIGHTS lists: an action the account may
    not run stays in the footer, greyed out (Textual's check_action answering None); the
    key or the palette then tells why (MessagerieApp.run_action)."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if refusal(self, action, parameters) is not None:  # type: ignore[arg-type]
            return None
        return super().check_action(action, parameters)  # type: ignore[misc, no-any-return]
