"""fallbackcheck: which libc API survives which seccomp profile, on which runtime, in which image."""

__version__ = "0.1.0"
