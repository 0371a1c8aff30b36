"""Runner output lines -> observations. Observing only: no expectation is consulted here."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

# ld.so's own words when it cannot load a library or the program (glibc elf/dl-load.c).
LOADER_MARKERS = ("error while loading shared libraries", "cannot stat shared object",
                  "cannot open shared object")


@dataclass
class Observation:
    """What one probe did in one batch, in the outcome vocabulary of docs/design.md.

    `broken` is the harness's own word for "the probe neither observed nor failed in a
    known way" (LTP's TBROK); it is never judged a pass.
    """

    probe: str
    outcome: str  # ok | error | abort | cannot-start | timeout | absent | broken
    errno: str | None = None
    detail: str = ""
    signal: str | None = None
    exit: int | None = None
    elapsed_ms: int | None = None
    stderr: str = ""
    data: dict = field(default_factory=dict)  # the probe's own JSON line

    def as_dict(self) -> dict:
        return {
            "outcome": self.outcome, "errno": self.errno, "detail": self.detail,
            "signal": self.signal, "exit": self.exit, "elapsed_ms": self.elapsed_ms,
            "stderr": self.stderr[-2000:], "probe_output": self.data,
        }


def _last_json(text: str) -> dict | None:
    for line in reversed(text.strip().splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def classify(record: dict, timeout_s: float | None = None) -> Observation:
    """One runner record (see probes/runner.c) -> Observation."""
    probe = record.get("id", "?")
    stderr = record.get("stderr") or ""
    base = dict(probe=probe, exit=record.get("exit"), elapsed_ms=record.get("elapsed_ms"),
                stderr=stderr, signal=record.get("signal_name"))
    if record.get("timeout"):
        limit = f" within {timeout_s:g} s" if timeout_s else ""
        return Observation(outcome="timeout", detail=f"no answer{limit}; the runner killed it", **base)
    if record.get("exec_errno"):
        err = record["exec_errno"]
        return Observation(outcome="cannot-start", errno=err, detail=f"execve failed with {err}", **base)
    if record.get("signal_name"):
        message = _last_line(stderr)
        detail = f"killed by {record['signal_name']}" + (f": {message}" if message else "")
        return Observation(outcome="abort", detail=detail, **base)
    data = _last_json(record.get("stdout") or "")
    if record.get("exit") == 0 and data is not None:
        if "syscall" in data:  # a raw probe: its observation is the errno itself
            return Observation(outcome="ok", errno=data.get("errno"), data=data,
                               detail=f"{data['syscall']} -> {data.get('errno') or data.get('ret')}", **base)
        if data.get("outcome") in ("ok", "error", "absent"):
            return Observation(outcome=data["outcome"], errno=data.get("errno"),
                               detail=data.get("detail", ""), data=data, **base)
    if any(marker in stderr for marker in LOADER_MARKERS):
        return Observation(outcome="cannot-start", detail=_last_line(stderr), **base)
    return Observation(outcome="broken",
                       detail=f"exit {record.get('exit')} without an observation line; stderr: {_last_line(stderr)!r}",
                       **base)


# The kernel's own answer can be an errno that filters deliver too (EPERM from a capability
# check, ENOSYS for a number no kernel has); such an observation is "allowed|EPERM".
FILTER_LIKE = ("EPERM", "ENOSYS")


def indistinct(errno: str) -> str:
    return f"allowed|{errno}"


def delivered(entry, obs: Observation | None) -> str:
    """The delivered errno class from a raw probe's observation: 'allowed', an errno name,
    'SIGSYS', 'allowed|<errno>' (see FILTER_LIKE), 'n/a' (no such syscall on this arch) or 'unknown' (the probe failed)."""
    if obs is None:
        return "unknown"
    if obs.outcome == "abort" and obs.signal == "SIGSYS":
        return "SIGSYS"
    if obs.outcome != "ok":
        return "unknown"
    if obs.data.get("unsupported_arch"):
        return "n/a"
    ret = obs.data.get("ret")
    if isinstance(ret, int) and ret >= 0:
        return "allowed"  # only the kernel can make a call succeed
    answer = entry.kernel_answer(obs.data.get("cap_sys_admin"))
    if obs.errno == answer:
        return indistinct(answer) if answer in FILTER_LIKE else "allowed"
    return obs.errno or "unknown"
