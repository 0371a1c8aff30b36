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
                    "nspawn": "NspawnRuntime", "firejail": "FirejailRuntime"}


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
