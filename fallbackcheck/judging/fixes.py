"""The smallest profile change that fixes each cause group, written out to be proven by a rerun.

For a group whose culprit syscalls a profile answers with an errno that defeats glibc's
ENOSYS-only fallback (causes.py), the fix is one rule: the culprits answered with ENOSYS
(and taken out of any rule that named them, since a runtime refuses two rules for one
syscall). Each profile we can change gets one patched copy with the rules of all its groups
(what a user would deploy), named after it in <report-dir>/fixes/. Where the filter already delivers ENOSYS and the
API still fails, ENOSYS cannot help: the fix is to allow the syscall, and it is offered only
where a current engine's default profile allows it too. Profiles the run does not own
(`default`, the engine's own; `unconfined`, no filter) get no patch: views say which runtime
of the run does not break instead (causes.survivors).

The plugin reruns the broken cells of each profile under its patched copy at the end of the
run, one batch per (image, runtime, patched profile); the rows it gets carry `fix_of` (the
original profile) and `fix_group` (the cell's cause id), which is how views count the proof
per group.
"""

from __future__ import annotations

import copy
import difflib
import errno as errno_mod
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .causes import Group, groups
from ..model.profiles import Profile, errno_name

PATCHABLE = ("deny", "vintage", "file")
# A current engine's default profile: where it allows a syscall, allowing it is a fix we can
# recommend (Podman's default from containers-common; Docker compiles its own into dockerd).
NEWER_DEFAULT = Path("/usr/share/containers/seccomp.json")
NEWER_DEFAULT_NAME = "the containers-common default profile (Podman's)"


def newer_default() -> dict | None:
    try:
        return json.loads(NEWER_DEFAULT.read_text())
    except (OSError, ValueError):
        return None
ENOSYS = errno_mod.ENOSYS


@dataclass
class Fix:
    """The patched copy of one profile: one rule per cause group of that profile."""
    profile: str  # the original profile id
    rules: dict[str, dict]  # cause id -> {"rule": the rule added, "change": one line}
    path: Path  # the patched profile
    patched: dict  # its JSON
    cells: list[tuple[str, str, str, str]] = field(default_factory=list)  # (probe, image, runtime, cause id)
    diff: str = ""  # for file: profiles, the unified diff against the user's file (one line per rule)
    text: str = ""  # the patched profile as written to `path`

    def write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(self.text)

    @property
    def profile_id(self) -> str:
        return f"file:{self.path}"

    def batches(self) -> dict[tuple[str, str], list[str]]:
        """(image, runtime) -> the probes to rerun there: one batch (container) each."""
        out: dict[tuple[str, str], list[str]] = {}
        for probe, image, runtime, _ in self.cells:
            probes = out.setdefault((image, runtime), [])
            if probe not in probes:
                probes.append(probe)
        return out

    def group_of(self, probe: str, image: str, runtime: str) -> str:
        return next(g for p, i, r, g in self.cells if (p, i, r) == (probe, image, runtime))

    def as_dict(self) -> dict:
        return {"profile": self.profile, "patched_profile": self.profile_id, "groups": self.rules,
                "diff": self.diff, "cells": len(self.cells), "batches": len(self.batches())}


def rule_text(rule: dict) -> str:
    """A rule as the issue tracker writes it: {names:[clone3], action: SCMP_ACT_ERRNO, errnoRet: 38}."""
    parts = [f"names:[{', '.join(rule['names'])}]", f"action: {rule['action']}"]
    if "errnoRet" in rule:
        parts.append(f"errnoRet: {rule['errnoRet']}")
    return "{" + ", ".join(parts) + "}"


def _names(rule: dict) -> list[str]:
    return rule.get("names") or ([rule["name"]] if rule.get("name") else [])


def patch(oci: dict, names: list[str], rule: dict) -> tuple[dict, list[str]]:
    """The profile with `rule` first and `names` removed from every other rule; and what was removed."""
    out = copy.deepcopy(oci)
    removed, kept = [], []
    for i, old in enumerate(out.get("syscalls") or []):
        hit = [n for n in _names(old) if n in names]
        if not hit:
            kept.append(old)
            continue
        removed.append(f"{', '.join(hit)} from rule {i} ({old.get('action')})")
        rest = [n for n in _names(old) if n not in names]
        if rest:
            old = {k: v for k, v in old.items() if k != "name"}
            old["names"] = rest
            kept.append(old)
    out["syscalls"] = [rule, *kept]
    return out, removed


def patched_text(original: str | None, patched: dict, rule: dict, removed: list[str]) -> str | None:
    """The patched file's text: the user's own text with one line added where that is all that
    changed (so the diff is one line per rule), otherwise the JSON written out; None when
    there is no text of the user's to keep."""
    if original is None:
        return None
    if not removed:
        match = re.search(r'"syscalls"\s*:\s*\[', original)
        if match:
            text = original[:match.end()] + "\n" + json.dumps(rule) + "," + original[match.end():]
            try:
                if json.loads(text) == patched:
                    return text
            except ValueError:
                pass
    return json.dumps(patched, indent=1) + "\n"


def enosys_helps(catalogue, row: dict, names: list[str]) -> bool:
    """Does the catalogue predict that the API works in this cell once `names` get ENOSYS?"""
    from ..model.libc import Libc
    from .verdict import _find_rule

    entry = catalogue.get(row["probe"])
    try:
        libc = Libc.parse(row.get("libc") or "")
    except ValueError:
        return False
    delivered = {**(row.get("delivered") or {}), **{n: "ENOSYS" for n in names}}
    rule = _find_rule(entry, libc, row.get("arch") or "amd64", delivered, catalogue.loader,
                      (row.get("batch") or {}).get("kernel") or "")
    return rule is not None and rule.outcome == "ok"


def _fix_rule(group: Group, catalogue, newer_default: dict | None) -> tuple[dict, str] | str:
    """The rule that fixes the group and how to say it; or why there is none."""
    culprits = group.cause.culprits
    if not culprits or group.cause.kind == "other":
        return "nothing the profile filters defeats it"
    names = [s for s, _ in culprits]
    already_enosys = all(d in ("ENOSYS", "kernel-ENOSYS") for _, d in culprits)
    if not already_enosys and any(enosys_helps(catalogue, c, names) for c in group.cells):
        return {"names": names, "action": "SCMP_ACT_ERRNO", "errnoRet": ENOSYS}, "answered with ENOSYS"
    # ENOSYS does not help (a thin wrapper has no fallback, or the filter already says
    # ENOSYS): only allowing the syscall can, and only a current default's say-so makes that
    # a recommendation rather than a guess.
    from ..model.profiles import asks_in

    why = ("the filter already answers ENOSYS" if already_enosys
           else "the catalogue predicts no fallback on ENOSYS here")
    if newer_default is None:
        return f"{why}, and there is no current default profile to compare with ({NEWER_DEFAULT} is missing)"
    refused = [n for n in names if asks_in(newer_default, n, "amd64") != "allowed"]
    if refused:
        return f"{why}, and {NEWER_DEFAULT_NAME} does not allow {', '.join(refused)} either"
    return {"names": names, "action": "SCMP_ACT_ALLOW"}, f"allowed, as {NEWER_DEFAULT_NAME} does"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:60]


def _rule(names: list[str], action: str) -> dict:
    if action == "SCMP_ACT_ALLOW":
        return {"names": names, "action": action}
    return {"names": names, "action": "SCMP_ACT_ERRNO", "errnoRet": ENOSYS}


def plan(rows, profiles: dict[str, Profile], directory: Path, catalogue,
         default: dict | None = None, write: bool = True) -> tuple[list[Fix], dict[str, str]]:
    """Per profile of the run we can change: its patched copy (the rules of all its cause
    groups), written to `directory` (with write=False, by Fix.write() later), and the cells to
    rerun under it; and, per cause group no rule can fix, why."""
    wanted: dict[str, list[tuple[Group, dict, str]]] = {}
    notes: dict[str, str] = {}
    for group in groups(rows):
        found = _fix_rule(group, catalogue, default)
        if isinstance(found, str):
            notes[group.cause.id] = found
            continue
        for profile_id in group.profiles:
            profile = profiles.get(profile_id)
            if profile is not None and profile.kind in PATCHABLE and profile.oci:
                wanted.setdefault(profile_id, []).append((group, *found))
    fixes = []
    for profile_id, parts in sorted(wanted.items()):
        profile = profiles[profile_id]
        # In cause order: a profile's fix is then the same whatever other profiles ran beside it
        # (groups() orders groups by their cells in all profiles), and can be proven early.
        parts.sort(key=lambda part: part[0].cause.id)
        # One action per syscall across the profile's groups: allowing, where some group
        # needs it, also serves a group that ENOSYS would have served.
        action: dict[str, str] = {}
        how: dict[str, str] = {}
        for _, rule, why in parts:
            for name in rule["names"]:
                if action.get(name) != "SCMP_ACT_ALLOW":
                    action[name], how[name] = rule["action"], why
        added = [_rule([n for n in action if action[n] == a], a) for a in ("SCMP_ACT_ERRNO", "SCMP_ACT_ALLOW")
                 if a in action.values()]
        original = profile.path.read_text() if profile.kind == "file" and profile.path is not None else None
        patched, text, removed_by_name = profile.oci, original, {}
        for rule in reversed(added):  # each goes first: the ENOSYS rule ends up first
            patched, removed = patch(patched, rule["names"], rule)
            text = patched_text(text, patched, rule, removed)
            for entry in removed:
                removed_by_name[entry.split(" from ")[0]] = entry
        if text is None:
            text = json.dumps(patched, indent=1) + "\n"
        tag = hashlib.sha256(profile_id.encode()).hexdigest()[:8]
        path = directory / f"{_slug(profile_id.split('/')[-1])}-fixed-{tag}.json"
        diff_lines = []
        if original is not None:
            diff_lines = [line.rstrip("\n") for line in difflib.unified_diff(
                original.splitlines(True), text.splitlines(True), n=0) if not line.startswith(("---", "+++", "@@"))]
        rules = {}
        for group, _, _ in parts:
            names = group.cause.syscalls
            mine = [_rule([n for n in names if action.get(n) == a], a) for a in ("SCMP_ACT_ERRNO", "SCMP_ACT_ALLOW")
                    if any(action.get(n) == a for n in names)]
            change = "add " + " and ".join(rule_text(r) for r in mine) + " (" + "; ".join(
                f"{', '.join(r['names'])} {how[r['names'][0]]}" for r in mine) + ")"
            gone = [removed_by_name[k] for k in removed_by_name if any(n in k.split(", ") for n in names)]
            if gone:
                change += f"; remove {'; '.join(gone)}"
            lines = [line for line in diff_lines if line.startswith("+") and any(f'"{n}"' in line for n in names)]
            rules[group.cause.id] = {"rules": mine, "change": change,
                                     "diff": lines[0] if len(lines) == 1 and len(diff_lines) <= len(added) else ""}
        cells = sorted({(c["probe"], c["image"], c["runtime"], group.cause.id)
                        for group, _, _ in parts for c in group.cells if c["profile"] == profile_id})
        fixes.append(Fix(profile_id, rules, path.resolve(), patched, cells, "\n".join(diff_lines), text))
    if write:
        for fix in fixes:
            fix.write()
    return fixes, notes


def proof(fix: dict, group: str, fix_rows: list[dict]) -> tuple[int, int]:
    """(cells that work under the patched profile, cells rerun) for one cause group of a fix.
    A cell proves the fix only where its rules were delivered: a runtime that drops a rule
    (systemd-nspawn takes no errno) may let the API work for another reason."""
    from .causes import works

    rules = (fix.get("groups") or {}).get(group, {}).get("rules") or []
    rows = [r for r in fix_rows if r.get("fix_group") == group and r.get("fix_of") == fix["profile"]
            and r.get("kind") == "api"]
    return sum(1 for r in rows if works(r) and _delivered_as_fixed(r, rules)), len(rows)


def _delivered_as_fixed(row: dict, rules: list[dict]) -> bool:
    """Every syscall a fix rule names got what the rule asks, where the cell measured it."""
    from ..batches.baseline import KERNEL_ENOSYS

    for rule in rules:
        for name in rule.get("names") or []:
            got = (row.get("delivered") or {}).get(name)
            if got is None:
                continue  # not a syscall of this API
            if rule.get("action") == "SCMP_ACT_ALLOW" and not got.startswith("allowed"):
                return False
            if rule.get("action") == "SCMP_ACT_ERRNO" and \
                    got not in (errno_name(int(rule.get("errnoRet", 1))), KERNEL_ENOSYS) and \
                    got != f"allowed|{errno_name(int(rule.get('errnoRet', 1)))}":
                return False
    return True
