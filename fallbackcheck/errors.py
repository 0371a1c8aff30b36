"""The one exception type for bad input: its message is the single line the user sees."""


class UsageError(Exception):
    """Bad input (an unknown id, a malformed profile, an unreachable engine).

    The message says what was wrong and what to do; the plugin turns it into a
    pytest.UsageError so the user gets that line and no traceback.
    """
