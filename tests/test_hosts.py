"""Runtime ids with hosts, --engine-hosts parsing, and asked-versus-received profiles
(no engine needed)."""

import pytest

from fallbackcheck.model import profiles
from fallbackcheck.errors import UsageError
from fallbackcheck.hosts.recipes import GENERATIONS
from fallbackcheck.hosts.ssh import parse_engine_hosts
from fallbackcheck.batches.received import changes, content_hash
from fallbackcheck.runtimes.registry import expand, split_id
from helpers import runtime_kinds


def test_runtime_ids_carry_their_host():
    assert split_id("docker-crun") == ("docker-crun", "")
    assert split_id("containerd-runc@debian-13") == ("containerd-runc", "debian-13")
    assert expand("podman-crun@*") == [f"podman-crun@{g}" for g in GENERATIONS]
    assert {"debian-13", "debian-sid"} <= set(GENERATIONS)
    with pytest.raises(UsageError, match="unknown runtime"):
        split_id("dockr-runc@debian-13")
    assert split_id("docker-youki@debian-13") == ("docker-youki", "debian-13")  # registered in dockerd, or not: its runtime says


def test_engine_hosts_option():
    assert parse_engine_hosts("a=ssh://root@10.0.0.5,b=ssh://me@box:2222") == {
        "a": "ssh://root@10.0.0.5", "b": "ssh://me@box:2222"}
    for bad in ("a", "a=box", "=ssh://x", "a=ssh://x,a=ssh://y"):
        with pytest.raises(UsageError):
            parse_engine_hosts(bad)


def test_a_dropped_default_errno_is_a_change():
    asked = profiles.parse("vintage:5.2:ENOSYS").oci
    received = {k: v for k, v in asked.items() if k != "defaultErrnoRet"}
    assert changes(asked, received) == ["defaultErrnoRet: asked ENOSYS, received none (EPERM)"]
    assert changes(asked, asked) == []
    assert changes(None, received) == []  # a default we cannot read asks nothing to compare


def test_rule_changes_are_named():
    asked = {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}, {"names": ["clone3"], "action": "SCMP_ACT_ERRNO",
                                                                   "errnoRet": 38}]}
    received = {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"},
                                                                {"names": ["clone3"], "action": "SCMP_ACT_ERRNO"}]}
    assert changes(asked, received) == ["rules dropped for 1 syscalls: write", "rules changed for 1 syscalls: clone3"]
    assert changes({}, received) == ["asked no filter, received a filter"]


def test_a_comparison_is_remembered_by_what_was_received_not_by_the_dict():
    asked = profiles.parse("vintage:5.2:ENOSYS").oci
    dropped = {k: v for k, v in asked.items() if k != "defaultErrnoRet"}
    assert changes(asked, dict(asked)) == []
    assert changes(asked, dropped) == ["defaultErrnoRet: asked ENOSYS, received none (EPERM)"]
    assert changes(asked, dict(asked)) == []  # the same content again, in a new dict
    assert changes(asked, {**dropped}) == ["defaultErrnoRet: asked ENOSYS, received none (EPERM)"]
    other = profiles.parse("vintage:5.2:EPERM").oci  # another profile asking, same received content
    assert changes(other, dropped) != changes(asked, dropped)


def test_received_profiles_are_keyed_by_content():
    assert content_hash({"a": 1, "b": 2}) == content_hash({"b": 2, "a": 1}) != content_hash({})


def _cell(runtime, probe="lchmod", works=True, outcome="ok", errno=None, delivered="allowed", profile="default"):
    return {"probe": probe, "kind": "api", "image": "debian-13", "runtime": runtime, "profile": profile,
            "outcome": outcome, "errno": errno, "works": works, "delivered": {"fchmodat2": delivered},
            "verdict": "pass" if works else "expected-break", "batch": {}}


def test_generation_views_from_the_report_alone():
    from fallbackcheck.report import generation_views, render_md

    report = {"environment": {"generation_order": ["debian-13", "debian-sid"], "engine_hosts": {},
                              "runtimes": {"docker-crun": {"engine": "docker 20.10.24"}},
                              "runtime_kinds": runtime_kinds("docker-crun", "docker-crun@debian-13",
                                                             "docker-crun@debian-sid", "podman-crun@debian-sid")},
              "cells": [_cell("docker-crun", works=False, outcome="error", errno="EPERM", delivered="EPERM"),
                        _cell("docker-crun@debian-13"), _cell("docker-crun@debian-sid"),
                        _cell("podman-crun@debian-sid")]}
    oldest = generation_views.oldest_default(report)
    assert oldest.header[3:] == ["this host", "debian-13", "debian-sid"]
    assert ["debian-13", "Docker + crun", "debian-13", "✗ 1", "✓", "✓"] in oldest.rows
    assert ["debian-13", "Podman", "debian-sid", "", "", "✓"] in oldest.rows
    changed = generation_views.changes_between(report).rows
    assert len(changed) == 1 and changed[0][0] == "docker-crun" and changed[0][2] == "lchmod"
    assert changed[0][5:] == ["EPERM (fchmodat2 EPERM)", "ok (fchmodat2 allowed)"]
    text = "\n".join(render_md.tables_md(generation_views.tables(report)))
    assert "## Oldest generation whose default profile lets every API probe work" in text


def test_the_experimental_generation_is_sid_with_experimentals_runc_and_podman(monkeypatch, tmp_path):
    from fallbackcheck.hosts import recipes

    monkeypatch.setattr(recipes.archives, "sources_line", lambda suite: f"deb http://mirror/debian {suite} main")
    sid, exp = GENERATIONS["debian-sid"], GENERATIONS["debian-experimental"]
    assert (exp.suite, exp.overlay) == ("sid", "experimental")
    assert list(GENERATIONS)[-2:] == ["debian-sid", "debian-experimental"]  # newest last in every view
    # Every package of sid's generation is there; the engines experimental carries newer come
    # from it, the others (docker.io, containerd, crun) stay sid's.
    taken = {p.split("/")[0]: p.partition("/")[2] for p in exp.include}
    assert set(sid.include) <= set(taken)
    assert {p for p, suite in taken.items() if suite} == {
        "runc", "podman", "golang-github-containers-common", "golang-github-containers-image", "netavark"}
    assert all(suite in ("", "experimental") for suite in taken.values())
    argv = exp.mmdebstrap_argv(tmp_path / "out.tar")
    assert argv[-3:] == [str(tmp_path / "out.tar"), "deb http://mirror/debian sid main",
                         "deb http://mirror/debian experimental main"]
    assert expand("runc@*")[-1] == "runc@debian-experimental"
    # A recipe without an overlay keeps its hash, so sid's cached generation and volume stay.
    assert recipes.EngineRecipe(sid.name, sid.suite, sid.include).hash == sid.hash == "1e7b0c4d3532cdec"


def test_a_podman_that_refuses_the_host_is_named_with_its_release():
    # What Podman 6.1.1 answered in the debian-experimental generation on a cgroup v1 host.
    import subprocess

    from fallbackcheck.runtimes.podman import PodmanRuntime

    class Host:
        name = "debian-experimental"
        suffix = "@debian-experimental"
        machine = "this machine"

        def unavailable_reason(self):
            return None

        def which(self, name):
            return True

        def podman_argv(self):
            return ["podman"]

        def run(self, argv, timeout=120, check=True, input=None):
            if argv[1:] == ["--version"]:
                return subprocess.CompletedProcess(argv, 0, "podman version 6.1.1\n", "")
            raise RuntimeError('podman info failed on debian-experimental: level=fatal msg="Cgroups v1 not supported"')

    reason = PodmanRuntime("crun", Host()).unavailable_reason()
    assert reason.startswith("podman does not work here (podman version 6.1.1): ")
    assert reason.endswith('msg="Cgroups v1 not supported"')
