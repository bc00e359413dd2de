"""How many examples a property test runs that sets its own number: that number, scaled like
the profile's (`scripts/test --hypothesis-profile fuzz`: 20 times more)."""

from hypothesis import settings

PROFILE_EXAMPLES = 100  # the profile "messagerie" (tests/conftest.py) keeps Hypothesis's 100


def examples(count: int) -> int:
    return count * settings.default.max_examples // PROFILE_EXAMPLES
