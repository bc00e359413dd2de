"""The one kind of error the screens show to the buyer as it is."""


class Refusal(Exception):
    """A request the buyer can fix: str(error) is a French message saying what to fix.

    Every refusal of the domain (invalid field, unsafe file, rule not met, stale data)
    derives from it, so that screens can show it and keep what was typed, while any other
    exception remains a bug that surfaces.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message  # the French text alone, for a caller that words it again
