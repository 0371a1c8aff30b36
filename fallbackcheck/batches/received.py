"""The profile the OCI runtime really received, beside the one we asked for.

Engines rewrite profiles on their way to the runtime (resolve extensions, add or drop
fields). Each batch reads the seccomp section of the OCI config the runtime was handed;
conformance cells are judged against it, and what the engine changed is reported as its
own finding (e.g. an engine that drops defaultErrnoRet), measured rather than assumed.
"""

from __future__ import annotations

import json

from ..cache import digest
from ..memo import IdentityMemo
from ..model.profiles import errno_name
from ..model.seccomp_json import resolve


def _content_hash(received: dict) -> str:
    return "sha256:" + digest(json.dumps(received, sort_keys=True))[:16]


# The report key of a received profile (stored once per distinct content); every cell of a
# batch asks it of the same dict (memo.py).
content_hash = IdentityMemo(_content_hash)


def _errno(value) -> str:
    return errno_name(int(value)) if value is not None else "none (EPERM)"


def _args(args) -> str:
    """Argument conditions in one form: an omitted valueTwo is 0 (runtime-spec)."""
    return json.dumps([{k: v for k, v in a.items() if not (k == "valueTwo" and not v)} for a in args or []],
                      sort_keys=True)


def _rules(oci: dict) -> dict[str, set]:
    out: dict[str, set] = {}
    for rule in oci.get("syscalls") or []:
        key = (rule.get("action"), rule.get("errnoRet"), _args(rule.get("args")))
        for name in rule.get("names") or ([rule["name"]] if rule.get("name") else []):
            out.setdefault(name, set()).add(key)
    return out


def changes(asked: dict | None, received: dict | None, limit: int = 8, kernel_arch: str | None = None) -> list[str]:
    """What differs between the profile asked for and the one received, in words; [] when
    they agree or when either is not known (a `default` we cannot read asks nothing). Both are
    resolved as an engine on a `kernel_arch` machine would (None: this machine's)."""
    if asked is None or received is None:
        return []
    return list(_compared(asked, received, limit, kernel_arch))


def _changes(asked: dict, received: dict, limit: int, kernel_arch: str | None) -> list[str]:
    if asked == {} or received == {}:
        return [] if asked == received else [f"asked {'no filter' if asked == {} else 'a filter'}, "
                                             f"received {'no filter' if received == {} else 'a filter'}"]
    a, r = resolve(asked, kernel_arch=kernel_arch), resolve(received, kernel_arch=kernel_arch)
    out = []
    if a.get("defaultAction") != r.get("defaultAction"):
        out.append(f"defaultAction: asked {a.get('defaultAction')}, received {r.get('defaultAction')}")
    if a.get("defaultAction") == r.get("defaultAction") == "SCMP_ACT_ERRNO" and \
            a.get("defaultErrnoRet") != r.get("defaultErrnoRet"):
        out.append(f"defaultErrnoRet: asked {_errno(a.get('defaultErrnoRet'))}, "
                   f"received {_errno(r.get('defaultErrnoRet'))}")
    aa, ra = set(a.get("architectures") or []), set(r.get("architectures") or [])
    if aa != ra:
        out.append(f"architectures: asked {sorted(aa) or 'none'}, received {sorted(ra) or 'none'}")
    if set(a.get("flags") or []) != set(r.get("flags") or []):
        out.append(f"flags: asked {sorted(a.get('flags') or [])}, received {sorted(r.get('flags') or [])}")
    ar, rr = _rules(a), _rules(r)
    dropped = sorted(n for n in ar if n not in rr)
    added = sorted(n for n in rr if n not in ar)
    changed = sorted(n for n in ar if n in rr and ar[n] != rr[n])
    for what, names in (("rules dropped for", dropped), ("rules added for", added), ("rules changed for", changed)):
        if names:
            more = f" and {len(names) - limit} more" if len(names) > limit else ""
            out.append(f"{what} {len(names)} syscalls: {', '.join(names[:limit])}{more}")
    return out


# Every batch of a profile asks with the same dict, and what the runtimes receive comes in a
# few contents: compared once per (profile, received content) rather than once per batch.
_compared = IdentityMemo(_changes, key=lambda received, limit, kernel_arch: (content_hash(received), limit, kernel_arch))
