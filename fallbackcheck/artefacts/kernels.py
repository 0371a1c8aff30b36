"""Kernel hosts: a Debian kernel package, fetched once and prepared for booting in QEMU.

Prepared means: the uncompressed vmlinux (QEMU boots it through its PVH entry, which skips
the in-guest decompressor: 2.5-4 s per boot under TCG instead of 8-13 s), and an initramfs
with busybox-static, the 9p modules of the same package (decompressed, dependencies first)
and fallbackcheck's guest init. An arm64 kernel host (arch = "arm64" in the table) boots
the package's `Image` as it is (Debian ships it uncompressed) in qemu-system-aarch64, with
Debian's arm64 busybox-static (a verified .deb, only unpacked) in its initramfs. Both are cached under a name that hashes the package's
SHA256 and everything else that goes into them, so a second run prepares nothing.
"""

from __future__ import annotations

import json
import lzma
import re
import shutil
import struct
import subprocess
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from . import debarchive
from .. import paths
from ..cache import cache_dir, digest, locked
from ..errors import UsageError

PREP_VERSION = "1"  # bump when the preparation itself changes
TABLE = paths.BASE / "images" / "kernels.toml"
GUEST_INIT = paths.PACKAGE / "data" / "guest-init.sh"
BUSYBOX = Path("/bin/busybox")  # from busybox-static: the guest has no libc of its own
# What the guest needs to mount the host's shares (their dependencies are added).
NEEDED_MODULES = ("virtio_pci", "9pnet_virtio", "9p")
PACKAGE_PREFIX = "linux-image-"


# The arm64 guest's busybox: the host's busybox-static is an x86_64 program.
BUSYBOX_SUITES = {"arm64": ("trixie",)}


@dataclass(frozen=True)
class KernelHost:
    id: str  # linux-6.1, or a package name linux-image-6.1.0-37-amd64
    suites: tuple[str, ...]
    pattern: str  # full-match regex over package names
    arch: str = "amd64"


@dataclass(frozen=True)
class PreparedKernel:
    host: str
    path: Path

    @property
    def vmlinux(self) -> Path:
        """What QEMU's -kernel boots: the ELF vmlinux (x86), the arm64 Image."""
        image = self.path / "Image"
        return image if image.exists() else self.path / "vmlinux"

    @property
    def arch(self) -> str:
        """The kernel's Debian architecture (preparations from before arm64 say none: amd64)."""
        meta = self.path / "kernel.json"
        return json.loads(meta.read_text()).get("arch", "amd64") if meta.exists() else "amd64"

    @property
    def initrd(self) -> Path:
        return self.path / "initrd.cpio"

    @property
    def info(self) -> dict:
        """release (uname -r), package, version, suite, sha256 of the .deb, modules."""
        return json.loads((self.path / "kernel.json").read_text())


def is_kernel_host(name: str) -> bool:
    return name.startswith("linux-")


def _table() -> dict[str, KernelHost]:
    data = tomllib.loads(TABLE.read_text())
    return {name: KernelHost(name, tuple(h["suites"]), h["package"], h.get("arch", "amd64"))
            for name, h in data.get("host", {}).items()}


def host_ids() -> list[str]:
    return list(_table())


def lookup(host_id: str) -> KernelHost:
    table = _table()
    if host_id in table:
        return table[host_id]
    if host_id.startswith(PACKAGE_PREFIX) and re.fullmatch(r"[a-z0-9][a-z0-9.+-]*", host_id):
        arch = "arm64" if re.search(r"-arm64(-unsigned)?$", host_id) else "amd64"
        every = tuple(dict.fromkeys(s for h in table.values() if h.arch == arch for s in h.suites))
        return KernelHost(host_id, every, re.escape(host_id), arch)
    raise UsageError(f"unknown kernel host {host_id!r}: use one of {', '.join(table)}, or a Debian kernel "
                     f"package name such as linux-image-6.1.0-37-amd64")


def _resolved_path(host: KernelHost) -> Path:
    arch = () if host.arch == "amd64" else (host.arch,)  # x86 hosts keep the names they had
    key = digest(host.id, *host.suites, host.pattern, debarchive.debian_mirror(), debarchive.security_mirror(),
                 *arch)[:16]
    return cache_dir() / "kernels" / f"resolved-{host.id}-{key}.json"


def _busybox_package(arch: str, offline: bool = False) -> debarchive.Package | None:
    """Debian's busybox-static for a foreign guest (None: the host's own will do, or, offline,
    nothing was resolved yet)."""
    if arch == "amd64":
        return None
    package = debarchive.newest_cached(BUSYBOX_SUITES[arch], "busybox-static", arch, offline)
    if package is None and not offline:
        raise RuntimeError(f"no busybox-static for {arch} in {', '.join(BUSYBOX_SUITES[arch])}")
    return package


def _prepared_path(package: debarchive.Package, arch: str = "amd64", busybox_package=None) -> Path:
    busybox = (BUSYBOX.read_bytes() if arch == "amd64"
               else (busybox_package or _busybox_package(arch)).sha256.encode())
    key = digest(PREP_VERSION, package.sha256, GUEST_INIT.read_bytes(), busybox, " ".join(NEEDED_MODULES))[:16]
    return cache_dir() / "kernels" / f"{package.name}-{key}"


def cache_names_in_use() -> set[str] | None:
    """The names under the cache's kernels/ that the current kernel table refers to: each
    host's resolved package and that package's prepared kernel, as this machine would
    prepare it (prune.py). Nothing is asked of the archive: a host not resolved yet has
    nothing here. None where the preparation's key cannot be worked out (no busybox-static)."""
    if not BUSYBOX.exists():
        return None
    names = set()
    for host in _table().values():
        resolved = _resolved_path(host)
        names.add(resolved.name)
        # A foreign guest's key has its busybox package in it: only as far as the cache knows it.
        busybox = _busybox_package(host.arch, offline=True)
        if resolved.exists() and (host.arch == "amd64" or busybox is not None):
            package = debarchive.Package(**json.loads(resolved.read_text()))
            names.add(_prepared_path(package, host.arch, busybox).name)
    return names


def resolve(host: KernelHost) -> debarchive.Package:
    """The package `host` stands for: asked of the archive once, then read from the cache."""
    path = _resolved_path(host)
    if path.exists():
        return debarchive.Package(**json.loads(path.read_text()))
    with locked(f"kernel-{path.stem}"):
        if path.exists():
            return debarchive.Package(**json.loads(path.read_text()))
        package = debarchive.newest(host.suites, host.pattern, host.arch)
        if package is None:
            raise RuntimeError(f"kernel host {host.id}: no package matching {host.pattern!r} in "
                               f"{', '.join(host.suites)}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(package.__dict__, indent=1) + "\n")
    return package


def extract_vmlinux(bzimage: bytes) -> bytes:
    """The ELF kernel inside a bzImage: the payload named by the setup header (boot protocol
    2.08+: payload_offset at 0x248, payload_length at 0x24c), decompressed."""
    setup_sects = bzimage[0x1F1] or 4
    offset, length = struct.unpack_from("<II", bzimage, 0x248)
    start = (setup_sects + 1) * 512 + offset
    payload = bzimage[start:start + length]
    if payload.startswith(b"\xfd7zXZ\x00"):
        out = lzma.LZMADecompressor().decompress(payload)
    elif payload.startswith(b"\x28\xb5\x2f\xfd"):
        # The kernel's build appends the uncompressed size (4 bytes) after the zstd frame.
        proc = subprocess.run(["zstd", "-dcq"], input=payload[:-4], capture_output=True)
        if proc.returncode != 0:
            raise RuntimeError(f"zstd could not decompress the kernel: {proc.stderr.decode()[-300:]}")
        out = proc.stdout
    else:
        raise RuntimeError(f"unknown kernel payload compression (magic {payload[:6].hex()})")
    if not out.startswith(b"\x7fELF"):
        raise RuntimeError("the decompressed kernel payload is not an ELF vmlinux")
    return out


def _module_files(moddir: Path) -> dict[str, Path]:
    """Module name (dashes as underscores) -> its file, for every module in the package."""
    out = {}
    for path in moddir.rglob("*.ko*"):
        name = path.name.split(".ko")[0].replace("-", "_")
        out[name] = path
    return out


def _depends(path: Path) -> list[str]:
    proc = subprocess.run(["modinfo", "-F", "depends", str(path)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"modinfo {path.name}: {proc.stderr.strip()}")
    return [d.replace("-", "_") for d in proc.stdout.strip().split(",") if d]


def module_order(moddir: Path) -> list[Path]:
    """The module files NEEDED_MODULES take, dependencies first; built-in ones are skipped."""
    files = _module_files(moddir)
    builtin = (moddir / "modules.builtin").read_text() if (moddir / "modules.builtin").exists() else ""
    order: list[Path] = []

    def visit(name: str) -> None:
        if name not in files:
            if re.search(rf"/{re.escape(name).replace('_', '[_-]')}\.ko$", builtin, re.M):
                return
            raise RuntimeError(f"module {name} is neither in the package nor built in")
        for dep in _depends(files[name]):
            visit(dep)
        if files[name] not in order:
            order.append(files[name])

    for name in NEEDED_MODULES:
        visit(name)
    return order


def boot_image(vmlinuz: Path, arch: str) -> tuple[str, bytes]:
    """(file name, bytes) of what QEMU boots: x86's vmlinux out of the bzImage; arm64's Image,
    which Debian ships uncompressed (the arm64 boot header's magic "ARM\\x64" at 0x38)."""
    data = vmlinuz.read_bytes()
    if arch == "amd64":
        return "vmlinux", extract_vmlinux(data)
    if data[:2] == b"\x1f\x8b":
        import gzip

        data = gzip.decompress(data)
    if data[0x38:0x3C] != b"ARM\x64":
        raise RuntimeError(f"{vmlinuz.name} is not an arm64 boot Image")
    return "Image", data


def _busybox(arch: str, work: Path) -> Path:
    """The guest's busybox: the host's for x86, Debian's arm64 busybox-static unpacked."""
    package = _busybox_package(arch)
    if package is None:
        return BUSYBOX
    deb = debarchive.download(package, work / "busybox.deb")
    proc = subprocess.run(["dpkg-deb", "-x", str(deb), str(work / "bb")], capture_output=True, text=True)
    found = [p for p in (work / "bb" / "bin" / "busybox", work / "bb" / "usr" / "bin" / "busybox") if p.exists()]
    if proc.returncode != 0 or not found:
        raise RuntimeError(f"{package.name}: no busybox in the package ({proc.stderr.strip()[-300:]})")
    return found[0]


def _initramfs(tree: Path, modules: list[Path], out: Path, busybox: Path = BUSYBOX) -> None:
    for sub in ("bin", "modules", "proc", "sys", "dev", "work", "img", "new"):
        (tree / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy2(busybox, tree / "bin" / "busybox")
    shutil.copy2(GUEST_INIT, tree / "init")
    (tree / "init").chmod(0o755)
    names = []
    for path in modules:
        name = path.name.split(".ko")[0] + ".ko"
        data = path.read_bytes()
        # busybox insmod loads plain ELF only: decompress .ko.xz here.
        (tree / "modules" / name).write_bytes(lzma.decompress(data) if path.name.endswith(".xz") else data)
        names.append(name)
    (tree / "modules" / "order").write_text("\n".join(names) + "\n")
    files = sorted(str(p.relative_to(tree)) for p in tree.rglob("*"))
    with out.open("wb") as fh:
        proc = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet", "-R", "0:0"], cwd=tree, stdout=fh,
                              input=("\n".join(files) + "\n").encode(), stderr=subprocess.PIPE)
    if proc.returncode != 0:
        raise RuntimeError(f"cpio failed: {proc.stderr.decode(errors='replace').strip()[-300:]}")


def _check_tools() -> None:
    missing = [t for t in ("cpio", "modinfo", "zstd", "gpgv", "dpkg-deb") if shutil.which(t) is None]
    if not BUSYBOX.exists():
        missing.append("busybox (busybox-static)")
    if missing:
        raise RuntimeError(f"preparing a kernel needs {', '.join(missing)}: run scripts/setup-host")


def prepare(host_id: str) -> PreparedKernel:
    """The kernel of `host_id`, fetched and prepared once per package and preparation recipe."""
    host = lookup(host_id)
    package = resolve(host)
    _check_tools()
    path = _prepared_path(package, host.arch)
    prepared = PreparedKernel(host_id, path)
    if (path / ".complete").exists():
        return prepared
    with locked(f"kernel-{path.name}"):
        if (path / ".complete").exists():
            return prepared
        with tempfile.TemporaryDirectory(prefix="fbc-kernel-", dir=cache_dir() / "kernels") as tmp:
            work = Path(tmp)
            deb = debarchive.download(package, work / "kernel.deb")
            proc = subprocess.run(["dpkg-deb", "-x", str(deb), str(work / "x")], capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"dpkg-deb -x {package.name}: {proc.stderr.strip()[-300:]}")
            vmlinuz = sorted((work / "x" / "boot").glob("vmlinuz-*"))
            if not vmlinuz:
                raise RuntimeError(f"{package.name} holds no /boot/vmlinuz-*")
            release = vmlinuz[0].name[len("vmlinuz-"):]
            moddir = next((d for d in (work / "x" / "lib" / "modules" / release,
                                       work / "x" / "usr" / "lib" / "modules" / release) if d.is_dir()), None)
            if moddir is None:
                raise RuntimeError(f"{package.name} holds no modules for {release}")
            out = work / "out"
            out.mkdir()
            name, image = boot_image(vmlinuz[0], host.arch)
            (out / name).write_bytes(image)
            modules = module_order(moddir)
            _initramfs(work / "initramfs", modules, out / "initrd.cpio", _busybox(host.arch, work))
            info = {"release": release, "package": package.name, "version": package.version,
                    "suite": package.suite, "sha256": package.sha256, "arch": host.arch,
                    "modules": [m.name for m in modules]}
            (out / "kernel.json").write_text(json.dumps(info, indent=1) + "\n")
            (out / ".complete").write_text("ok\n")
            if path.exists():
                shutil.rmtree(path)
            out.rename(path)
    return prepared
