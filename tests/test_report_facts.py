"""Views read what a profile and a runtime are from fields the run wrote into matrix.json
(selection.profile_facts, environment.runtime_kinds), not by splitting their ids; a report
written before those fields existed is still read, by the grammar's own reader."""

from fallbackcheck import report
from fallbackcheck.model import profiles
from fallbackcheck.report import compat_table, matrix_views, sandbox_views

from helpers import runtime_kinds
from test_answers import ok, row


def test_profile_facts_are_the_grammar_in_fields():
    assert profiles.facts("unconfined") == {"family": "unconfined"}
    assert profiles.facts("vintage:5.10:ENOSYS") == {"family": "vintage", "kernel": "5.10", "errno": "ENOSYS"}
    assert profiles.facts("deny:clone3,faccessat2:EPERM") == {"family": "deny", "syscalls": ["clone3", "faccessat2"],
                                                               "errno": "EPERM"}
    assert profiles.facts("file:/tmp/a:b.json") == {"family": "file", "path": "/tmp/a:b.json"}
    assert profiles.facts("own:seccomp") == {"family": "own", "name": "seccomp"}
    assert profiles.facts("vintage:5.10") == {"family": "unknown"}


def test_the_run_writes_the_facts_the_views_read():
    """What a run writes (the selection's as_dict, each runtime's kind_facts) carries the fields."""
    from fallbackcheck.execution.selection import Selection

    selection = Selection(["debian-12"], ["crun"], {p: profiles.parse(p) for p in ("default", "vintage:6.1:EPERM")},
                          ["lchmod"], {}, [])
    assert selection.as_dict()["profile_facts"]["vintage:6.1:EPERM"] == {"family": "vintage", "kernel": "6.1",
                                                                        "errno": "EPERM"}
    facts = runtime_kinds("docker-crun", "local@linux-6.1")
    assert (facts["docker-crun"]["kind"], facts["docker-crun"]["host"], facts["docker-crun"]["shared_column"]) == \
        ("docker-crun", "", None)
    assert (facts["local@linux-6.1"]["kind"], facts["local@linux-6.1"]["host"],
            facts["local@linux-6.1"]["shared_column"]) == ("local", "linux-6.1", "kernels")
    # systemd-run@<name> names a systemd host: its host, as an engine generation's is
    facts = runtime_kinds("systemd-run", "systemd-run@debian-13")
    assert (facts["systemd-run"]["host"], facts["systemd-run@debian-13"]["host"]) == ("", "debian-13")


def _lchmod(runtime, profile, works):
    make = ok if works else row
    extra = {"works": True} if works else {"errno": "EPERM", "works": False}
    return make(probe="lchmod", api="lchmod", syscalls=["fchmodat2"], image="debian-13", libc="glibc 2.41",
                runtime=runtime, profile=profile, delivered={"fchmodat2": "allowed" if works else "EPERM"}, **extra)


def test_the_table_reads_the_fields_not_the_ids():
    """A plug-in kind whose runtimes are kernel hosts by its own facts (no local@linux- in its
    ids) goes to the kernels column, and profiles named against the grammar's words are read by
    their facts: the ids alone would say otherwise."""
    rows = [_lchmod("vmbox@k5.10", "unconfined", False), _lchmod("vmbox@k6.12", "unconfined", True),
            _lchmod("crun", "unconfined", True), _lchmod("crun", "frozen-old", False), _lchmod("crun", "frozen-new", True)]
    kinds = {"vmbox@k5.10": {"kind": "vmbox", "host": "linux-5.10", "shared_column": "kernels"},
             "vmbox@k6.12": {"kind": "vmbox", "host": "linux-6.12", "shared_column": "kernels"},
             **runtime_kinds("crun")}
    facts = {"frozen-old": {"family": "vintage", "kernel": "5.4", "errno": "EPERM"},
             "frozen-new": {"family": "vintage", "kernel": "6.6", "errno": "EPERM"},
             "unconfined": {"family": "unconfined"}}
    data = report.Report(report.build(rows, {"runtime_kinds": kinds}, {"profile_facts": facts}, True))
    table = compat_table.table(data)
    assert [c["id"] for c in table["columns"]] == ["crun", "kernels"]
    cells = table["groups"][0]["apis"][0]["images"]["debian-13"]["cells"]
    assert cells["kernels"]["since"] == {"kernel": "6.12"}
    assert cells["crun"]["since"] == {"vintage:EPERM": "6.6"}
    [oldest] = matrix_views.oldest_vintage(data)
    assert [r[:3] for r in oldest.rows] == [["debian-13", "crun", "6.6"]]


def test_an_old_report_without_the_fields_is_read_from_its_ids():
    rows = [_lchmod("crun", "vintage:5.4:EPERM", False), _lchmod("crun", "vintage:6.6:EPERM", True),
            _lchmod("crun", "unconfined", True), _lchmod("local@linux-6.1", "unconfined", True)]
    data = report.Report(report.build(rows, {}, {}, True))
    assert report.runtime_facts(data, "local@linux-6.1")["shared_column"] == "kernels"
    assert report.profile_facts(data, "vintage:6.6:EPERM")["kernel"] == "6.6"
    table = compat_table.table(data)
    assert [c["id"] for c in table["columns"]] == ["crun", "kernels"]
    assert table["groups"][0]["apis"][0]["images"]["debian-13"]["cells"]["crun"]["since"] == {"vintage:EPERM": "6.6"}


def test_the_sandbox_section_reads_the_profile_family():
    """`own:` and `default` are a sandbox's own filters, by the profile's facts."""
    rows = [_lchmod("bwrap", "unconfined", True), _lchmod("bwrap", "mine", False)]
    env = {"runtimes": {"bwrap": {"sandbox": "bubblewrap 0.8.0"}}}
    with_facts = report.Report(report.build(rows, env, {"profile_facts": {"mine": {"family": "own", "name": "x"}}}, True))
    without = report.Report(report.build(rows, env, {}, True))
    assert any("lchmod" in str(t.rows) for t in sandbox_views.tables(with_facts))
    assert not any("lchmod" in str(t.rows) for t in sandbox_views.tables(without))
