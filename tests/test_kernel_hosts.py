"""Kernel hosts (local@linux-6.1, ...) without booting anything: ids, kernel extraction, the
boot script, the boot's time limit and clean-up (with a stand-in for QEMU), and how a raw
probe's answer is read against the kernel that ran it."""

import lzma
import os
import struct
import subprocess
import sys
import textwrap
import time

import pytest

from fallbackcheck.hosts import guest
from fallbackcheck.judging import vintagecheck
from fallbackcheck.artefacts import kernels
from fallbackcheck.execution.batch import delivered_here
from fallbackcheck.model.catalogue import load
from fallbackcheck.errors import UsageError
from fallbackcheck.batches.baseline import KERNEL_ENOSYS, KernelBaseline
from fallbackcheck.batches.observation import Observation
from fallbackcheck.report import kernel_views, render_html, render_md
from fallbackcheck.runtimes import get
from fallbackcheck.execution.selection import resolve


def _wait_for_stand_in_qemu(session: str) -> None:
    for _ in range(100):
        if guest.leftovers(session):
            return
        time.sleep(0.1)
    assert guest.leftovers(session), "the stand-in QEMU never started"


def test_kernel_host_ids():
    assert kernels.lookup("linux-6.1").suites == ("bookworm", "bookworm-security")
    named = kernels.lookup("linux-image-6.1.0-37-amd64")
    assert named.pattern == r"linux\-image\-6\.1\.0\-37\-amd64"
    assert "bullseye-security" in named.suites and "trixie" in named.suites
    with pytest.raises(UsageError, match="unknown kernel host 'linux-9.9'"):
        kernels.lookup("linux-9.9")
    assert get("local@linux-6.12").id == "local@linux-6.12"
    assert get("local@linux-6.12").machine == "linux-6.12"
    with pytest.raises(UsageError, match=r"kernel hosts run local@, runc@ and crun@<kernel host>"):
        get("docker-runc@linux-6.1")
    assert get("runc@linux-6.1").id == "runc@linux-6.1"  # runc inside that kernel: tests/test_kernel_oci.py
    with pytest.raises(UsageError, match="unknown kernel host"):
        get("local@linux-2.6")


def test_default_profile_is_left_out_on_kernel_hosts_and_said():
    sel = resolve(load(), "debian-12", "local@linux-6.1", "unconfined,default", "raw:clone3")
    assert {c.profile for c in sel.cells(load())} == {"unconfined"}
    assert any("`default` is not applicable on kernel hosts" in note for note in sel.notes)


def _bzimage(payload: bytes, setup_sects: int = 2) -> bytes:
    head = bytearray((setup_sects + 1) * 512)
    head[0x1F1] = setup_sects
    offset = 64
    struct.pack_into("<II", head, 0x248, offset, len(payload))
    return bytes(head) + b"\0" * offset + payload + b"trailing"


def test_extract_vmlinux_reads_the_payload_the_setup_header_names():
    elf = b"\x7fELF" + os.urandom(300)
    packed = lzma.compress(elf, format=lzma.FORMAT_XZ) + struct.pack("<I", len(elf))
    assert kernels.extract_vmlinux(_bzimage(packed)) == elf
    with pytest.raises(RuntimeError, match="unknown kernel payload compression"):
        kernels.extract_vmlinux(_bzimage(b"BZh91AY&SY" + b"\0" * 20))


def test_boot_script_quotes_specs_and_chroots_only_with_an_image():
    argv = ["/fbc/amd64/runner", "-t", "10", "raw:clone3=/fbc/amd64/raw clone3"]
    in_image = guest.boot_script([argv], chroot=True)
    assert "run 0 /bin/chroot /new /fbc/amd64/runner -t 10 'raw:clone3=/fbc/amd64/raw clone3'" in in_image
    assert "mount --bind /work $R/fbc-work" in in_image
    bare = guest.boot_script([argv, argv], chroot=False)
    assert "/new" not in bare and "run 1 /fbc/amd64/runner" in bare


@pytest.fixture
def fake_qemu(tmp_path, monkeypatch):
    """A stand-in for qemu-system-x86_64 that never boots (it sleeps), first on PATH; its
    argv is QEMU's (argv[0] and the -name guest=...), so guest.leftovers() finds it."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / guest.QEMU
    fake.write_text(f"#!/bin/bash\nexec -a \"$0\" {sys.executable} -c 'import time; time.sleep(600)' \"$@\"\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    # The machine's boot slots are flocks in the cache: a cache of our own keeps these boots
    # from waiting for real runs' VMs (and theirs from waiting for ours).
    monkeypatch.setenv("FALLBACKCHECK_CACHE", str(tmp_path / "cache"))
    return fake


def test_a_kernel_that_does_not_boot_in_time_is_killed_and_said(tmp_path, fake_qemu):
    kernel = kernels.PreparedKernel("linux-6.1", tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    name = f"{guest.NAME_PREFIX}fbctest-{os.getpid()}-linux-6.1-x"
    result = guest.boot(kernel, name, None, tmp_path, work, [["/fbc/amd64/runner"]], boot_limit_s=1,
                        run_limit_s=60)
    assert result.failure.startswith("linux-6.1 did not boot within 1 s"), result.failure
    assert result.commands[0].exit_code is None
    assert guest.leftovers(f"fbctest-{os.getpid()}") == []


def test_ctrl_c_during_a_boot_kills_qemu(tmp_path, fake_qemu):
    """An exception while waiting (KeyboardInterrupt is what SIGINT and, in a matrix run,
    SIGTERM raise) kills the VM before it propagates."""
    script = textwrap.dedent(f"""
        import signal, threading, os
        from pathlib import Path
        from fallbackcheck.hosts import guest
        from fallbackcheck.artefacts import kernels
        threading.Timer(2, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        work = Path({str(tmp_path)!r}) / "w"; work.mkdir()
        guest.boot(kernels.PreparedKernel("linux-6.1", work), "fbc-fbcint-{os.getpid()}-linux-6.1-x", None,
                   work, work, [["x"]], 300, 300)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert "KeyboardInterrupt" in proc.stderr, proc.stderr[-2000:]
    assert guest.leftovers(f"fbcint-{os.getpid()}") == []


def test_qemu_dies_with_the_harness_even_on_sigkill(tmp_path, fake_qemu):
    script = textwrap.dedent(f"""
        from pathlib import Path
        from fallbackcheck.hosts import guest
        from fallbackcheck.artefacts import kernels
        work = Path({str(tmp_path)!r}) / "w"; work.mkdir()
        guest.boot(kernels.PreparedKernel("linux-6.1", work), "fbc-fbckill-{os.getpid()}-linux-6.1-x", None,
                   work, work, [["x"]], 300, 300)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    session = f"fbckill-{os.getpid()}"
    try:
        _wait_for_stand_in_qemu(session)
        # a sweep of dead runs' leftovers (cleanup(None) at the start of every run) spares a live run's VM
        assert not set(guest.leftovers(session)) & set(guest.leftovers(None))
        proc.kill()
        proc.wait()
        for _ in range(50):
            if not guest.leftovers(session):
                break
            time.sleep(0.1)
        assert guest.leftovers(session) == []
    finally:  # whatever failed above, this test leaves nothing behind
        proc.kill()
        proc.wait()
        guest.kill(guest.leftovers(session))


def _raw(errno: str, ret: int = -1) -> Observation:
    return Observation("raw:x", "ok", errno=errno, data={"syscall": "x", "ret": ret, "errno": errno})


def test_raw_answers_are_read_against_the_kernel_that_ran_them():
    catalogue = load()
    fchmodat2, shadow = catalogue.raw_for("fchmodat2"), catalogue.raw_for("map_shadow_stack")
    on_61 = KernelBaseline("linux-6.1", "6.1.0-56-amd64", {"amd64": {"fchmodat2": "ENOSYS"}})
    on_612 = KernelBaseline("linux-6.12", "6.12.118+deb13-amd64",
                            {"amd64": {"fchmodat2": "allowed", "map_shadow_stack": "EOPNOTSUPP"}})
    assert delivered_here(fchmodat2, _raw("ENOSYS"), "amd64", on_61) == KERNEL_ENOSYS
    assert delivered_here(fchmodat2, _raw("EPERM"), "amd64", on_61) == "EPERM"  # the filter answers by number
    assert delivered_here(fchmodat2, _raw("ENOSYS"), "amd64", on_612) == "ENOSYS"
    # 6.12 has map_shadow_stack (EOPNOTSUPP without CPU support): its own answer, not a filter's
    assert delivered_here(shadow, _raw("EOPNOTSUPP"), "amd64", on_612) == "allowed"
    assert delivered_here(shadow, _raw("EOPNOTSUPP"), "amd64", None) == "EOPNOTSUPP"


def _api(probe, runtime, profile, outcome, errno=None, works=True, image="debian-13"):
    return {"probe": probe, "kind": "api", "image": image, "runtime": runtime, "profile": profile,
            "outcome": outcome, "errno": errno, "works": works, "verdict": "pass", "delivered": {}}


def test_vintage_check_pairs_a_real_kernel_with_the_profile_that_plays_it():
    report = {"environment": {
        "runtimes": {"local@linux-6.1": {"kernel_host": "linux-6.1", "kernel_release": "6.1.0-56-amd64"},
                     "runc": {"engine": None}, "crun": {"engine": None}},
        "kernel_baseline": {"linux-6.1": {"arches": {"amd64": {
            "memfd_secret": "ENOSYS", "fchmodat2": "ENOSYS", "clone3": "allowed", "map_shadow_stack": "allowed|ENOSYS"}}}}},
        "cells": [
            _api("lchmod", "local@linux-6.1", "unconfined", "ok"),
            _api("lchmod", "runc", "vintage:6.1:ENOSYS", "ok"),
            _api("lchmod", "crun", "vintage:6.1:ENOSYS", "error", "EPERM", works=False),
            _api("lchmod", "runc", "vintage:5.10:ENOSYS", "error", "EPERM", works=False),  # another kernel: ignored
            _api("lchmod", "runc", "vintage:6.1:EPERM", "error", "EPERM", works=False),  # not the ENOSYS play
        ]}
    found = vintagecheck.compare(report)
    assert [(c.played["runtime"], c.agrees) for c in found] == [("crun", False), ("runc", True)]
    assert vintagecheck.cell_id(found[0].played) == "lchmod-debian-13-crun-vintage:6.1:ENOSYS"
    text = "\n".join(render_md.tables_md(kernel_views.tables(report)))
    assert "`lchmod-debian-13-local@linux-6.1-unconfined` | ok | ✗ EPERM | `lchmod-debian-13-crun-vintage:6.1:ENOSYS`" in text
    page = "\n".join(render_html.tables_html(kernel_views.tables(report)))  # matrix.html has the same tables
    assert "<h2>Vintage check: real kernel K against <code>vintage:K:ENOSYS</code></h2>" in page
    assert "<td><code>lchmod-debian-13-local@linux-6.1-unconfined</code></td><td>ok</td><td>✗ EPERM</td>" in page
    # the syscall table dates memfd_secret 5.14 (vintage:6.1 allows it); Debian's 6.1 answers ENOSYS
    mismatches = vintagecheck.table_vs_kernel(report)
    assert [(m.syscall, m.vintage_allows) for m in mismatches] == [("memfd_secret", True)]


def test_an_abandoned_run_kills_the_vm_its_pool_thread_waits_for(tmp_path, fake_qemu):
    """Batches run on the scheduler's threads, which Ctrl-C does not reach: abandon() (the
    plugin calls it when a run is interrupted) must end their VMs."""
    import threading

    session = f"fbcstop-{os.getpid()}"
    work = tmp_path / "w"
    work.mkdir()
    results = []
    thread = threading.Thread(target=lambda: results.append(guest.boot(
        kernels.PreparedKernel("linux-6.1", work), f"fbc-{session}-linux-6.1-x", None, work, work, [["x"]], 300, 300)))
    thread.start()
    try:
        _wait_for_stand_in_qemu(session)
        get("local@linux-6.1").abandon()
        thread.join(30)
        assert not thread.is_alive()
        assert results[0].failure == "the run was interrupted: the VM was killed"
        assert guest.leftovers(session) == []
        with pytest.raises(RuntimeError, match="interrupted before this boot could start"):
            guest.boot(kernels.PreparedKernel("linux-6.1", work), f"fbc-{session}-linux-6.1-y", None, work, work,
                       [["x"]], 300, 300)
    finally:
        guest.STOP.clear()
        guest.kill(guest.leftovers(session))


def test_a_kernel_baseline_is_measured_again_when_the_probed_set_changes():
    """The baseline file is named after what it probes (the raw entries of each arch and their
    numbers), not only the probe sources: an entry that gains an arch is measured, not read
    as missing from a file written before."""
    from pathlib import Path
    from types import SimpleNamespace

    from fallbackcheck.model import catalogue
    from fallbackcheck.runtimes.kernel import KernelRuntime

    raw = sorted(catalogue.load().raw.values(), key=lambda e: e.id)
    prepared = SimpleNamespace(path=Path("/cache/kernels/linux-image-6.12-arm64-abc"))
    name = lambda entries: KernelRuntime._baseline_file(None, prepared, entries).name  # noqa: E731
    every = name({"arm64": raw})
    assert every == name({"arm64": list(reversed(raw))})  # the same set, the same file
    assert every != name({"arm64": raw[1:]}) != name({"amd64": raw})
    assert every.startswith("baseline-linux-image-6.12-arm64-abc-") and every.endswith(".json")
