"""`local@<kernel host>`: the `local` runtime's way of filtering, on a Debian kernel booted in QEMU.

The batch runs as it would under `local` (the static runner, under a filter installed with
libseccomp by probes/fbc-seccomp-exec, linked statically here), but inside a chroot of the
image's unpacked root on the kernel of that host. Every batch of one image shares one boot
(run_batches), so a run boots at most kernels x images times.

The kernel's own answers (every raw probe run unconfined in a boot of that kernel, once per
kernel package and probe build, then cached) are its baseline (kernel.KernelBaseline): a
syscall the kernel lacks answers ENOSYS there, and the batch layer tells that ENOSYS apart
from a filter's (`kernel-ENOSYS`).

An arm64 kernel host (local@linux-6.12-arm64) does the same in qemu-system-aarch64 with the
arm64 build (crossbuild.py), whose static fbc-seccomp-exec is in the probe share itself. It
runs arm64 images and armhf ones (32-bit tasks through the kernel's compat layer, under the
arm64 runner and helper, as i386 runs on x86_64): an x86 image there, or an arm image on an
x86 kernel, would need qemu-user, whose answers are qemu's, not the kernel's (selection.py
pairs them by arch).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from ..artefacts import crossbuild, images, kernels, probebuild
from ..hosts import guest
from ..cache import cache_dir, digest, locked
from ..errors import UsageError
from ..batches.baseline import PROBE_TIMEOUT_S, KernelBaseline, raw_entries, runner_command
from .base import BatchOutput, BatchPlan, Runtime
from ..model.seccomp_policy import refusal, render_policy

BOOT_TIMEOUT_ENV = "FALLBACKCHECK_BOOT_TIMEOUT"
BOOT_LIMIT_S = 180.0  # TCG boots take 3-10 s here; this only catches a kernel that never comes up
HELPER_SOURCE = probebuild.PROBES / "fbc-seccomp-exec.c"


def helper_dir() -> Path:
    """Where fbc-seccomp-exec for this machine's libseccomp and the current source lives."""
    version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libseccomp-dev"], capture_output=True,
                             text=True).stdout.strip()
    key = digest(HELPER_SOURCE.read_bytes(), (probebuild.PROBES / "Makefile").read_bytes(), version)[:16]
    return cache_dir() / "kernels" / f"helper-{key}"


def baseline_prefix(prepared_name: str) -> str:
    """The start of the names of a prepared kernel's baselines with the current probes."""
    return f"baseline-{prepared_name}-{probebuild.sources_hash()[:16]}-"


def guest_helper() -> Path:
    """fbc-seccomp-exec linked statically against the host's libseccomp, built once."""
    out = helper_dir() / "fbc-seccomp-exec"
    if out.exists():
        return out
    with locked(f"kernel-{out.parent.name}"):
        if not out.exists():
            with tempfile.TemporaryDirectory(prefix="fbc-helper-") as tmp:
                proc = subprocess.run(["make", "-s", "-C", str(probebuild.PROBES), f"OUT={tmp}", "guest-helper"],
                                      capture_output=True, text=True)
                if proc.returncode != 0:
                    raise RuntimeError(f"building the static fbc-seccomp-exec failed: {proc.stderr.strip()[-800:]}")
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(Path(tmp) / "fbc-seccomp-exec-static", out.with_suffix(".partial"))
                os.replace(out.with_suffix(".partial"), out)
    return out


class KernelRuntime(Runtime):
    kind = "local"  # local@<kernel host>: the local runtime, on a kernel booted in QEMU
    shares_start = True
    column_order = 50
    shared_column = "kernels"  # every kernel host in one column of the table, by its kernel
    start_s = 25.0  # a kernel boot in QEMU

    def __init__(self, host: str):
        # an unknown host is a usage error here, before anything runs
        self.kernel_arch = kernels.lookup(host).arch
        self.host = host
        self.id = f"local@{host}"
        self.machine = host  # the kernel baseline is this kernel's, not the host's

    # -- what the harness asks of every runtime ---------------------------------------------
    def unavailable_reason(self) -> str | None:
        qemu = guest.MACHINES[self.kernel_arch][0]
        missing = [t for t in (qemu, "cpio", "modinfo", "zstd", "gpgv", "cc", "make") if shutil.which(t) is None]
        if not kernels.BUSYBOX.exists():
            missing.append("busybox (busybox-static)")
        if crossbuild.is_cross(self.kernel_arch):
            missing += crossbuild.missing_tools(self.kernel_arch)
        elif not Path("/usr/lib/x86_64-linux-gnu/libseccomp.a").exists():
            missing.append("libseccomp.a (libseccomp-dev)")
        if missing:
            return f"{', '.join(dict.fromkeys(missing))} missing: run scripts/setup-host"
        if crossbuild.is_cross(self.kernel_arch):
            return None  # its probes are cross-compiled here, with no container
        from ..engines.docker import engine

        if engine().unavailable_reason() and shutil.which("podman") is None:
            return f"the probes are compiled in a builder container: {engine().unavailable_reason()}"
        return None

    def versions(self) -> dict:
        qemu = subprocess.run([guest.MACHINES[self.kernel_arch][0], "--version"], capture_output=True,
                              text=True).stdout.splitlines()
        if crossbuild.is_cross(self.kernel_arch):
            package = crossbuild.libseccomp_package(self.kernel_arch)
            libseccomp = f"{package.version} (static, Debian libseccomp-dev:{self.kernel_arch}, {package.suite})"
        else:
            version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libseccomp-dev"], capture_output=True,
                                     text=True).stdout.strip()
            libseccomp = f"{version} (static, Debian libseccomp-dev)"
        info = kernels.prepare(self.host).info
        return {"engine": f"none (kernel host {self.host} booted in QEMU, TCG)", "kernel_host": self.host,
                "kernel_arch": self.kernel_arch,
                "kernel_package": f"{info['package']} {info['version']} ({info['suite']})",
                "kernel_release": info["release"], "qemu": qemu[0] if qemu else None, "libseccomp": libseccomp}

    def unsupported_profile(self, profile) -> str | None:
        return super().unsupported_profile(profile) or refusal(profile, self.kernel_arch)

    def default_seccomp(self) -> dict | None:
        return None  # there is no runtime default here: `default` is not applicable (selection.py)

    def prepare_image(self, image_id: str) -> tuple[str, str]:
        recipe = images.lookup(image_id)
        if recipe is None:
            raise UsageError(f"runtime {self.id} runs only fallbackcheck's own images (got {image_id!r})")
        if not self.runs_arch(recipe.arch):
            raise UsageError(f"runtime {self.id} is an {self.kernel_arch} kernel: it cannot run the {recipe.arch} "
                             f"image {image_id}")
        return str(images.rootfs(recipe)), recipe.arch

    def probe_dir(self, arch: str = "amd64") -> Path:
        if crossbuild.is_cross(self.kernel_arch):
            if (self.kernel_arch, arch) in crossbuild.SHARES:  # armhf beside arm64, whose runner runs its batches
                return crossbuild.share(self.kernel_arch, arch)
            return crossbuild.build(self.kernel_arch)
        from ..engines.builders import probe_builder

        return probebuild.build_all(probe_builder(), arch)

    def _runner(self) -> str:
        """The static runner in the guest: the kernel's own architecture's."""
        return f"/fbc/{self.kernel_arch}/runner"

    def image_content_key(self, image_id: str, image_ref: str) -> str | None:
        return "rootfs-" + images.tar_digest(images.lookup(image_id))[:32]  # as runc/crun: the same root

    def run_batch(self, plan: BatchPlan) -> BatchOutput:
        return self.run_batches([plan])[0]

    def abandon(self) -> None:
        guest.STOP.set()

    def cleanup(self, session: str | None) -> int:
        pids = guest.leftovers(session)
        guest.kill(pids)
        return len(pids)

    # -- the kernel's own answers ----------------------------------------------------------------
    def _baseline_file(self, prepared: kernels.PreparedKernel, entries: dict) -> Path:
        """The baseline of these raw entries per arch: which syscalls are probed, and as which
        number, is the catalogue's and the syscall table's (not the probe sources'), so it is in
        the name too (an entry that gains an arch is measured, not missing from an old file)."""
        probed = digest(*sorted(f"{arch}:{e.id}:{sorted(e.nr.items())}" for arch, found in entries.items()
                                for e in found))[:16]
        return cache_dir() / "kernels" / f"{baseline_prefix(prepared.path.name)}{'-'.join(entries)}-{probed}.json"

    def kernel_baseline(self, catalogue, arches: list[str]) -> KernelBaseline:
        """Every raw probe of `arches`, unconfined, in a boot of this kernel with no image (the
        runner and raw probes are static): measured once per kernel package and probe build."""
        arches = sorted({a for a in arches if self.runs_arch(a)} | {self.kernel_arch})
        prepared = kernels.prepare(self.host)
        entries = {arch: raw_entries(catalogue, arch) for arch in arches}
        path = self._baseline_file(prepared, entries)
        if path.exists():
            return KernelBaseline.from_dict(self.machine, json.loads(path.read_text()))
        # The share with every arch's build: the 32-bit one (i386, armhf) beside the kernel's own.
        probe_dir = self.probe_dir(next((a for a in arches if a != self.kernel_arch), self.kernel_arch))
        commands = [runner_command(self._runner(), "/fbc", arch, found) for arch, found in entries.items()]
        with tempfile.TemporaryDirectory(prefix="fbc-boot-") as tmp:
            result = guest.boot(prepared, self._boot_name("baseline"), None, probe_dir, Path(tmp), commands,
                                self._boot_limit(), PROBE_TIMEOUT_S * sum(len(c) for c in commands) + 60)
        info = prepared.info
        baseline = KernelBaseline(self.machine, result.release or info["release"],
                                  how=(f"raw probes run with no seccomp filter in a QEMU boot of {info['package']} "
                                       f"{info['version']} ({info['suite']}); measured once per kernel package and "
                                       "probe build, then read from the cache"))
        if result.failure:
            raise RuntimeError(result.failure)
        for (arch, found), command in zip(entries.items(), result.commands):
            if not baseline.read(arch, found, command.stdout):
                raise RuntimeError(f"the {arch} baseline runner on {self.host} failed (exit {command.exit_code}): "
                                   f"{command.stderr.strip()[-300:]}")
        tmp_path = path.with_suffix(f".{uuid.uuid4().hex[:6]}.tmp")
        tmp_path.write_text(json.dumps(baseline.as_dict(), indent=1) + "\n")
        os.replace(tmp_path, path)
        return baseline

    # -- one boot per image ----------------------------------------------------------------------
    def _boot_name(self, session: str) -> str:
        return f"{guest.NAME_PREFIX}{session}-{self.host}-{uuid.uuid4().hex[:8]}"

    def _boot_limit(self) -> float:
        try:
            return float(os.environ.get(BOOT_TIMEOUT_ENV) or BOOT_LIMIT_S)
        except ValueError:
            raise UsageError(f"{BOOT_TIMEOUT_ENV} must be a number of seconds") from None

    def _commands(self, plans: list[BatchPlan], work: Path) -> tuple[list[list[str]], list[dict | None]]:
        """Each plan's command in the guest (the runner under fbc-seccomp-exec and the plan's
        policy, written into `work`), and the seccomp each runtime was handed (None: not an OCI
        runtime, nothing was handed over)."""
        if crossbuild.is_cross(self.kernel_arch):  # built with the probes, for that arch's libseccomp
            helper = f"/fbc/{self.kernel_arch}/fbc-seccomp-exec-static"
        else:
            shutil.copy2(guest_helper(), work / "fbc-seccomp-exec")
            helper = "/fbc-work/fbc-seccomp-exec"
        commands = []
        for n, plan in enumerate(plans):
            argv = plan.command(runner=self._runner())
            if plan.profile.oci is not None:  # unconfined has none
                (work / f"policy-{n}").write_text(render_policy(plan.profile, self.kernel_arch))
                argv = [helper, f"/fbc-work/policy-{n}", *argv]
            commands.append(argv)
        return commands, [None] * len(plans)

    def _oci_host(self) -> Path | None:
        """The root the commands run in instead of the image's (an OCI runtime's host), or None."""
        return None

    def run_batches(self, plans: list[BatchPlan]) -> list[BatchOutput]:
        """Every plan (one image, several profiles) in ONE boot, each in a chroot of the image."""
        if len({(p.image_ref, p.probe_dir) for p in plans}) != 1:
            raise ValueError("one boot runs the batches of one image and one probe build")
        prepared = kernels.prepare(self.host)
        oci_host = self._oci_host()
        first = plans[0]
        name = self._boot_name(first.session)
        with tempfile.TemporaryDirectory(prefix="fbc-boot-") as tmp:
            work = Path(tmp)
            commands, received = self._commands(plans, work)
            result = guest.boot(prepared, name, Path(first.image_ref), first.probe_dir, work, commands,
                                self._boot_limit(), sum(p.overall_timeout_s for p in plans), oci_host=oci_host)
        if result.failure and not any(c.exit_code is not None for c in result.commands):
            raise RuntimeError(result.failure)
        outputs = []
        for plan, command, handed in zip(plans, result.commands, received):
            boot = {"boot": name, "kernel": result.release, "boot_wall_s": round(result.wall_s, 2),
                    "booted_after_s": None if result.booted_after_s is None else round(result.booted_after_s, 2),
                    "batches_in_boot": len(plans), "batch_guest_s": command.guest_s}
            outputs.append(BatchOutput(command.stdout, command.stderr + (f"\n{result.failure}" if result.failure else ""),
                                       command.exit_code, name, timed_out=bool(result.failure) and command.exit_code is None,
                                       boot=boot, received=handed))
        return outputs
