"""Documented runtime behaviours: named only where their conditions hold, and each predicts
exactly what it leads to (anything else stays unexplained, i.e. unexpected)."""

import shutil

import pytest

from fallbackcheck.model import behaviours, profiles, seccomp_json

VINTAGE = profiles.parse("vintage:5.2:EPERM").oci
DENY = profiles.parse("deny:clone3:EPERM").oci


class FakeRuntime:
    """A runtime as behaviours sees it: an id, its versions, optionally its libseccomp."""

    def __init__(self, rid, oci_version="", knows=None):
        self.id = rid
        self._oci_version = oci_version
        if knows is not None:
            self.libseccomp_knows = lambda name, arch: knows.get(name, True)

    def cached_versions(self):
        return {"oci_runtime_version": self._oci_version}


RUNC = FakeRuntime("docker-runc", "runc version 1.1.5+ds1")
CRUN = FakeRuntime("crun", "crun version 1.8.1")


def test_runc_stub_explains_enosys_above_the_largest_named_syscall():
    why = behaviours.explain(RUNC, "docker 20.10.24", VINTAGE, "clone3", 435, "amd64", "EPERM", "ENOSYS")
    assert why and "runc's ENOSYS stub" in why and "435" in why and "runc 1.1.5" in why


@pytest.mark.parametrize("runtime, oci, nr, delivered", [
    (CRUN, VINTAGE, 435, "ENOSYS"),  # crun has no stub
    (RUNC, DENY, 435, "ENOSYS"),  # no stub in front of an allow-by-default profile
    (RUNC, VINTAGE, 0, "ENOSYS"),  # read is below the largest named syscall
    (RUNC, VINTAGE, 435, "EPERM"),  # the stub only ever answers ENOSYS
    (FakeRuntime("runc", "runc version 1.0.0-rc92"), VINTAGE, 435, "ENOSYS"),  # before the stub existed
    (FakeRuntime("runc", ""), VINTAGE, 435, "ENOSYS"),  # runc's version unknown: the rule cannot be checked
])
def test_runc_stub_not_claimed_where_it_cannot_apply(runtime, oci, nr, delivered):
    assert behaviours.explain(runtime, None, oci, "clone3", nr, "amd64", "EPERM", delivered) is None


@pytest.mark.parametrize("text, version", [
    ("runc version 1.1.5+ds1", (1, 1, 5, 0)), ("runc version 1.0.0-rc93", (1, 0, 0, -7)),
    ("runc version 1.3.0", (1, 3, 0, 0)), ("crun version 1.8.1", None)])
def test_runc_version_parsing_orders_release_candidates_first(text, version):
    assert behaviours.runc_version(FakeRuntime("runc", text)) == version
    assert (1, 0, 0, 0) >= behaviours.RUNC_STUB_SINCE > (1, 0, 0, -8)


def test_an_engine_changing_the_profile_is_not_a_runtime_behaviour():
    """Docker < 23 dropping defaultErrnoRet is measured from the profile the runtime received
    (received.py, tests/test_generations.py), never excused by a rule here."""
    oci = profiles.parse("vintage:5.2:ENOSYS").oci
    docker_crun = FakeRuntime("docker-crun", "crun version 1.8.1")
    assert behaviours.explain(docker_crun, "docker 20.10.24+dfsg1", oci, "clone3", 435, "amd64",
                              "ENOSYS", "EPERM") is None


def test_resolve_docker_format_archmap_and_caps():
    docker_format = {
        "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
        "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
        "syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
            {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
        ],
    }
    plain = seccomp_json.resolve(docker_format)
    assert plain["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    assert [r["names"] for r in plain["syscalls"]] == [["read"], ["clone3"]]
    assert profiles.asks_of(docker_format, "clone3", "amd64") == "ENOSYS"
    assert profiles.asks_of(docker_format, "mount", "i386") == "EPERM"
    with_admin = seccomp_json.resolve(docker_format, seccomp_json.DEFAULT_CAPS | {"CAP_SYS_ADMIN"})
    assert [r["names"] for r in with_admin["syscalls"]] == [["read"], ["mount"]]


# An allow-list that names mseal (462) and nothing above it, default EPERM.
ALLOW_LIST = {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
              "syscalls": [{"names": ["read", "clone3", "mseal"], "action": "SCMP_ACT_ALLOW"}]}


def test_unknown_name_predicts_the_default_action_exactly():
    crun = FakeRuntime("crun", "crun version 1.8.1", knows={"mseal": False})
    deny = profiles.parse("deny:mseal:EPERM").oci  # allow by default: the dropped rule means "allowed"
    assert "default action: allowed" in behaviours.explain(crun, None, deny, "mseal", 462, "amd64", "EPERM", "allowed")
    assert behaviours.explain(crun, None, deny, "mseal", 462, "amd64", "EPERM", "ENOSYS") is None
    # deny by default: the dropped allow rule means the default errno, never "allowed"
    assert "default action: EPERM" in behaviours.explain(crun, None, ALLOW_LIST, "mseal", 462, "amd64",
                                                         "allowed", "EPERM")
    assert behaviours.explain(crun, None, ALLOW_LIST, "mseal", 462, "amd64", "allowed", "allowed") is None
    # runc: with mseal dropped, clone3 (435) is the largest name, so runc's stub answers ENOSYS for 462
    runc = FakeRuntime("runc", "runc version 1.1.5+ds1", knows={"mseal": False})
    why = behaviours.explain(runc, None, ALLOW_LIST, "mseal", 462, "amd64", "allowed", "ENOSYS")
    assert why and "default action: ENOSYS" in why and "runc's ENOSYS stub" in why


def test_unknown_name_rule_uses_the_runtimes_own_libseccomp():
    deny = profiles.parse("deny:mseal:EPERM").oci
    knows_it = FakeRuntime("crun", "crun version 1.21", knows={"mseal": True})
    assert behaviours.explain(knows_it, None, deny, "mseal", 462, "amd64", "EPERM", "allowed") is None


def test_host_libseccomp_library_and_resolver_agree():
    """The library (asked in process) answers as its scmp_sys_resolver does, for every name
    of our syscall table on both arches."""
    import subprocess

    from fallbackcheck.model import syscalls

    assert behaviours._libseccomp() is not None, "libseccomp.so.2 cannot be loaded (Debian libseccomp2)"
    assert shutil.which("scmp_sys_resolver"), "scmp_sys_resolver is missing (Debian package 'seccomp')"
    names = sorted(syscalls.table()) + ["no_such_syscall_at_all"]
    differ = []
    for arch, scmp in behaviours.SCMP_ARCH.items():
        for name in names:
            out = subprocess.run(["scmp_sys_resolver", "-a", scmp, name], capture_output=True, text=True).stdout.strip()
            tool = out.lstrip("-").isdigit() and not out.startswith("-")
            if behaviours.host_libseccomp_knows(name, arch) is not tool:
                differ.append((arch, name, out))
    assert len(names) > 300 and differ == [], differ[:5]


def test_host_libseccomp_is_asked_with_its_own_resolver():
    assert shutil.which("scmp_sys_resolver"), \
        "scmp_sys_resolver is missing: scripts/setup-host installs it (Debian package 'seccomp')"
    assert behaviours.host_libseccomp_knows("clone3", "amd64") is True
    assert behaviours.host_libseccomp_knows("clone3", "i386") is True
    assert behaviours.host_libseccomp_knows("no_such_syscall_at_all", "amd64") is False
