"""Views across engine generations, computed from matrix.json only: which generation's
default profile first lets every API work, what changed from one generation to the next,
what engines changed in the profiles on their way to the runtime, and every component's
version. Each view is a titled table (tables.Table), rendered by render_md and render_html alike."""

from __future__ import annotations

from ..memo import IdentityMemo
from ..judging.survival import survives
from .tables import Table
from . import runtime_facts


def family_of(report: dict, runtime_id: str) -> str | None:
    """The engine family a deployment asks about (the answer is per family, whichever OCI
    runtime), as the run wrote it for the runtime's kind (environment.runtime_kinds)."""
    return ((report["environment"].get("runtime_kinds") or {}).get(runtime_id) or {}).get("family")


def split(report, runtime_id: str) -> tuple[str, str]:
    """(kind, host) as the run wrote them for the runtime (environment.runtime_kinds)."""
    facts = runtime_facts(report, runtime_id)
    return facts["kind"], facts["host"]


def host_order(report: dict) -> list[str]:
    """This host first (its engines are the oldest measured here), then the generations in
    recipe order (oldest suite first), then engine hosts reached over ssh."""
    env = report["environment"]
    present = {split(report, c["runtime"])[1] for c in report["cells"]}
    order = [""] + list(env.get("generation_order") or []) + sorted(env.get("engine_hosts") or {})
    return [h for h in dict.fromkeys(order) if h in present]


def host_name(host: str) -> str:
    return host or "this host"


def _engine_of(report: dict, runtime_id: str) -> str:
    info = (report["environment"].get("runtimes") or {}).get(runtime_id) or {}
    oci = (info.get("oci_runtime_version") or "").replace(" version", "")
    return ", ".join(v for v in (info.get("engine"), oci) if v)


def _survives(cells: list[dict]) -> bool:
    return survives(cells)[0]


def oldest_default(report: dict) -> Table | None:
    """Per image and engine family: the oldest generation whose `default` profile lets
    every API probe work (`works`; failures exactly like an old kernel's excused)."""
    order = host_order(report)
    api = [c for c in report["cells"] if c["kind"] == "api" and c["profile"] == "default"
           and family_of(report, c["runtime"])]
    if len(order) < 2 or not api:
        return None
    table = Table("Oldest generation whose default profile lets every API probe work",
                  "Per image and engine family, under the engine's own `default` profile (for containerd: "
                  "Kubernetes' RuntimeDefault). ✓ every API probe that was called works there (`works`), "
                  "✗ n of them do not, blank: not in this run; the answer is the first ✓ from the oldest "
                  "generation measured on.",
                  ["image", "family", "oldest measured that works", *[host_name(h) for h in order]])
    for image in sorted({c["image"] for c in api}):
        for family in dict.fromkeys(family_of(report, c["runtime"]) for c in api if c["image"] == image):
            marks, first = [], ""
            for host in order:
                cells = [c for c in api if c["image"] == image and split(report, c["runtime"])[1] == host
                         and family_of(report, c["runtime"]) == family]
                if not cells:
                    marks.append("")
                    continue
                ok = _survives(cells)
                marks.append("✓" if ok else f"✗ {sum(1 for c in cells if c.get('works') is False)}")
                if ok and not first:
                    first = host_name(host)
            table.rows.append([image, family, first or "none measured", *marks])
    return table


def _outcome(cell: dict) -> str:
    if cell["kind"] == "raw":
        return "/".join(cell["delivered"].values())
    text = cell["errno"] if cell["outcome"] == "error" and cell.get("errno") else str(cell["outcome"])
    delivered = ", ".join(f"{s} {d}" for s, d in cell["delivered"].items())
    return f"{text} ({delivered})" if delivered else text


def changes_between(report: dict) -> Table | None:
    """Per runtime kind and consecutive generation pair: the cells whose delivered errno or
    outcome changed."""
    order = host_order(report)
    if len(order) < 2:
        return None
    by_key: dict[tuple, dict] = {}
    for c in report["cells"]:
        kind, host = split(report, c["runtime"])
        by_key[(kind, host, c["probe"], c["image"], c["profile"])] = c
    table = Table("What changed between generations",
                  "Per runtime kind, from one generation to the next: the cells whose outcome or delivered "
                  "errno differ (same probe, image and profile).",
                  ["runtime", "from → to", "probe", "image", "profile", "before", "after"])
    kinds = sorted({k[0] for k in by_key})
    for kind in kinds:
        hosts = [h for h in order if any(k[0] == kind and k[1] == h for k in by_key)]
        for a, b in zip(hosts, hosts[1:]):
            step = (f"{host_name(a)} ({_engine_of(report, kind + ('@' + a if a else ''))}) → "
                    f"{host_name(b)} ({_engine_of(report, kind + '@' + b)})")
            for (k, h, probe, image, profile), before in sorted(by_key.items()):
                if k != kind or h != a:
                    continue
                after = by_key.get((kind, b, probe, image, profile))
                if after is not None and _outcome(before) != _outcome(after):
                    table.rows.append([kind, step, probe, image, profile, _outcome(before), _outcome(after)])
    if not table.rows:
        table.rows.append(["(none)", "", "", "", "", "", ""])
    return table


def profile_changes(report: dict) -> Table | None:
    """Per runtime and profile: what the engine changed between the profile asked for and
    the one its OCI runtime received (measured, from each batch's received profile)."""
    seen: dict[tuple, list[str]] = {}
    unread: dict[tuple, str] = {}
    for c in report["cells"]:
        batch = c.get("batch") or {}
        key = (c["runtime"], c["profile"])
        if batch.get("profile_changes"):
            seen.setdefault(key, batch["profile_changes"])
        elif batch.get("received_profile_unread"):
            unread.setdefault(key, batch["received_profile_unread"])
    if not seen and not unread:
        return None
    table = Table("What engines changed in the profile on its way to the runtime",
                  "Measured: the seccomp section of the OCI config each runtime was handed, against the "
                  "profile asked for. Conformance cells are judged against what the runtime received.",
                  ["runtime", "profile", "change"])
    for (runtime, profile), items in sorted(seen.items()):
        table.rows += [[runtime, profile, item] for item in items]
    for (runtime, profile), why in sorted(unread.items()):
        table.rows.append([runtime, profile, f"received profile not read: {why}"])
    return table


VERSION_KEYS = ("dockerd", "containerd", "runc", "crun", "podman", "libseccomp (runc)")


def versions(report: dict) -> Table | None:
    hosts = report["environment"].get("engine_hosts") or {}
    if not hosts:
        return None
    table = Table("Engine generations and engine hosts", "Every component's version, as reported there.",
                  ["host", "kind", *VERSION_KEYS, "Debian packages"])
    for name, info in sorted(hosts.items()):
        packages = ", ".join(f"{p} {v}" for p, v in sorted((info.get("packages") or {}).items()))
        table.rows.append([name, info.get("kind", "?"), *[str(info.get(k) or "") for k in VERSION_KEYS],
                           packages or info.get("error", "")])
    return table


def tables(report) -> list[Table]:
    from . import Report, as_report

    if isinstance(report, dict) and report.get("schema"):
        report = as_report(report)  # matrix.json as written: its cells encoded
    if isinstance(report, Report):  # the Markdown and HTML views both ask: computed once
        return _tables_once(report)
    return _tables(report)


def _tables(report) -> list[Table]:
    return [t for t in (versions(report), oldest_default(report), changes_between(report),
                        profile_changes(report)) if t is not None]


_tables_once = IdentityMemo(_tables, size=4)  # a Report does not change once built or read
