"""The arm64 and armhf builds of the probes: cross-compiled on this machine, one build per architecture.

What the x86 builds get from a builder container, an arm64 build gets from Debian's cross
toolchain (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross: scripts/setup-host):
  - the API probes dynamically, so that in the guest they run on the image's own glibc (a
    static probe would test the toolchain's glibc whatever the image holds);
  - the runner and raw statically (the kernel host's baseline runs them with no image);
  - fbc-seccomp-exec statically against Debian's arm64 libseccomp, fetched as a verified
    .deb (debarchive.py) and only unpacked: the guest has no libseccomp of ours.
Layout as the container builds: <dir>/arm64/<binary>. The directory is named by a hash of
the probe sources, the toolchain's versions and the libseccomp package, so a second run
compiles nothing.

armhf (32-bit ARM tasks on the arm64 kernel) is built the same way with its own toolchain and
libseccomp; its batches run under the arm64 runner and filter helper, as i386 batches run under
the amd64 ones on x86_64, so a filter behaves as a 64-bit runtime's would (a profile without
SCMP_ARCH_ARM kills the 32-bit task). share() puts both builds side by side for the one /fbc
mount of a boot, as hard links to the two cached builds.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from . import debarchive, probebuild
from ..cache import cache_dir, digest, locked, progress

BUILD_VERSION = "1"  # bump when the build itself changes
# Debian architecture -> (cross compiler, the packages that make the toolchain).
TOOLCHAINS = {"arm64": ("aarch64-linux-gnu-gcc", ("gcc-aarch64-linux-gnu", "libc6-dev-arm64-cross")),
              "armhf": ("arm-linux-gnueabihf-gcc", ("gcc-arm-linux-gnueabihf", "libc6-dev-armhf-cross"))}
# The host's own release: its cross toolchain is bookworm's, and libseccomp 2.5.4 links with it.
LIBSECCOMP_SUITES = ("bookworm",)


def is_cross(arch: str) -> bool:
    return arch in TOOLCHAINS


def missing_tools(arch: str) -> list[str]:
    compiler, _ = TOOLCHAINS[arch]
    return [t for t in (compiler, "make", "dpkg-deb") if shutil.which(t) is None]


def _versions(packages: tuple[str, ...]) -> str:
    proc = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Version}\\n", *packages],
                          capture_output=True, text=True)
    return proc.stdout.strip()


def libseccomp_package(arch: str, offline: bool = False) -> debarchive.Package | None:
    package = debarchive.newest_cached(LIBSECCOMP_SUITES, "libseccomp-dev", arch, offline)
    if package is None and not offline:
        raise RuntimeError(f"no libseccomp-dev for {arch} in {', '.join(LIBSECCOMP_SUITES)}")
    return package


def _libseccomp(arch: str, work: Path) -> Path:
    """libseccomp-dev of `arch` unpacked under `work`; returns the unpacked root."""
    package = libseccomp_package(arch)
    deb = debarchive.download(package, work / "libseccomp-dev.deb")
    root = work / "libseccomp"
    proc = subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"dpkg-deb -x {package.name}: {proc.stderr.strip()[-300:]}")
    return root


def build_key(arch: str, offline: bool = False) -> str | None:
    """The build's hash (`offline`: None when the libseccomp package was never resolved here)."""
    compiler, packages = TOOLCHAINS[arch]
    package = libseccomp_package(arch, offline)
    if package is None:
        return None
    return digest(BUILD_VERSION, probebuild.sources_hash(), arch, _versions(packages), package.sha256)[:16]


def build_names_in_use() -> set[str]:
    """The cache's probes/ names of the current cross builds and of their shares, as far as the
    cache knows (prune.py): nothing is asked of the archive."""
    keys = {arch: build_key(arch, offline=True) for arch in TOOLCHAINS}
    names = {f"cross-{key}" for key in keys.values() if key}
    for kernel_arch, arch in SHARES:
        if keys[kernel_arch] and keys[arch]:
            names.add(_share_name(keys[kernel_arch], keys[arch]))
    return names


# The pairs share() puts together: (the kernel's own arch: its runner and helper, the image's arch).
SHARES = (("arm64", "armhf"),)


def _share_name(kernel_key: str, key: str) -> str:
    return f"cross-{kernel_key}-{key}"


def share(kernel_arch: str, arch: str) -> Path:
    """A probe directory with `kernel_arch`'s build (runner, raw, filter helper) beside `arch`'s
    (<dir>/<kernel_arch>/..., <dir>/<arch>/...): hard links to the two cached builds, made once."""
    if arch == kernel_arch:
        return build(arch)
    if (kernel_arch, arch) not in SHARES:
        raise ValueError(f"no {arch} build runs on an {kernel_arch} kernel")
    parts = {kernel_arch: build(kernel_arch), arch: build(arch)}
    out = cache_dir() / "probes" / _share_name(*(p.name.removeprefix("cross-") for p in parts.values()))
    if (out / ".complete").exists():
        return out
    with locked(f"probes-{out.name}"):
        if (out / ".complete").exists():
            return out
        with probebuild.staged(out, ".share-") as tmp:
            for name, built in parts.items():
                proc = subprocess.run(["cp", "-al", str(built / name), str(tmp / name)], capture_output=True, text=True)
                if proc.returncode != 0:
                    raise RuntimeError(f"linking the {name} probes into {out.name}: {proc.stderr.strip()[-300:]}")
    return out


def build(arch: str) -> Path:
    """The probe directory holding `arch`'s build (<dir>/<arch>/...), built once."""
    missing = missing_tools(arch)
    if missing:
        raise RuntimeError(f"the {arch} build needs {', '.join(missing)}: run scripts/setup-host")
    out = cache_dir() / "probes" / f"cross-{build_key(arch)}" / arch
    if (out / ".complete").exists():
        return out.parent
    with locked(f"probes-{out.parent.name}"):
        if (out / ".complete").exists():
            return out.parent
        started = time.monotonic()
        progress(f"cross-compiling the {arch} probes ...")
        with tempfile.TemporaryDirectory(prefix=f"fbc-cross-{arch}-") as tmp:
            seccomp = _libseccomp(arch, Path(tmp))
            libdir = next(seccomp.glob("usr/lib/*/libseccomp.a")).parent
            compiler, _ = TOOLCHAINS[arch]
            with probebuild.staged(out, f".{arch}-") as build_dir:
                proc = subprocess.run(["make", "-s", "-C", str(probebuild.PROBES), f"OUT={build_dir}",
                                       f"CC={compiler}", f"MUSLCC={compiler}",
                                       f"SECCOMP=-I{seccomp / 'usr/include'} -L{libdir}", "all", "guest-helper"],
                                      capture_output=True, text=True)
                if proc.returncode != 0:
                    raise RuntimeError(f"cross-compiling the {arch} probes failed: {proc.stderr.strip()[-1500:]}")
        progress(f"cross-compiled the {arch} probes in {time.monotonic() - started:.1f} s")
    return out.parent
