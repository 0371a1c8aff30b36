"""Stopping a run: Ctrl-C (SIGINT), SIGTERM (what CI systems and `timeout` send) and SIGHUP
(a closed terminal) all end a run the same way, wherever it is.

A signal's default effect in Python is an exception raised wherever the main thread happens
to be. Outside the clean-up that is what we want: provisioning, image loads and the cell loop
stop at once. Inside the clean-up and the report it is what leaked containers: an interrupt
landing in a DELETE to the engine skipped every removal after it and printed a traceback
from a pytest hook nothing protects. So the clean-up and the report run `shielded()`: a
signal there only sets `requested` (the fix reruns and the report read it), nothing is
raised, and the work that removes containers runs to its end.

`line()` is the one line a stopped run prints instead of pytest's KeyboardInterrupt banner.
"""

from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# For the tests of stopping: "<checkpoint>:<SIGNAL>" makes the run send itself SIGNAL when it
# first reaches that checkpoint (provisioning, images, batch, fixes, report), so a test stops
# a run at a named moment instead of after a guessed sleep.
SIGNAL_AT_ENV = "FALLBACKCHECK_SIGNAL_AT"
CHECKPOINTS = ("provisioning", "images", "batch", "fixes", "report")

_state = {"signal": None, "phase": None, "shield": 0, "phase_now": "starting", "installed": False, "raised": False,
          "signalled": False, "held": False}
requested = threading.Event()  # set by the first signal; fix reruns not yet started skip
_CHECKPOINT_LOCK = threading.Lock()


class Stopped(KeyboardInterrupt):
    """What a signal raises outside the shield (a KeyboardInterrupt, so pytest and every
    `except Exception` treat it as Ctrl-C)."""


def _handler(signum, frame):
    name = signal.Signals(signum).name
    if _state["signal"] is None:
        _state["signal"], _state["phase"] = name, _state["phase_now"]
    requested.set()
    if _state["shield"] == 0 and not _state["raised"]:
        _state["raised"] = True  # once: a second Ctrl-C must not cut the clean-up the first began
        raise Stopped(f"{name} received")


def install() -> None:
    """Called once per process that runs the matrix, before anything is started."""
    if _state["installed"] or threading.current_thread() is not threading.main_thread():
        return
    for sig in SIGNALS:
        signal.signal(sig, _handler)
    _state["installed"] = True


def phase(name: str) -> None:
    """Where the run is (named in the stop line): provisioning, running batches, ..."""
    _state["phase_now"] = name


def checkpoint(name: str) -> None:
    """A named moment of the run (CHECKPOINTS): where $FALLBACKCHECK_SIGNAL_AT asks for it,
    the run signals itself here, once. Any thread may call this; the signal goes to the main
    thread, as a user's would."""
    spec = os.environ.get(SIGNAL_AT_ENV)
    if not spec or not _state["installed"] or _state["signalled"]:
        return
    point, _, sig = spec.partition(":")
    if point != name:
        return
    # Fix reruns start on several pool threads at once: without the lock two of them could
    # both see `signalled` unset and send two signals, the second one landing outside the
    # clean-up (seen under load: a traceback from pytest's wrap_session).
    with _CHECKPOINT_LOCK:
        if _state["signalled"]:
            return
        _state["signalled"] = True
    os.kill(os.getpid(), getattr(signal, sig or "SIGINT"))


def stopped_by() -> str | None:
    """The name of the first signal received, or None."""
    return _state["signal"]


def stopped_in() -> str | None:
    return _state["phase"]


def note_interrupt(exc: BaseException | None = None) -> None:
    """A KeyboardInterrupt that did not come through our handler (a signal before install,
    or one raised by a library): recorded as SIGINT."""
    if _state["signal"] is None:
        _state["signal"], _state["phase"] = "SIGINT", _state["phase_now"]
    requested.set()


@contextmanager
def shielded(raise_after: bool = False):
    """Signals only set `requested` while this runs (nested use is fine). With `raise_after`
    (a short step in the middle of the run, such as starting a container), a signal that
    came meanwhile is raised once the step is done, so the run still stops there."""
    _state["shield"] += 1
    try:
        yield
    finally:
        _state["shield"] -= 1
    if raise_after and _state["shield"] == 0 and requested.is_set() and not _state["raised"]:
        _state["raised"] = True
        raise Stopped(f"{_state['signal']} received")


def hold() -> None:
    """Shield from here until release(), across hooks: from the end of the cell loop to the
    end of the report, pytest runs code of its own (wrap_session) where a raised signal would
    meet nothing that catches it (seen under load: a fix rerun's checkpoint signal landing
    there printed a traceback). A signal in between is handled as one during the report."""
    if not _state["held"]:
        _state["held"] = True
        _state["shield"] += 1


def release() -> None:
    """The end of hold(); nothing if not holding."""
    if _state["held"]:
        _state["held"] = False
        _state["shield"] -= 1


def line(what_remains: str) -> str:
    """The one line a stopped run ends with."""
    return f"fallbackcheck: stopped by {_state['signal'] or 'SIGINT'} during {_state['phase'] or 'the run'}; {what_remains}"


def reset() -> None:
    """For tests: forget a stop."""
    _state.update(signal=None, phase=None, shield=0, phase_now="starting", raised=False, signalled=False, held=False)
    requested.clear()
