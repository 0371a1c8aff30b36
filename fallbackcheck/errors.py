"""Our exception types whose message is the single line the user sees."""


class UsageError(Exception):
    """Bad input (an unknown id, a malformed profile, an unreachable engine).

    The message says what was wrong and what to do; the plugin turns it into a
    pytest.UsageError so the user gets that line and no traceback.
    """


class SetupError(RuntimeError):
    """Something the run needs could not be had (a suite no archive carries): the message
    says what and what to set, and is shown as it is, without the type's name."""
