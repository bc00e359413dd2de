"""The one kind of error the screens show to the buyer as it is."""

import errno


class Refusal(Exception):
    """A request the buyer can fix: str(error) is a French message saying what to fix.

    Every refusal of the domain (invalid field, unsafe file, rule not met, stale data)
    derives from it, so that screens can show it and keep what was typed, while any other
    exception remains a bug that surfaces.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message  # the French text alone, for a caller that words it again


# The operating system's errors, in French (`strerror` is the C library's English).
OS_PROBLEMS = {
    errno.EISDIR: "c'est un dossier, pas un fichier",
    errno.ENOENT: "fichier introuvable",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.EACCES: "accès refusé",
    errno.EPERM: "opération non permise",
    errno.ENAMETOOLONG: "nom de fichier trop long",
    errno.ENOSPC: "plus de place sur le disque",
    errno.EDQUOT: "quota disque dépassé",
    errno.EFBIG: "fichier trop gros pour cet emplacement",
    errno.EROFS: "disque en lecture seule",
    errno.EEXIST: "le fichier existe déjà",
    errno.ECONNREFUSED: "connexion refusée",
    errno.ECONNRESET: "connexion interrompue",
    errno.EPIPE: "connexion fermée",
    errno.ETIMEDOUT: "délai dépassé",
    errno.EHOSTUNREACH: "machine injoignable",
    errno.ELOOP: "c'est un lien symbolique, ou une boucle de liens",
}


class NotARegularFile(OSError):
    """A path to write that holds a device, a pipe, a socket or a link: replacing it by a
    file (as root, /dev/null or /dev/stdout) would break what it was."""

    def __init__(self, path: object) -> None:
        super().__init__(errno.EEXIST, "not a regular file", str(path))


def os_problem(error: OSError) -> str:
    """What went wrong reading or writing a file, in French."""
    if isinstance(error, NotARegularFile):
        return "ce n'est pas un fichier ordinaire (périphérique, tube, socket ou lien)"
    if error.errno is None and isinstance(error, TimeoutError):  # a socket's own timeout
        return OS_PROBLEMS[errno.ETIMEDOUT]
    return OS_PROBLEMS.get(error.errno or 0, f"erreur du système ({error.strerror or error})")


def write_problem(path: object, error: OSError) -> str:
    """A file that could not be written where the buyer asked, in French, with what to do."""
    return (
        f"Impossible d'écrire « {path} » : {os_problem(error)} ; choisissez un autre emplacement."
    )
