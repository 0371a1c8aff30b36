import json

import pytest

from fallbackcheck.model import profiles
from fallbackcheck.errors import UsageError


def test_deny_renders_allow_all_with_one_errno_rule():
    p = profiles.parse("deny:clone3,close_range:ENOSYS")
    oci = json.loads(p.render())
    assert oci["defaultAction"] == "SCMP_ACT_ALLOW"
    assert oci["syscalls"] == [{"names": ["clone3", "close_range"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]


def test_generated_profiles_name_all_x86_and_arm_architectures():
    for pid in ("deny:clone3:EPERM", "vintage:5.2:EPERM"):
        archs = profiles.parse(pid).oci["architectures"]
        assert set(archs) == {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"}


@pytest.mark.parametrize("pid, syscall, arch, want", [
    ("deny:clone3:EPERM", "clone3", "amd64", "EPERM"),
    ("deny:clone3:EPERM", "clone3", "i386", "EPERM"),
    ("deny:clone3:EPERM", "faccessat2", "amd64", "allowed"),
    ("deny:faccessat2:ENOSYS", "faccessat2", "amd64", "ENOSYS"),
    ("unconfined", "clone3", "amd64", "allowed"),
    ("vintage:5.2:EPERM", "clone3", "amd64", "EPERM"),
    ("vintage:5.2:ENOSYS", "clone3", "amd64", "ENOSYS"),
    ("vintage:5.2:EPERM", "read", "amd64", "allowed"),
    ("vintage:5.3:EPERM", "clone3", "amd64", "allowed"),
    ("default", "clone3", "amd64", None),
])
def test_asks(pid, syscall, arch, want):
    assert profiles.parse(pid).asks(syscall, arch) == want


def test_profile_without_x86_kills_i386():
    p = profiles.Profile("x", "file", {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"]})
    assert p.asks("read", "i386") == "SIGSYS"
    assert p.asks("read", "amd64") == "allowed"


@pytest.mark.parametrize("pid, message", [
    ("deny:clone3", "expected deny:"),
    ("deny::EPERM", "expected deny:"),
    ("deny:clone3:EPREM", "not an errno name"),
    ("deny:clonee3:EPERM", "unknown syscall"),
    ("vintage:five:EPERM", "expected vintage:"),
    ("vintage:5.2:NOPE", "not an errno name"),
    ("vintage:2.6.32:EPERM", "from Linux 3.0 on"),
    ("permissive", "unknown profile"),
    ("file:/nonexistent/p.json", "cannot read"),
])
def test_bad_profile_ids_are_one_clear_line(pid, message):
    with pytest.raises(UsageError, match=message) as info:
        profiles.parse(pid)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ('{"defaultAction": "SCMP_ACT_MAYBE"}', "not a seccomp action"),
    ('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["clone4"], "action": "SCMP_ACT_ALLOW"}]}',
     "unknown syscall"),
    ('{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": "ENOSYS"}', "errno number"),
    ('{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_Z80"]}', "unknown architecture"),
])
def test_bad_profile_files(tmp_path, content, message):
    path = tmp_path / "p.json"
    path.write_text(content)
    with pytest.raises(UsageError, match=message):
        profiles.parse(f"file:{path}")


def test_vintage_tracks_the_syscall_table():
    names = profiles.parse("vintage:5.8:EPERM").oci["syscalls"][0]["names"]
    assert "faccessat2" in names and "clone3" in names
    assert "close_range" not in names and "fchmodat2" not in names


def test_default_profile_is_what_the_runtime_says():
    class Podmanish:
        def default_seccomp(self):
            return {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
                    "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}

    class Opaque:
        def default_seccomp(self):
            return None

    default = profiles.parse("default")
    assert default.asks("clone3", "amd64", Podmanish()) == "ENOSYS"
    assert default.asks("read", "amd64", Podmanish()) == "allowed"
    assert default.asks("clone3", "amd64", Opaque()) is None


def test_a_file_profile_may_name_calls_of_architectures_our_table_does_not_carry(tmp_path):
    """Docker's own default profile names s390's calls and sync_file_range2 (powerpc's), which
    libseccomp knows (a pseudo number off those architectures) and runtimes keep: accepted. A
    name libseccomp does not know either is still a typo, rejected in one line."""
    import json

    import pytest

    from fallbackcheck.errors import UsageError
    from fallbackcheck.model.profiles import parse

    good = tmp_path / "docker-like.json"
    good.write_text(json.dumps({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["read", "s390_runtime_instr", "sync_file_range2"], "action": "SCMP_ACT_ALLOW"}]}))
    assert parse(f"file:{good}").kind == "file"
    bad = tmp_path / "typo.json"
    bad.write_text(json.dumps({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["read", "clone33"], "action": "SCMP_ACT_ALLOW"}]}))
    with pytest.raises(UsageError, match=r"unknown syscall\(s\) \['clone33'\]"):
        parse(f"file:{bad}")
