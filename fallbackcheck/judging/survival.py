"""Whether a set of cells "survives": every API that was called works. The question every
"oldest X from which on everything works" view asks (vintages, generations, kernels, the
published table's "works since")."""

from __future__ import annotations


def survives(cells: list[dict], works_unfiltered: set | None = None) -> tuple[bool, int]:
    """(every API that was called works, how many failures were excused): a failure is
    excused only where the API fails exactly as on a kernel without its syscall (a syscall
    it needs answered ENOSYS and the catalogue documents no fallback), which is what that
    kernel itself would give. `works` decides, never the verdict; null means "never called"
    (absent from this libc, no libc, not measured) and counts neither way. With
    `works_unfiltered` (the probes that work with no filter on the same image and runtime),
    an API that does not work even then is not the profile's doing and does not count."""
    failed = [c for c in cells if c.get("works") is False
              and (works_unfiltered is None or c["probe"] in works_unfiltered)]
    excused = [c for c in failed if c.get("fails_like_old_kernel")]
    return len(failed) == len(excused), len(excused)


def oldest_surviving(points: list[str], verdicts: dict[str, tuple[bool, int]]) -> str | None:
    """The oldest of `points` (oldest first) from which on every point survives; None when
    the newest does not."""
    oldest = None
    for point in reversed(points):  # newest first: stop at the first that breaks
        if not verdicts[point][0]:
            break
        oldest = point
    return oldest
