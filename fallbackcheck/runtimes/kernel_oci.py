"""`runc@<kernel host>`, `crun@<kernel host>`: Debian's runc or crun, run inside a boot of that
kernel host (issue 33, stage 3: runc and crun on arm64; the x86 kernel hosts the same way).

The guest's root is then not the image but the OCI host root (images/recipes.toml,
[oci-host.*]: a Debian root with runc and crun installed), and the image is the containers'
root: each batch is `runc run` (or `crun run`) of a bundle whose config is the same one the
`runc` and `crun` columns of this machine get (oci.bundle_config), so what the runtime does
with the profile, runc's ENOSYS stub included, is measured on that kernel's architecture.
All batches of one image still share one boot (KernelRuntime.run_batches).

An arm64 kernel runs arm64 images and armhf ones (32-bit tasks through the compat layer):
runc computes its stub per architecture of the profile, so armhf cells measure the stub for
SCMP_ARCH_ARM, where the largest number a profile names can be one of ARM's private calls
(set_tls is 0xf0005; docs/arm64.md, "runc and crun on arm64").
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from pathlib import Path

from ..artefacts import images
from ..errors import UsageError
from ..model.behaviours import host_libseccomp_knows
from .base import BatchOutput, BatchPlan, Runtime
from .kernel import KernelRuntime
from .oci import bundle_config

# Per kernel architecture: the OCI host root its runc and crun run from (both Debian 12's).
OCI_HOST_OF_ARCH = {"arm64": "oci-host-debian-12-arm64", "amd64": "oci-host-debian-12"}
OCI_BINARIES = ("runc", "crun")
CONTAINERS_ROOT = "/ctr"  # where the guest script grafts the image (hosts/guest.py, _OCI_HOST)
KILL_AFTER_S = 5


def _package_versions(root: Path, names: tuple[str, ...]) -> dict[str, str | None]:
    """The installed versions of `names` in a Debian root, from its dpkg status file."""
    found: dict[str, str | None] = dict.fromkeys(names)
    for stanza in (root / "var/lib/dpkg/status").read_text(errors="replace").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line and not line[0].isspace())
        if fields.get("Package") in found and fields.get("Status", "").endswith(" installed"):
            found[fields["Package"]] = fields.get("Version")
    return found


def _upstream(debian_version: str | None) -> str | None:
    """1.1.5+ds1-1+deb12u1 -> 1.1.5+ds1 (the part before the Debian revision)."""
    if not debian_version:
        return None
    return debian_version.rpartition("-")[0] or debian_version


class KernelOciRuntime(KernelRuntime):
    shared_column = None  # a column of its own per runtime and kernel host
    family = None  # no engine generation: the generation views leave it out
    start_s = 30.0  # a kernel boot in QEMU, then runc's or crun's own start per batch

    def __init__(self, binary: str, host: str):
        super().__init__(host)
        if binary not in OCI_BINARIES:
            raise ValueError(binary)
        if self.kernel_arch not in OCI_HOST_OF_ARCH:
            raise UsageError(f"runtime {binary}@{host}: no OCI host root for {self.kernel_arch} kernels "
                             "(images/recipes.toml, [oci-host.*]); use local@" + host)
        self.binary = binary
        self.kind = binary
        self.id = f"{binary}@{host}"
        self.column_order = 51 + self.oci_rank(binary)  # beside the kernels' column

    def unavailable_reason(self) -> str | None:
        reason = super().unavailable_reason()
        built = images.tar_path(self._oci_recipe()).exists()
        if reason is None and not built and shutil.which("mmdebstrap") is None:
            return f"mmdebstrap missing (it builds {self._oci_recipe().id}, where {self.binary} runs): run scripts/setup-host"
        return reason

    def _oci_recipe(self) -> images.Recipe:
        return images.OCI_HOSTS[OCI_HOST_OF_ARCH[self.kernel_arch]]

    def _oci_host(self) -> Path:
        return images.rootfs(self._oci_recipe())

    def versions(self) -> dict:
        out = super().versions()
        recipe = self._oci_recipe()
        installed = _package_versions(self._oci_host(), (self.binary, "libseccomp2"))
        # Read from the root's dpkg status, not `--version`: that would need a boot of its own.
        out.update({
            "engine": f"none (inside kernel host {self.host}, QEMU TCG)",
            "oci_runtime": self.binary,
            "oci_runtime_version": f"{self.binary} version {_upstream(installed[self.binary])}",
            "oci_runtime_package": f"Debian {self.binary} {installed[self.binary]} {recipe.arch} ({recipe.suite})",
            "libseccomp": f"{installed['libseccomp2']} (Debian libseccomp2:{recipe.arch}, linked dynamically)",
            "oci_host": f"{recipe.id} ({recipe.suite}/{recipe.arch}, recipe {recipe.hash})",
        })
        return out

    @functools.cached_property
    def _same_libseccomp(self) -> bool:
        guest = _package_versions(self._oci_host(), ("libseccomp2",))["libseccomp2"]
        here = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libseccomp2"], capture_output=True,
                              text=True).stdout.strip()
        return bool(guest) and _upstream(guest) == _upstream(here)

    def libseccomp_knows(self, name: str, arch: str) -> bool | None:
        """What the guest's libseccomp resolves: this machine's answers it when both are the same
        upstream release (libseccomp's syscall tables are the same on every architecture it
        runs on); otherwise the rules that need the answer do not apply (None)."""
        return host_libseccomp_knows(name, arch) if self._same_libseccomp else None

    def unsupported_profile(self, profile) -> str | None:
        return Runtime.unsupported_profile(self, profile)  # runc and crun take any OCI profile, as written

    def default_seccomp(self) -> dict | None:
        return {}  # as runc and crun here: no filter when the config names none

    def _commands(self, plans: list[BatchPlan], work: Path) -> tuple[list[list[str]], list[dict | None]]:
        commands, received = [], []
        for n, plan in enumerate(plans):
            bundle = work / f"bundle-{n}"
            bundle.mkdir()
            config = bundle_config(plan, Path(CONTAINERS_ROOT), plan.command(runner=self._runner()), probes="/fbc",
                                   kernel_arch=self.kernel_arch)
            (bundle / "config.json").write_text(json.dumps(config))
            # Nothing stands between us and the runtime: what it receives is what we wrote.
            received.append(config["linux"].get("seccomp") or {})
            # Each its own limit inside the guest: a runtime that hangs (runc 1.1.5 does, when its
            # init meets a filter that denies nearly everything) must not take the boot's other
            # batches down with it. coreutils' timeout: TERM, then KILL 5 s later.
            commands.append(["timeout", "-k", str(KILL_AFTER_S), f"{plan.overall_timeout_s:g}", self.binary, "run",
                             "--bundle", f"/fbc-work/bundle-{n}", f"fbc-{n}"])
        return commands, received

    def run_batches(self, plans: list[BatchPlan]) -> list[BatchOutput]:
        outputs = super().run_batches(plans)
        for plan, output in zip(plans, outputs):
            spent = (output.boot or {}).get("batch_guest_s")
            # timeout(1) exits 124 when it stopped the command (137 when it had to KILL it); the
            # guest's clock tells a stopped runtime from a container that died of a SIGKILL
            if output.exit_code in (124, 137) and spent is not None and spent >= plan.overall_timeout_s:
                output.stderr += (f"\n{self.binary} did not finish within {plan.overall_timeout_s:g} s in the guest: "
                                  "stopped there (timeout(1)); the boot's other batches went on")
                output.exit_code, output.timed_out = None, True
        return outputs
