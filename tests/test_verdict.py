"""Verdict logic on fabricated observations: the catalogue judges, probes only observe."""

import pytest

from fallbackcheck.model import catalogue
from fallbackcheck.model.libc import Libc
from fallbackcheck.batches.observation import Observation
from fallbackcheck.judging.verdict import judge_api, judge_raw


@pytest.fixture(scope="module")
def cat():
    return catalogue.load()


def obs(outcome, errno=None, detail=""):
    return Observation("p", outcome, errno, detail)


@pytest.mark.parametrize("libc, delivered, observed, verdict", [
    ("glibc 2.36", "EPERM", ("error", "EPERM"), "expected-break"),
    ("glibc 2.36", "EACCES", ("error", "EACCES"), "expected-break"),
    ("glibc 2.36", "ENOSYS", ("ok", None), "pass"),
    ("glibc 2.36", "allowed", ("ok", None), "pass"),
    ("glibc 2.31", "EPERM", ("ok", None), "pass"),
    # The catalogue predicts a break; a success is as unexpected as a failure would be.
    ("glibc 2.36", "EPERM", ("ok", None), "unexpected"),
    ("glibc 2.36", "ENOSYS", ("error", "ENOSYS"), "unexpected"),
    ("glibc 2.36", "EPERM", ("error", "EACCES"), "unexpected"),
    ("glibc 2.36", "allowed", ("abort", None), "unexpected"),
])
def test_pthread_create(cat, libc, delivered, observed, verdict):
    j = judge_api(cat.api["pthread_create"], obs(*observed), {"clone3": delivered}, Libc.parse(libc))
    assert j.verdict == verdict, j.detail


def test_absent_api_on_old_glibc_is_not_applicable(cat):
    j = judge_api(cat.api["closefrom"], obs("absent"), {"close_range": "EPERM"}, Libc.parse("glibc 2.31"))
    assert j.verdict == "n/a"


def test_absent_api_on_new_glibc_is_unexpected(cat):
    j = judge_api(cat.api["closefrom"], obs("absent"), {"close_range": "allowed"}, Libc.parse("glibc 2.36"))
    assert j.verdict == "unexpected"


def test_unmeasured_delivered_errno_is_never_a_pass(cat):
    j = judge_api(cat.api["pthread_create"], obs("ok"), {"clone3": "unknown"}, Libc.parse("glibc 2.36"))
    assert j.verdict == "unexpected"


def test_expected_break_carries_its_source(cat):
    j = judge_api(cat.api["faccessat"], obs("error", "EPERM"), {"faccessat2": "EPERM"}, Libc.parse("glibc 2.41"))
    assert j.verdict == "expected-break" and "faccessat.c" in j.source


@pytest.mark.parametrize("delivered, asked, verdict", [
    ("EPERM", "EPERM", "pass"),
    ("allowed", "allowed", "pass"),
    ("ENOSYS", "EPERM", "unexpected"),
    ("allowed", "EPERM", "unexpected"),
    ("unknown", "EPERM", "unexpected"),
    ("EPERM", None, "n/a"),
])
def test_raw(cat, delivered, asked, verdict):
    j = judge_raw(cat.raw["raw:clone3"], obs("ok"), delivered, asked)
    assert j.verdict == verdict


def test_raw_difference_explained_by_runtime_behaviour_passes_and_says_why(cat):
    j = judge_raw(cat.raw["raw:clone3"], obs("ok"), "ENOSYS", "EPERM", lambda a, d: "runc's ENOSYS stub")
    assert j.verdict == "pass" and "runc" in j.detail


def test_libc_identities_parse_to_the_same_text_and_refuse_others():
    for text in ("glibc 2.36", "musl 1.2.3", " glibc 2.31 "):
        libc = Libc.parse(text)
        assert str(libc) == text.strip() and libc == Libc.parse(text.strip())
    assert Libc.parse("glibc 2.39").key == (2, 39) > Libc.parse("glibc 2.4").key
    for bad in ("foo", "glibc", "uclibc 1.0", "glibc 2.x"):
        with pytest.raises(ValueError):
            Libc.parse(bad)


@pytest.mark.parametrize("probe, delivered, observed, verdict", [
    # faccessat's fallback leaves faccessat2's ENOSYS in errno; with faccessat2 allowed, errno stays 0
    ("faccessat.errno_after", {"faccessat2": "ENOSYS"}, ("ok", "ENOSYS"), "pass"),
    ("faccessat.errno_after", {"faccessat2": "ENOSYS"}, ("ok", "0"), "unexpected"),
    ("faccessat.errno_after", {"faccessat2": "allowed"}, ("ok", "ENOSYS"), "unexpected"),
    ("faccessat.errno_after", {"faccessat2": "allowed"}, ("ok", "0"), "pass"),
    # clone-internal.c restores errno: an ENOSYS left behind would contradict the source
    ("pthread_create.errno_after", {"clone3": "ENOSYS"}, ("ok", "0"), "pass"),
    ("pthread_create.errno_after", {"clone3": "ENOSYS"}, ("ok", "ENOSYS"), "unexpected"),
])
def test_errno_after_a_success_is_judged_not_ignored(cat, probe, delivered, observed, verdict):
    j = judge_api(cat.api[probe], obs(*observed), delivered, Libc.parse("glibc 2.41"))
    assert j.verdict == verdict, j.detail


# glibc 2.42+ tries madvise(MADV_GUARD_INSTALL) (Linux 6.13) on every new thread stack and
# leaves the EINVAL of an older kernel in errno (nptl/allocatestack.c, commit a6fbe36b7f):
# the kernel the cell ran on decides, whatever clone3 got (docs/findings.md §9.4).
@pytest.mark.parametrize("libc, kernel, clone3, errno, verdict", [
    ("glibc 2.43", "6.12.118+deb13-amd64", "allowed", "EINVAL", "pass"),
    ("glibc 2.43", "5.10.0-46-amd64", "allowed", "EINVAL", "pass"),
    ("glibc 2.43", "6.12.118+deb13-amd64", "allowed", "0", "unexpected"),
    ("glibc 2.43", "6.12.118+deb13-amd64", "ENOSYS", "EINVAL", "pass"),  # clone-internal.c restores EINVAL
    ("glibc 2.43", "6.12.118+deb13-amd64", "ENOSYS", "0", "unexpected"),
    ("glibc 2.43", "6.18.1", "allowed", "0", "pass"),
    ("glibc 2.43", "6.13.0", "allowed", "0", "pass"),
    ("glibc 2.43", "6.18.1", "allowed", "EINVAL", "unexpected"),
    ("glibc 2.43", "6.18.1", "ENOSYS", "0", "pass"),
    ("glibc 2.42", "6.1.0-56-amd64", "allowed", "EINVAL", "pass"),
    ("glibc 2.41", "5.10.0-46-amd64", "allowed", "0", "pass"),  # before the madvise: errno untouched
    ("glibc 2.41", "5.10.0-46-amd64", "allowed", "EINVAL", "unexpected"),
    # a kernel not known: no rule about the kernel applies, so neither errno is taken on trust
    ("glibc 2.43", "", "allowed", "EINVAL", "unexpected"),
])
def test_pthread_create_errno_after_depends_on_the_kernel(cat, libc, kernel, clone3, errno, verdict):
    j = judge_api(cat.api["pthread_create.errno_after"], obs("ok", errno), {"clone3": clone3}, Libc.parse(libc),
                  kernel=kernel)
    assert j.verdict == verdict, j.detail
    if verdict == "unexpected":
        assert f"on kernel {kernel or 'unknown'}" in j.detail, j.detail
    elif errno == "EINVAL":
        assert "MADV_GUARD_INSTALL" in j.source and "commit a6fbe36b7f" in j.source


def test_a_kernel_rule_reads_major_minor_of_uname_r():
    from fallbackcheck.model.libc import KernelRange, kernel_version

    assert kernel_version("6.12.118+deb13-amd64") == (6, 12) and kernel_version("5.10.0-46-amd64") == (5, 10)
    assert kernel_version("") is None and kernel_version("unknown") is None
    before = KernelRange.parse("<6.13")
    assert [before.contains(r) for r in ("6.12.118+deb13-amd64", "6.13.0", "6.18.1", "5.10.0-46-amd64", "")] == \
        [True, False, False, True, False]
    assert KernelRange.parse(">=5.3,<6.13").contains("6.1.0-56-amd64")
    for bad in ("", "6.13", "<6", "<6.13.1", "linux <6.13"):
        with pytest.raises(ValueError):
            KernelRange.parse(bad)


def test_kernel_is_a_rule_field_checked_at_load():
    rule = catalogue._rule("t", {"libc": "glibc >=2.42", "kernel": "<6.13", "delivered": "allowed", "outcome": "ok",
                                 "errno": "EINVAL", "verdict": "pass", "source": "s"}, ())
    assert rule.kernel.text == "<6.13"
    with pytest.raises(Exception, match="major.minor"):
        catalogue._rule("t", {"libc": "glibc", "kernel": "<6", "delivered": "any", "outcome": "ok",
                              "verdict": "pass", "source": "s"}, ())


def test_errno_zero_is_a_word_only_after_a_success():
    with pytest.raises(Exception, match="'0' with outcome ok"):
        catalogue._rule("t", {"libc": "glibc", "delivered": "any", "outcome": "error", "errno": "0",
                              "verdict": "pass", "source": "s"}, ())
