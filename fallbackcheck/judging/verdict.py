"""Judging: an observation against the catalogue, given the delivered errnos and the libc."""

from __future__ import annotations

from dataclasses import dataclass

from ..model.catalogue import ApiEntry, RawEntry, Rule
from ..batches.baseline import KERNEL_ENOSYS
from ..model.libc import Libc
from ..batches.observation import Observation



@dataclass(frozen=True)
class Judgement:
    verdict: str
    detail: str
    expected: str = ""  # the catalogue's prediction (API) or what the profile asks (raw)
    source: str = ""  # its provenance
    behaviour: str = ""  # the documented runtime behaviour that explains a raw difference
    # Why a cell is n/a: every n/a is predicted by one of NA_REASONS; any other is a failure.
    na_reason: str = ""
    api_reached: bool = True  # False: the catalogue says the cell never reached the API


# What may make a cell n/a. Each is a prediction made before the cell ran (the catalogue,
# the syscall table, the image's libc, the kernel baseline, the runtime's own declaration).
NA_REASONS = {
    "arch": "the syscall does not exist on this architecture (syscall table)",
    "libc-family": "the API is catalogued for another libc only",
    "no-libc": "the image has no libc",
    "catalogue": "a catalogue rule for this libc version says n/a",
    "kernel-lacks": "the kernel itself lacks the syscall (kernel baseline)",
    "profile-unreadable": "what this runtime's default profile asks could not be read",
}


def describe(outcome: str, errno: str | None) -> str:
    return f"{outcome} {errno}" if errno else outcome


def _expected_errno(rule: Rule, delivered: str) -> str | None:
    return delivered if rule.errno == "=delivered" else rule.errno


def _applies(rule: Rule, libc: Libc, arch: str, delivered: dict[str, str], default_via: str,
             kernel: str) -> bool:
    return (rule.libc.contains(libc) and (rule.arch is None or rule.arch == arch)
            and (rule.kernel is None or rule.kernel.contains(kernel))
            and rule.matches_delivered(delivered.get(rule.via or default_via, "unknown")))


def _find_rule(entry: ApiEntry, libc: Libc, arch: str, delivered: dict[str, str],
               loader: tuple[Rule, ...], kernel: str = "") -> Rule | None:
    """The first rule that applies; `kernel` is uname -r of the kernel the cell ran on ("" if
    unknown: rules about the kernel then never apply)."""
    for rule in loader:  # if the probe cannot even be loaded, nothing else matters
        if _applies(rule, libc, arch, delivered, "", kernel):
            return rule
    for rule in entry.rules:
        if _applies(rule, libc, arch, delivered, entry.syscalls[0], kernel):
            return rule
    return None


def _delivered_summary(entry: ApiEntry, delivered: dict[str, str]) -> str:
    return ", ".join(f"{s} {delivered[s]}" for s in entry.syscalls)


def judge_api(entry: ApiEntry, obs: Observation, delivered: dict[str, str], libc: Libc, arch: str = "amd64",
              loader: tuple[Rule, ...] = (), kernel: str = "") -> Judgement:
    # glibc sees ENOSYS whoever said it: the kernel lacking the syscall or a filter.
    delivered = {s: ("ENOSYS" if d == KERNEL_ENOSYS else d) for s, d in delivered.items()}
    unmeasured = [s for s in entry.syscalls if delivered.get(s) in (None, "unknown")]
    if unmeasured:
        return Judgement("unexpected", f"{obs.detail} (could not measure what the filter delivers for {unmeasured}: "
                                       "the raw probe failed, see its cell)")
    if all(delivered[s] != "allowed" for s in entry.syscalls) and any(delivered[s] == "n/a" for s in entry.syscalls):
        return Judgement("n/a", f"{entry.syscalls} do not exist on this architecture", na_reason="arch")
    if libc.family not in entry.libcs:
        return Judgement("n/a", f"{entry.api} is only catalogued for {', '.join(entry.libcs)}",
                         na_reason="libc-family")
    rule = _find_rule(entry, libc, arch, delivered, loader, kernel)
    got = describe(obs.outcome, obs.errno)
    if rule is None:
        return Judgement("unexpected", f"{entry.api}: {got} ({obs.detail}); the catalogue has no prediction for "
                                       f"{libc} with {_delivered_summary(entry, delivered)}")
    want_errno = _expected_errno(rule, delivered.get(rule.via or entry.syscalls[0], "unknown"))
    want = describe(rule.outcome, want_errno)
    matches = obs.outcome == rule.outcome and (want_errno is None or obs.errno == want_errno)
    if matches and rule.message and rule.message not in obs.detail:
        matches = False
        want += f" with message containing {rule.message!r}"
    if not matches:
        # the kernel the cell ran on, where a rule of the entry depends on it
        on = f" on kernel {kernel or 'unknown'}" if any(r.kernel is not None for r in entry.rules) else ""
        return Judgement("unexpected", f"{entry.api}: observed {got} ({obs.detail}), catalogue predicts {want} "
                                       f"for {libc} with {_delivered_summary(entry, delivered)}{on}",
                         want, rule.source)
    return Judgement(rule.verdict, obs.detail or got, want, rule.source,
                     na_reason="catalogue" if rule.verdict == "n/a" else "", api_reached=rule.api_reached)


def judge_raw(entry: RawEntry, obs: Observation, delivered: str, asked: str | None,
              explain=None) -> Judgement:
    """A raw probe passes when the filter delivered what the profile literally asks for.

    `explain(asked, delivered)` may name a documented runtime behaviour that accounts for a
    difference (runtimes.py); such a cell passes and carries the name.
    """
    if delivered == "n/a":
        return Judgement("n/a", f"{entry.syscall} does not exist on this architecture", na_reason="arch")
    if delivered == KERNEL_ENOSYS:
        # The kernel answers ENOSYS itself: a filter that allows the call, or answers ENOSYS,
        # looks the same. Only a filter errno other than ENOSYS can still be seen.
        if asked in ("allowed", "ENOSYS", None):
            return Judgement("n/a", f"ENOSYS from the kernel itself: this kernel lacks {entry.syscall} (kernel "
                                    f"baseline), so whether the filter lets it through cannot be seen here",
                             asked or "unknown", "kernel baseline", na_reason="kernel-lacks")
        # A denial the runtime is documented to drop (a name its libseccomp does not know)
        # lets the call through to the kernel, whose own ENOSYS is then all there is to see.
        dropped = explain(asked, "allowed") if explain else None
        if dropped:
            return Judgement("n/a", f"ENOSYS from the kernel itself: this kernel lacks {entry.syscall} (kernel "
                                    f"baseline), and the profile's {asked} does not apply ({dropped}), so the "
                                    "call reaches the kernel; nothing of the filter can be seen here",
                             asked, dropped, dropped, na_reason="kernel-lacks")
        delivered = "ENOSYS"
    if delivered == "unknown":
        return Judgement("unexpected", f"raw probe failed: {describe(obs.outcome, obs.errno)} ({obs.detail})")
    if delivered.startswith("allowed|"):
        # The kernel itself answers with an errno filters use: "allowed" and that errno look alike.
        seen = delivered.split("|", 1)[1]
        if asked in ("allowed", seen):
            return Judgement("pass", f"{seen}, which is also the kernel's own answer here ({entry.why[:120]}): "
                                     f"consistent with the profile's {asked}", asked, "the profile")
        reason = explain(asked, seen) if explain and asked is not None else None
        if reason:
            return Judgement("pass", f"delivered {seen} where the profile asks {asked}: {reason}", asked, reason, reason)
        if asked is None:
            return Judgement("n/a", f"delivered {seen} (or allowed); what this profile asks is not known here",
                             "unknown", na_reason="profile-unreadable")
        return Judgement("unexpected", f"{seen} (the kernel's own answer) but the profile asks {asked}: "
                                       "the filter let the call through", asked, "the profile")
    if asked is None:
        return Judgement("n/a", f"delivered {delivered}; what this profile asks for {entry.syscall} is not known here",
                         "unknown", na_reason="profile-unreadable")
    if delivered == asked:
        return Judgement("pass", f"delivered {delivered}, as the profile asks", asked, "the profile")
    reason = explain(asked, delivered) if explain else None
    if reason:
        return Judgement("pass", f"delivered {delivered} where the profile asks {asked}: {reason}", asked, reason,
                         reason)
    return Judgement("unexpected", f"delivered {delivered} but the profile asks {asked} for {entry.syscall}",
                     asked, "the profile")
