"""armhf for real: 32-bit ARM tasks of debian-13-armhf (glibc 2.41) on Debian's 6.12 arm64 kernel
in qemu-system-aarch64, through the kernel's compat layer. Kept small for CI: three profiles, two
probes, one boot (the kernel's baseline boot, arm64 and armhf raw probes, is cached per kernel
package and probe build).

What glibc does there (time64.toml, loader.toml): clock_gettime(CLOCK_PROCESS_CPUTIME_ID) goes
through the 64-bit vDSO, whose CPU-clock path issues clock_gettime64 and returns its error as is;
a profile whose architectures omit SCMP_ARCH_ARM kills the 32-bit task (the filter helper is the
arm64 kernel's own, and libseccomp adds only that native arch). Both measured here and judged by
the catalogue; the raw facts are asserted too, so a catalogue bent to go green still fails here.
"""

import json
import uuid

import pytest

from fallbackcheck.hosts import guest
from helpers import cells_by, load_report, run_suites

pytestmark = pytest.mark.engine

KERNEL = "local@linux-6.12-arm64"


def test_clock_gettime64_denied_for_armhf_tasks_on_the_arm64_kernel(tmp_path):
    session = f"fbcarmhf-{uuid.uuid4().hex[:6]}"
    arm64_only = tmp_path / "arm64-only.json"
    arm64_only.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_AARCH64"],
                                      "syscalls": [{"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}))
    no_arm = f"file:{arm64_only}"
    proc = run_suites("--runtimes", KERNEL, "--images", "debian-13-armhf",
                      "--profiles", f"unconfined,deny:clock_gettime64:EPERM,{no_arm}",
                      "--probes", "clock_gettime.cputime,raw:clock_gettime64", report_dir=tmp_path / "report",
                      env={"FALLBACKCHECK_SESSION": session}, timeout=2400)
    assert proc.returncode == 0, proc.stdout[-3000:]
    report = load_report(tmp_path / "report")
    cells = cells_by(report, runtime=KERNEL)
    assert len(cells) == 6 and {c["arch"] for c in cells} == {"armhf"}
    assert len({c["batch"]["boot"]["boot"] for c in cells}) == 1  # three batches, one boot
    info = report["environment"]["runtimes"][KERNEL]
    assert info["kernel_arch"] == "arm64" and info["kernel_release"].endswith("-arm64")
    baseline = report["environment"]["kernel_baseline"]["linux-6.12-arm64"]
    assert {"arm64", "armhf"} <= set(baseline["arches"])  # the arm column measured by the arm64 kernel
    assert baseline["arches"]["armhf"]["clock_gettime64"] == "allowed"
    assert {c["libc"] for c in cells if c["kind"] == "api"} == {"glibc 2.41"}
    got = {(c["probe"], c["profile"]): c for c in cells}
    assert got[("raw:clock_gettime64", "unconfined")]["delivered"] == {"clock_gettime64": "allowed"}
    assert got[("raw:clock_gettime64", "deny:clock_gettime64:EPERM")]["delivered"] == {"clock_gettime64": "EPERM"}
    assert got[("clock_gettime.cputime", "unconfined")]["works"] is True
    denied = got[("clock_gettime.cputime", "deny:clock_gettime64:EPERM")]
    assert (denied["outcome"], denied["errno"], denied["works"], denied["verdict"]) == ("error", "EPERM", False,
                                                                                       "expected-break")
    killed = got[("clock_gettime.cputime", no_arm)]
    assert killed["delivered"]["clock_gettime64"] == "SIGSYS"
    assert (killed["outcome"], killed["verdict"]) == ("abort", "expected-break"), killed
    assert "SIGSYS" in killed["detail"]
    assert got[("raw:clock_gettime64", no_arm)]["delivered"] == {"clock_gettime64": "SIGSYS"}
    assert all(c["verdict"] != "unexpected" for c in cells), [(c["probe"], c["profile"], c["detail"]) for c in cells]
    assert guest.leftovers(session) == []
