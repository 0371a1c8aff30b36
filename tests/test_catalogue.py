"""The catalogue is data; these tests hold it to its own rules."""

from pathlib import Path

import pytest

from fallbackcheck import catalogue
from fallbackcheck.errors import UsageError

PROBES = Path(__file__).resolve().parent.parent / "probes"


@pytest.fixture(scope="module")
def cat():
    return catalogue.load()


def test_every_api_probe_has_a_c_source(cat):
    missing = [e.id for e in cat.api.values() if not (PROBES / f"{e.binary}.c").exists()]
    assert missing == []


def test_raw_c_and_the_catalogue_list_the_same_syscalls(cat, tmp_path):
    """`raw --list` (the x86_64 build) names exactly the catalogue's x86_64 raw entries."""
    import shutil
    import subprocess

    cc = shutil.which("musl-gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler on this machine")
    binary = tmp_path / "raw"
    subprocess.run([cc, "-O0", "-D_GNU_SOURCE", f"-I{PROBES / 'include'}", "-o", str(binary),
                    str(PROBES / "raw.c")], check=True)
    listed = set(subprocess.run([str(binary), "--list"], capture_output=True, text=True, check=True).stdout.split())
    assert listed == {e.syscall for e in cat.raw.values() if e.exists_on("amd64")}


def test_every_rule_carries_provenance(cat):
    for entry in cat.api.values():
        for rule in entry.rules:
            assert len(rule.source) > 20, (entry.id, rule)


def test_every_api_entry_predicts_both_errnos_for_new_glibc(cat):
    """EPERM and ENOSYS are the two questions the suite exists to answer."""
    from fallbackcheck.libc import Libc

    newest = Libc("glibc", "2.43")
    for entry in cat.api.values():
        if "glibc" not in entry.libcs:
            continue
        for delivered in ("EPERM", "ENOSYS", "allowed"):
            assert any(r.libc.contains(newest) and r.matches_delivered(delivered) for r in entry.rules), \
                (entry.id, delivered)


def _write(tmp_path, text):
    (tmp_path / "x.toml").write_text(text)
    return tmp_path


RAW = '[[raw]]\nsyscall = "clone3"\nnr = { x86_64 = 435 }\nkernel = "5.3"\ncall = "c"\nanswer = "EINVAL"\nwhy = "w"\n'


def test_rule_without_source_is_rejected(tmp_path):
    bad = RAW + '[[api]]\nid = "p"\napi = "p"\nsyscalls = ["clone3"]\nsummary = "s"\n' \
                '  [[api.expect]]\n  libc = "glibc >=2.34"\n  delivered = "EPERM"\n  outcome = "error"\n  verdict = "pass"\n'
    with pytest.raises(UsageError, match="provenance"):
        catalogue.load(_write(tmp_path, bad))


def test_api_entry_needs_raw_probe_for_its_syscalls(tmp_path):
    bad = '[[api]]\nid = "p"\napi = "p"\nsyscalls = ["clone3"]\nsummary = "s"\n'
    with pytest.raises(UsageError, match="no raw probe"):
        catalogue.load(_write(tmp_path, bad))


def test_unknown_outcome_is_rejected(tmp_path):
    bad = RAW + '[[api]]\nid = "p"\napi = "p"\nsyscalls = ["clone3"]\nsummary = "s"\n' \
                '  [[api.expect]]\n  libc = "glibc"\n  delivered = "EPERM"\n  outcome = "crashed"\n' \
                '  verdict = "pass"\n  source = "somewhere in glibc"\n'
    with pytest.raises(UsageError, match="outcome"):
        catalogue.load(_write(tmp_path, bad))


def test_malformed_toml_is_one_line(tmp_path):
    with pytest.raises(UsageError, match="not valid TOML"):
        catalogue.load(_write(tmp_path, "[[api]\n"))
