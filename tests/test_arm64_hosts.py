"""The arm64 kernel host without booting it: its id and arch, the Image it boots, QEMU's
command line, the kill path of a stand-in qemu-system-aarch64, and which images and runtimes
pair (an arm64 image never runs on an x86 kernel through qemu-user, nor the other way round)."""

import json
import os
import sys

import pytest

from fallbackcheck.hosts import guest
from fallbackcheck.artefacts import kernels
from fallbackcheck.model.catalogue import load
from fallbackcheck.errors import UsageError
from fallbackcheck.runtimes import get
from fallbackcheck.execution.selection import Selection


def test_arm64_kernel_host_ids():
    host = kernels.lookup("linux-6.12-arm64")
    assert host.arch == "arm64" and host.suites == ("trixie", "trixie-security")
    assert host.pattern.endswith("-arm64-unsigned")  # the generic flavour: cloud-arm64 has no 9p
    named = kernels.lookup("linux-image-6.12.48+deb13-arm64-unsigned")
    # looked up in the arm64 hosts' suites only (bullseye has an x86 kernel host, no arm64 one)
    assert named.arch == "arm64" and "trixie" in named.suites and "bullseye" not in named.suites
    runtime = get("local@linux-6.12-arm64")
    assert (runtime.kernel_arch, runtime.machine) == ("arm64", "linux-6.12-arm64")
    assert runtime.runs_arch("arm64") and not runtime.runs_arch("amd64") and not runtime.runs_arch("i386")
    assert get("local@linux-6.12").runs_arch("i386") and not get("local@linux-6.12").runs_arch("arm64")


def test_debian_12s_arm64_kernel_host():
    host = kernels.lookup("linux-6.1-arm64")
    assert host.arch == "arm64" and host.suites == ("bookworm", "bookworm-security")
    import re

    assert re.fullmatch(host.pattern, "linux-image-6.1.0-57-arm64-unsigned")
    # the generic flavour only: cloud-arm64 has no 9p, and the signed package is the same kernel
    for other in ("linux-image-6.1.0-57-cloud-arm64-unsigned", "linux-image-6.1.0-57-arm64",
                  "linux-image-6.1.0-57-amd64", "linux-image-6.12.48+deb13-arm64-unsigned"):
        assert not re.fullmatch(host.pattern, other), other
    named = kernels.lookup("linux-image-6.1.0-57-arm64-unsigned")
    assert named.arch == "arm64" and {"bookworm", "bookworm-security"} <= set(named.suites)
    runtime = get("local@linux-6.1-arm64")
    assert (runtime.kernel_arch, runtime.machine) == ("arm64", "linux-6.1-arm64")
    assert runtime.runs_arch("arm64") and not runtime.runs_arch("amd64")


def test_the_arm64_image_is_booted_as_debian_ships_it(tmp_path):
    image = bytearray(0x100)
    image[0x38:0x3C] = b"ARM\x64"
    (tmp_path / "vmlinuz").write_bytes(bytes(image))
    assert kernels.boot_image(tmp_path / "vmlinuz", "arm64") == ("Image", bytes(image))
    (tmp_path / "bad").write_bytes(b"\0" * 0x100)
    with pytest.raises(RuntimeError, match="not an arm64 boot Image"):
        kernels.boot_image(tmp_path / "bad", "arm64")


def _prepared(tmp_path, arch):
    (tmp_path / "kernel.json").write_text(json.dumps({"arch": arch}))
    (tmp_path / ("Image" if arch == "arm64" else "vmlinux")).write_bytes(b"")
    return kernels.PreparedKernel(f"linux-6.12-{arch}", tmp_path)


def test_qemu_command_line_per_kernel_arch(tmp_path):
    (tmp_path / "a").mkdir()
    arm = guest.qemu_argv(_prepared(tmp_path / "a", "arm64"), "fbc-x", None, tmp_path, tmp_path)
    assert arm[0] == "qemu-system-aarch64" and arm[arm.index("-M") + 1] == "virt"
    # pauth-impdef: TCG's pointer authentication is about 3x slower with the architected algorithm
    assert arm[arm.index("-cpu") + 1] == "max,pauth-impdef=on"
    assert "console=ttyAMA0" in arm[arm.index("-append") + 1] and arm[arm.index("-kernel") + 1].endswith("/Image")
    (tmp_path / "x").mkdir()
    x86 = guest.qemu_argv(_prepared(tmp_path / "x", "amd64"), "fbc-x", None, tmp_path, tmp_path)
    assert x86[0] == guest.QEMU and "console=ttyS0" in x86[x86.index("-append") + 1]


def test_a_stand_in_arm64_qemu_is_killed_on_its_boot_limit(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "qemu-system-aarch64"
    fake.write_text(f"#!/bin/bash\nexec -a \"$0\" {sys.executable} -c 'import time; time.sleep(600)' \"$@\"\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    monkeypatch.setenv("FALLBACKCHECK_CACHE", str(tmp_path / "cache"))
    (tmp_path / "k").mkdir()
    work = tmp_path / "work"
    work.mkdir()
    session = f"fbctarm-{os.getpid()}"
    result = guest.boot(_prepared(tmp_path / "k", "arm64"), f"{guest.NAME_PREFIX}{session}-linux-6.12-arm64-x", None,
                        tmp_path, work, [["/fbc/arm64/runner"]], boot_limit_s=1, run_limit_s=60)
    assert result.failure.startswith("linux-6.12-arm64 did not boot within 1 s"), result.failure
    assert guest.leftovers(session) == []


def test_images_pair_with_runtimes_by_arch():
    catalogue = load()
    sel = Selection(["debian-13-arm64", "debian-13"], ["local@linux-6.12-arm64", "local@linux-6.12"],
                    {}, ["pthread_create", "raw:clone3", "raw:fstatat64"], {})
    from fallbackcheck.model import profiles

    sel.profiles = {"unconfined": profiles.parse("unconfined")}
    cells = {(c.image, c.runtime, c.probe) for c in sel.all_cells(catalogue)}
    assert {(i, r) for i, r, _ in cells} == {("debian-13-arm64", "local@linux-6.12-arm64"),
                                            ("debian-13", "local@linux-6.12")}
    assert ("debian-13-arm64", "local@linux-6.12-arm64", "pthread_create") in cells
    assert not any(p == "raw:fstatat64" for _, _, p in cells)  # i386 only


def test_an_arm64_image_on_an_x86_kernel_is_said_plainly():
    with pytest.raises(UsageError, match="cannot run the arm64 image"):
        get("local@linux-6.12").prepare_image("debian-13-arm64")


@pytest.mark.parametrize("image, suite", [("debian-12-arm64", "bookworm"), ("debian-13-arm64", "trixie"),
                                         ("debian-sid-arm64", "sid")])
def test_the_arm64_images_are_opt_in(image, suite):
    from fallbackcheck.artefacts import images

    recipe = images.lookup(image)
    assert (recipe.arch, recipe.suites) == ("arm64", (suite,))
    assert image not in images.DEFAULT_IMAGES
    assert images.libc_family(image) == "glibc" and recipe.role == "target"


def test_an_image_no_selected_runtime_can_run_is_noted():
    from fallbackcheck.execution.selection import resolve

    sel = resolve(load(), "debian-13-arm64,debian-13", "local@linux-6.12-arm64", "unconfined", "raw:clone3")
    assert {c.image for c in sel.cells(load())} == {"debian-13-arm64"}
    assert any(n.startswith("image debian-13 (amd64) runs on none of the selected runtimes") for n in sel.notes)
    with pytest.raises(UsageError, match="arm64 and armhf images only with arm64 kernel hosts"):
        resolve(load(), "debian-13", "local@linux-6.12-arm64", "unconfined", "raw:clone3")


def test_prune_works_out_the_arm64_names_without_asking_the_archive(tmp_path, monkeypatch):
    """With nothing resolved in the cache, the cross build's and the arm64 kernel's names are
    simply unknown: prune must not reach for the network to find them."""
    from fallbackcheck.artefacts import crossbuild, debarchive

    monkeypatch.setenv("FALLBACKCHECK_CACHE", str(tmp_path))

    def no_network(*args, **kwargs):
        raise AssertionError("the archive was asked")

    monkeypatch.setattr(debarchive, "newest", no_network)
    assert crossbuild.build_names_in_use() == set()
    names = kernels.cache_names_in_use() or set()
    assert "resolved-linux-6.12-arm64" in " ".join(names)  # the question's own name, known offline
    assert not any("arm64" in name and not name.startswith("resolved-") for name in names)
