import pytest

# The shared helpers (tests/helpers/) assert too: pytest rewrites their asserts as it does a
# test's, so that a failing one shows its values. Registered before any of them is imported.
pytest.register_assert_rewrite("tests.helpers")
