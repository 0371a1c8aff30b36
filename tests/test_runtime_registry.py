"""Runtime kinds come from one registry: each built-in kind makes its own runtime and no
other (no kind falls back to another), and a kind of another package comes in through the
`fallbackcheck.runtimes` entry-point group. No engine needed."""

import os

import pytest


def test_every_builtin_kind_makes_its_own_runtime_and_no_other():
    from fallbackcheck.runtimes import registry

    made = {kind: type(registry.BUILTIN_KINDS[kind](None)).__name__ for kind in registry.KINDS}
    assert made == {"docker-runc": "DockerRuntime", "docker-crun": "DockerRuntime", "podman-runc": "PodmanRuntime",
                    "podman-crun": "PodmanRuntime", "containerd-runc": "ContainerdRuntime",
                    "containerd-crun": "ContainerdRuntime", "runc": "OciRuntime", "crun": "OciRuntime",
                    "local": "LocalRuntime", "bwrap": "BwrapRuntime",
                    "nspawn": "NspawnRuntime", "firejail": "FirejailRuntime", "flatpak": "FlatpakRuntime",
                    "systemd-run": "SystemdRunRuntime"}


TOY_KIND = """
from fallbackcheck.runtimes.local import LocalRuntime


class ToyRuntime(LocalRuntime):
    pass


def make(host):
    return ToyRuntime()
"""


@pytest.mark.parametrize("name, says", [("toy", "ToyRuntime ('toy', '')"),
                                         ("runc", "kind 'runc' clashes with fallbackcheck's own")])
def test_a_kind_from_another_package_comes_through_its_entry_point(tmp_path, name, says):
    import subprocess
    import sys

    from helpers import ROOT

    (tmp_path / "fbc_toy.py").write_text(TOY_KIND)
    info = tmp_path / "fbc_toy-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fbc-toy\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[fallbackcheck.runtimes]\n{name} = fbc_toy:make\n")
    code = ("from fallbackcheck.errors import UsageError\nfrom fallbackcheck.runtimes import get\n"
            "from fallbackcheck.runtimes.registry import split_id\n"
            "try:\n    print(type(get('toy')).__name__, split_id('toy'))\n"
            "except UsageError as exc:\n    print(exc)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])})
    assert says in proc.stdout, proc.stdout + proc.stderr


VENDOR_KIND = """
from fallbackcheck.runtimes.oci import OciRuntime


def make(host):
    # A runtime maintainer's own kind: their binary (here Debian's crun) driven through
    # fallbackcheck's OCI bundle, under a name of their choosing.
    return OciRuntime("crun", host, kind="vendorbox")
"""


@pytest.mark.engine
def test_a_kind_from_another_package_is_measured(tmp_path):
    """A package that is not fallbackcheck registers `vendorbox`; `--runtimes vendorbox`
    measures its cells like any built-in kind's, with no change to fallbackcheck."""
    import shutil
    import uuid

    from helpers import ROOT, cells_by, load_report, run_suites, skip_or_fail

    if shutil.which("crun") is None:
        skip_or_fail("crun is not installed")
    package = tmp_path / "site"
    package.mkdir()
    (package / "fbc_vendorbox.py").write_text(VENDOR_KIND)
    info = package / "fbc_vendorbox-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fbc-vendorbox\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[fallbackcheck.runtimes]\nvendorbox = fbc_vendorbox:make\n")
    proc = run_suites("--runtimes", "vendorbox", "--images", "debian-13", "--probes", "pthread_create",
                      "--profiles", "deny:clone3:EPERM,deny:clone3:ENOSYS", "--no-fixes", report_dir=tmp_path / "report",
                      env={"PYTHONPATH": os.pathsep.join([str(package), str(ROOT)]),
                           "FALLBACKCHECK_SESSION": "test-plugin-" + uuid.uuid4().hex[:8]})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    report = load_report(tmp_path / "report")
    [eperm] = cells_by(report, runtime="vendorbox", probe="pthread_create", profile="deny:clone3:EPERM")
    [enosys] = cells_by(report, runtime="vendorbox", probe="pthread_create", profile="deny:clone3:ENOSYS")
    assert (eperm["works"], eperm["errno"], eperm["verdict"]) == (False, "EPERM", "expected-break"), eperm
    assert (enosys["works"], enosys["verdict"]) == (True, "pass"), enosys
    assert report["environment"]["runtimes"]["vendorbox"]["oci_runtime_version"].startswith("crun version")


def test_each_kind_states_its_own_facts():
    """Family, column order and start cost are the kind's class attributes (the run writes
    them into matrix.json; the views and the shards read them from there)."""
    from fallbackcheck.runtimes import get
    from fallbackcheck.runtimes.base import Runtime

    ids = ["docker-runc", "docker-crun", "podman-runc", "podman-crun", "containerd-runc", "containerd-crun",
           "runc", "crun", "local"]
    facts = {rid: get(rid).kind_facts() for rid in ids}
    assert sorted(ids, key=lambda rid: facts[rid]["column_order"]) == ids  # engines first, as readers look
    assert [facts[r]["family"] for r in ("docker-crun", "podman-runc", "containerd-crun", "crun", "local")] == \
        ["Docker + crun", "Podman", "containerd (Kubernetes RuntimeDefault)", "crun", None]
    assert facts["podman-crun"]["start_s"] > facts["docker-runc"]["start_s"] > facts["runc"]["start_s"]
    assert get("local@linux-6.1").kind_facts()["start_s"] > 10  # a kernel boot
    # a plug-in kind that states nothing: no family, a column after the built-in ones
    assert Runtime.family is None and Runtime.column_order > max(f["column_order"] for f in facts.values())
