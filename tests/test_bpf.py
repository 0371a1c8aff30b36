"""model/bpf: a seccomp filter's answer per syscall, read from its classic-BPF program, as the
kernel would act on it (several filters: the most restrictive wins)."""

import shutil
import struct

import pytest

from fallbackcheck.model import bpf, profiles, syscalls

from helpers import skip_or_fail


def _compiled(profile_id, tmp_path):
    from fallbackcheck.runtimes.bwrap import compile_filter

    if shutil.which("cc") is None:
        skip_or_fail("no C compiler on this machine (the filter helper is built with it)")
    return bpf.parse(compile_filter(profiles.parse(profile_id), tmp_path).read_bytes())


def _nr(name, arch="amd64"):
    return syscalls.table()[name].nr[arch]


def test_libseccomps_programs_answer_what_the_profile_asks(tmp_path):
    deny = _compiled("deny:clone3,faccessat2:EPERM", tmp_path)
    assert bpf.answer(bpf.run(deny, "amd64", _nr("clone3"))) == "EPERM"
    assert bpf.answer(bpf.run(deny, "amd64", _nr("faccessat2"))) == "EPERM"
    assert bpf.answer(bpf.run(deny, "amd64", _nr("read"))) == "allowed"
    assert bpf.answer(bpf.run(deny, "i386", _nr("clone3", "i386"))) == "EPERM"  # the profile names x86 too
    vintage = _compiled("vintage:5.4:ENOSYS", tmp_path)  # clone3 came in 5.3, faccessat2 in 5.8
    assert bpf.answer(bpf.run(vintage, "amd64", _nr("clone3"))) == "allowed"
    assert bpf.answer(bpf.run(vintage, "amd64", _nr("faccessat2"))) == "ENOSYS"


def _program(*instructions):
    return bpf.parse(b"".join(struct.pack("<HBBI", *i) for i in instructions))


LD_NR, JEQ, RET = (0x20, 0, 0, 0), 0x15, 0x06


def test_several_filters_the_most_restrictive_wins_and_trace_is_enosys():
    # if nr == 435 (clone3) return ERRNO(EPERM) else ALLOW
    eperm = _program(LD_NR, (JEQ, 0, 1, 435), (RET, 0, 0, bpf.RET_ERRNO | 1), (RET, 0, 0, bpf.RET_ALLOW))
    kill = _program(LD_NR, (JEQ, 0, 1, 435), (RET, 0, 0, bpf.RET_KILL_PROCESS), (RET, 0, 0, bpf.RET_ALLOW))
    trace = _program((RET, 0, 0, bpf.RET_TRACE))
    assert bpf.answer(bpf.combined([eperm], "amd64", 435)) == "EPERM"
    assert bpf.answer(bpf.combined([eperm, kill], "amd64", 435)) == "SIGSYS"
    assert bpf.answer(bpf.combined([trace, eperm], "amd64", 435)) == "EPERM"
    assert bpf.answer(bpf.combined([trace, eperm], "amd64", 0)) == "ENOSYS"  # no tracer: the kernel says ENOSYS
    assert bpf.answer(bpf.combined([], "amd64", 0)) == "allowed"


def test_a_program_that_runs_off_its_end_is_refused():
    with pytest.raises(ValueError, match="off its end"):
        bpf.run(_program(LD_NR, (JEQ, 5, 0, 1)), "amd64", 1)
    with pytest.raises(ValueError, match="8-byte"):
        bpf.parse(b"\0" * 12)
