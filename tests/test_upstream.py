"""The reproducers of docs/upstream/, run as the reports say, so that a report never claims
what the machine no longer shows. Each test asserts the bug its report describes: when it
fails, the upstream fix has reached that image or runtime and the report needs updating."""

import re
import uuid
from pathlib import Path

import pytest

from helpers import ROOT, cells_by, load_report, run_suites

pytestmark = pytest.mark.engine

UPSTREAM = ROOT / "docs" / "upstream"


def _glibc_lines(out: Path, image_id: str) -> dict:
    """The reproducer's own report in `image_id`: {(call, errno-before): {field: value}}."""
    from fallbackcheck.artefacts import images
    from fallbackcheck.engines.docker import engine

    eng = engine()
    logs = eng.run_tool(eng.ensure(images.lookup(image_id)), ["/out/glibc-stale-enosys"],
                        {str(out): {"bind": "/out", "mode": "ro"}})
    lines = {}
    for line in logs.splitlines():
        call, *fields = line.split()
        values = dict(f.split("=", 1) for f in fields if "=" in f)
        if "errno-before" in values:
            lines[(call, values["errno-before"])] = values
    return lines


@pytest.fixture(scope="module")
def glibc_reproducer(tmp_path_factory):
    """docs/upstream/glibc-stale-enosys.c compiled in the i386 builder (glibc 2.31: the
    program finds the 2.34 symbols at run time), exactly as the report tells a maintainer."""
    from fallbackcheck.artefacts.images import BUILDERS
    from fallbackcheck.engines.docker import engine

    out = tmp_path_factory.mktemp("glibc-repro")
    out.chmod(0o755)
    eng = engine()
    eng.run_tool(eng.ensure(BUILDERS["i386"]),
                 ["gcc", "-O2", "-Wall", "-o", "/out/glibc-stale-enosys", "/src/glibc-stale-enosys.c", "-ldl"],
                 {str(UPSTREAM): {"bind": "/src", "mode": "ro"}, str(out): {"bind": "/out", "mode": "rw"}})
    assert (out / "glibc-stale-enosys").exists()
    return out


@pytest.mark.parametrize("image_id", ["debian-12-i386", "debian-13-i386"])
def test_glibc_turns_a_success_into_eoverflow_after_a_stale_enosys(glibc_reproducer, image_id):
    lines = _glibc_lines(glibc_reproducer, image_id)
    # The control: errno 0 before the call, the same call succeeds (1 ready fd; SIGUSR1 is 10).
    assert lines[("ppoll", "0")]["ret"] == "1", lines
    assert lines[("sigtimedwait", "0")]["ret"] == "10", lines
    # The bug: the same successful calls with ENOSYS left in errno are reported as failures...
    for call in ("ppoll", "sigtimedwait"):
        got = lines[(call, "ENOSYS")]
        assert (got["ret"], got["errno"]) == ("-1", "EOVERFLOW"), (call, got)
    # ...after their effects took place: revents written, the signal dequeued and lost.
    assert lines[("ppoll", "ENOSYS")]["revents"] != "0x0", lines
    assert lines[("sigtimedwait", "ENOSYS")]["pending-after"] == "0", lines


def test_crun_cache_ignores_a_rules_errnoret(tmp_path):
    """docs/upstream/crun-seccomp-cache-errnoret.md: two profiles that differ only in a rule's
    errnoRet, one container after the other on the same crun; a correct crun delivers each
    profile's own errno (EPERM, then ENOSYS), crun 1.21 delivers the same errno to both."""
    proc = run_suites("--runtimes", "crun@debian-13", "--images", "debian-13", "--probes", "raw:openat2",
                      "--profiles", "deny:openat2:EPERM,deny:openat2:ENOSYS", "--batches", "1", "--no-fixes",
                      report_dir=tmp_path, timeout=1800,
                      env={"FALLBACKCHECK_SESSION": "test-crun-cache-" + uuid.uuid4().hex[:8]})
    report = load_report(tmp_path)
    delivered = {c["profile"]: c["delivered"].get("openat2") for c in report["cells"]}
    assert set(delivered) == {"deny:openat2:EPERM", "deny:openat2:ENOSYS"}, proc.stdout[-3000:]
    assert delivered["deny:openat2:EPERM"] == delivered["deny:openat2:ENOSYS"], delivered


def test_runc_cannot_start_a_container_when_statx_is_denied(tmp_path):
    """docs/upstream/runc-statx-mount-id.md: runc 1.3.6 (Debian sid) under a profile that
    denies only statx, with ENOSYS, the errno every fallback accepts. Unconfined starts."""
    proc = run_suites("--runtimes", "runc@debian-sid", "--images", "debian-13", "--probes", "raw:clone3",
                      "--profiles", "unconfined,deny:statx:ENOSYS", "--no-fixes", report_dir=tmp_path, timeout=1800,
                      env={"FALLBACKCHECK_SESSION": "test-runc-statx-" + uuid.uuid4().hex[:8]})
    report = load_report(tmp_path)
    [unconfined] = cells_by(report, profile="unconfined")
    assert unconfined["verdict"] == "pass", (unconfined, proc.stdout[-3000:])
    [denied] = cells_by(report, profile="deny:statx:ENOSYS")
    assert denied["batch"]["start_refused"] is True, denied
    assert re.search(r"statx\(STATX_MNT_ID_\.\.\.\).*could not get mount id: function not implemented",
                     denied["detail"]), denied["detail"]
