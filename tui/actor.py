"""Who is using the application, as recorded in the audit log (MESSAGERIE_USER)."""

import getpass
import os


def default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "acheteur"


def current_actor() -> str:
    """MESSAGERIE_USER, else the login name; cheap enough for start-up (no settings load)."""
    return os.environ.get("MESSAGERIE_USER") or default_actor()
