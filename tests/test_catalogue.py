"""The catalogue is data; these tests hold it to its own rules."""

import re
import tomllib
from pathlib import Path

import pytest

from fallbackcheck.model import catalogue
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
    from fallbackcheck.model.libc import Libc

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


# ---- provenance: every `source` cites a primary reference (probes/catalogue/README.md) ----

_PATH = r"(?:[\w.+-]+/)+[\w.+-]+\.(?:c|h|S|list|abilist|sym)\b"
PRIMARY_REFERENCES = {
    "glibc source path with a glibc version": re.compile(rf"(?=.*{_PATH})(?=.*\bglibc[- ]2\.\d+)", re.S),
    "musl source path with a musl version":
        re.compile(rf"(?=.*\bmusl\b)(?=.*(?:{_PATH}|\b(?:src|include)/))(?=.*\b1\.\d+\.\d+\b)", re.S),
    "libseccomp source path with a release tag":
        re.compile(rf"(?=.*\blibseccomp\b)(?=.*{_PATH})(?=.*\bv2\.\d+\.\d+\b)", re.S),
    "commit hash": re.compile(r"\bcommit [0-9a-f]{7,40}\b"),
    "sourceware bug": re.compile(r"\bBZ ?#?\d{4,5}\b|https://sourceware\.org/bugzilla/show_bug\.cgi\?id=\d+"),
    "issue, PR or commit URL": re.compile(
        r"https://(?:github\.com/[\w.-]+/[\w.-]+/(?:issues|pull|commit)/\w+"
        r"|bugs\.launchpad\.net/\S+/\+bug/\d+|lore\.kernel\.org/\S+)"),
    "our measurement": re.compile(r"\bdocs/findings(?:-[\w]+)?\.md §\d+"),
}


def primary_references(source: str) -> list[str]:
    return [kind for kind, pattern in PRIMARY_REFERENCES.items() if pattern.search(source)]


def _sources(node, where=""):
    """Every `source` string in a parsed catalogue file, with where it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "source" and isinstance(value, str):
                yield where, value
            else:
                yield from _sources(value, f"{where}.{key}" if where else key)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            label = item.get("id") or item.get("syscall") if isinstance(item, dict) else None
            yield from _sources(item, f"{where}[{label or i}]")


def test_every_source_cites_a_primary_reference():
    found, missing = 0, []
    for path in sorted((PROBES / "catalogue").glob("*.toml")):
        for where, source in _sources(tomllib.loads(path.read_text())):
            found += 1
            if not primary_references(source):
                missing.append(f"{path.name}:{where}: {source}")
    assert found > 250, found  # the catalogue's sources were really read
    assert missing == []


@pytest.mark.parametrize("source, ok", [
    ("sysdeps/unix/sysv/linux/clone-internal.c (glibc 2.34+): falls back on ENOSYS", True),
    ("sysdeps/unix/sysv/linux/clone-internal.c at glibc-2.34", True),
    ("clone-internal.c (glibc 2.34+): falls back on ENOSYS", False),  # no directory: which file?
    ("sysdeps/unix/sysv/linux/statx.c: ENOSYS -> statx_generic", False),  # no version
    ("musl src/unistd/faccessat.c (1.2.2+): ENOSYS -> the faccessat syscall", True),
    ("musl never uses clone3", False),
    ("the emulation came in 2.32 (BZ 14578)", True),
    ("fixed on the branch by commit 76e05613ee", True),
    ("moby #42680", False),
    ("https://github.com/moby/moby/issues/42680", True),
    ("measured: docs/findings-general.md §4", True),
    ("glibc-fallbacks.md" + " row 8", False),
    ("the reference, section 3 (futex_time64) [tested 2.36]", False),
])
def test_primary_reference_definition(source, ok):
    assert bool(primary_references(source)) is ok


# ---- the repository stands alone: nothing points at documents a clone does not have ----

REPO = PROBES.parent
SELF_CONTAINED = ["README.md", "conftest.py", "pyproject.toml", "docs", "probes", "fallbackcheck", "suites",
                  "scripts", "tests", "images", ".ci"]
OUTSIDE_DOCS = re.compile("|".join([
    "shared" + "/",                                  # the design notes and references kept beside the repo
    r"glibc-fallbacks\.md,? (?:row|rows|section) \d",  # rows and sections of the old notes
    r"runtimes\.md,? §\d",
]))


def _text_files():
    for top in SELF_CONTAINED:
        root = REPO / top
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in paths:
            if "__pycache__" in path.parts:
                continue
            try:
                yield path, path.read_text()
            except (UnicodeDecodeError, OSError):
                continue  # binaries (built probes, images) are not documents


def test_no_file_points_outside_the_repository():
    seen, hits = 0, []
    for path, text in _text_files():
        seen += 1
        for n, line in enumerate(text.splitlines(), 1):
            if OUTSIDE_DOCS.search(line):
                hits.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert seen > 100, seen
    assert hits == []


def test_the_outside_reference_check_can_fail():
    assert OUTSIDE_DOCS.search("schema in `../" + "shared" + "/DESIGN.md`")
    assert OUTSIDE_DOCS.search("see glibc-fallbacks.md" + " row 8")
    assert OUTSIDE_DOCS.search("Podman takes a path (runtimes.md" + " §8)")
    assert not OUTSIDE_DOCS.search("cannot stat shared object: Operation not permitted")
    assert not OUTSIDE_DOCS.search("docs/glibc-fallbacks.md, \"i386 time64\"")
