"""Documented runtime behaviours: named only where their conditions hold."""

import pytest

from fallbackcheck import behaviours, profiles, seccomp_json

VINTAGE = profiles.parse("vintage:5.2:EPERM").oci
DENY = profiles.parse("deny:clone3:EPERM").oci


def test_runc_stub_explains_enosys_above_the_largest_named_syscall():
    why = behaviours.explain("docker-runc", "docker 20.10.24", VINTAGE, "clone3", 435, "amd64", "EPERM", "ENOSYS")
    assert why and "runc's ENOSYS stub" in why and "435" in why


@pytest.mark.parametrize("runtime, oci, nr, delivered", [
    ("crun", VINTAGE, 435, "ENOSYS"),  # crun has no stub
    ("runc", DENY, 435, "ENOSYS"),  # no stub in front of an allow-by-default profile
    ("runc", VINTAGE, 0, "ENOSYS"),  # read is below the largest named syscall
    ("runc", VINTAGE, 435, "EPERM"),  # the stub only ever answers ENOSYS
])
def test_runc_stub_not_claimed_where_it_cannot_apply(runtime, oci, nr, delivered):
    assert behaviours.explain(runtime, None, oci, "clone3", nr, "amd64", "EPERM", delivered) is None


def test_docker_before_23_drops_default_errno():
    oci = profiles.parse("vintage:5.2:ENOSYS").oci
    assert "23.0" in behaviours.explain("docker-crun", "docker 20.10.24+dfsg1", oci, "clone3", 435, "amd64",
                                        "ENOSYS", "EPERM")
    assert behaviours.explain("docker-crun", "docker 24.0.7", oci, "clone3", 435, "amd64", "ENOSYS", "EPERM") is None
    assert behaviours.explain("podman-crun", "podman 4.3.1", oci, "clone3", 435, "amd64", "ENOSYS", "EPERM") is None


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


def test_names_unknown_to_libseccomp_are_dropped():
    import shutil

    if shutil.which("scmp_sys_resolver") is None:
        pytest.skip("needs libseccomp's scmp_sys_resolver to know which names the runtime's libseccomp has")
    known = "clone3"
    assert behaviours.libseccomp_knows(known, "amd64")
    oci = profiles.parse("deny:clone3:EPERM").oci
    assert behaviours.explain("runc", None, oci, known, 435, "amd64", "EPERM", "allowed") is None
    unknown = [n for n in ("mseal", "statmount", "file_getattr") if not behaviours.libseccomp_knows(n, "amd64")]
    if not unknown:
        pytest.skip("this libseccomp knows every name tried")
    oci = profiles.parse(f"deny:{unknown[0]}:EPERM").oci
    assert "does not know the name" in behaviours.explain("crun", None, oci, unknown[0], 462, "amd64", "EPERM", "allowed")
