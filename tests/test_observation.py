"""Runner records -> observations (probes/runner.c's output format)."""

from fallbackcheck.batches.observation import classify, delivered


def rec(**kw):
    base = {"id": "p", "exit": 0, "signal": None, "signal_name": None, "timeout": False,
            "exec_errno": None, "elapsed_ms": 3, "stdout": "", "stderr": ""}
    base.update(kw)
    return base


def test_ok_line():
    o = classify(rec(stdout='{"outcome":"ok","errno":null,"detail":"fine"}\n'))
    assert (o.outcome, o.errno, o.detail) == ("ok", None, "fine")


def test_error_line():
    o = classify(rec(stdout='{"outcome":"error","errno":"EPERM","errno_num":1,"detail":"x"}\n'))
    assert (o.outcome, o.errno) == ("error", "EPERM")


def test_timeout_wins_over_signal():
    o = classify(rec(timeout=True, signal_name="SIGKILL", exit=None), timeout_s=2)
    assert o.outcome == "timeout" and "2 s" in o.detail


def test_abort_keeps_glibc_message():
    o = classify(rec(exit=None, signal_name="SIGABRT",
                     stderr="Fatal glibc error: cannot get entropy for arc4random\n"))
    assert o.outcome == "abort" and "cannot get entropy" in o.detail and o.signal == "SIGABRT"


def test_loader_failure_is_cannot_start_with_its_message():
    msg = ("/fbc/i386/stat: error while loading shared libraries: libc.so.6: "
           "cannot stat shared object: Operation not permitted\n")
    o = classify(rec(exit=127, stderr=msg))
    assert o.outcome == "cannot-start" and "cannot stat shared object" in o.detail


def test_exec_failure_is_cannot_start():
    o = classify(rec(exit=127, exec_errno="EPERM"))
    assert (o.outcome, o.errno) == ("cannot-start", "EPERM")


def test_silent_nonzero_exit_is_broken_never_ok():
    o = classify(rec(exit=3, stderr="oops\n"))
    assert o.outcome == "broken"


class Entry:
    answer = "EINVAL"

    def kernel_answer(self, cap):
        return "EPERM" if cap is False else self.answer


E = Entry()


def test_capability_first_syscalls_are_indistinct_without_cap_sys_admin():
    o = classify(rec(stdout='{"syscall":"fsopen","nr":430,"ret":-1,"errno":"EPERM","errno_num":1,'
                            '"cap_sys_admin":false}\n'))
    assert delivered(E, o) == "allowed|EPERM"
    o = classify(rec(stdout='{"syscall":"fsopen","nr":430,"ret":-1,"errno":"ENOSYS","errno_num":38,'
                            '"cap_sys_admin":false}\n'))
    assert delivered(E, o) == "ENOSYS"


def test_raw_line_and_delivered():
    o = classify(rec(stdout='{"syscall":"clone3","nr":435,"ret":-1,"errno":"EINVAL","errno_num":22}\n'))
    assert delivered(E, o) == "allowed"
    o = classify(rec(stdout='{"syscall":"clone3","nr":435,"ret":-1,"errno":"EPERM","errno_num":1}\n'))
    assert delivered(E, o) == "EPERM"
    o = classify(rec(exit=None, signal_name="SIGSYS"))
    assert delivered(E, o) == "SIGSYS"
    o = classify(rec(exit=2))
    assert delivered(E, o) == "unknown"
    o = classify(rec(stdout='{"syscall":"clock_gettime64","nr":null,"ret":null,"errno":null,'
                            '"errno_num":0,"unsupported_arch":true}\n'))
    assert delivered(E, o) == "n/a"
