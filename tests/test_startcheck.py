"""A container that never started: the runtime's answer to the profile when the runtime still
starts an unconfined container, an error of the machine when it starts none (issue 35, item 7).
No engine: the runtime is a stand-in that answers each run_batch from a script."""

from pathlib import Path

from fallbackcheck.execution import batch
from fallbackcheck.model import profiles
from fallbackcheck import report
from fallbackcheck.report import render_md
from fallbackcheck.batches.results import BatchKey, BatchResult
from fallbackcheck.batches.launch import BatchOutput, BatchPlan

CGROUP = "crun: create `/sys/fs/cgroup/fbc-x`: No such file or directory"
EXECVE = "exec /fbc/amd64/runner: operation not permitted"
STARTED = BatchOutput('{"runner":"fallbackcheck"}\n{"id":"libc:glibc","exit":0}\n{"runner_done":true}\n', "", 0)


class ScriptedRuntime:
    """Answers each run_batch with the next output of `script`, and records the plans."""

    id = "crun"
    shares_start = False

    def __init__(self, *script):
        self.script = list(script)
        self.plans = []

    def cached_versions(self):
        return {"oci_runtime_version": "crun version 1.8.1"}

    def run_batch(self, plan):
        self.plans.append(plan)
        return self.script.pop(0)


def _refused(profile: str, said: str, runtime, unconfined: BatchOutput | None = None) -> BatchResult:
    plan = BatchPlan("debian-13", "ref", "amd64", profiles.parse(profile), ("raw:clone3=/fbc/amd64/raw clone3",),
                     Path("/nonexistent"), 10, "s")
    result = BatchResult(BatchKey("debian-13", runtime.id, profile))
    batch._note_start_refused(result, runtime, plan, BatchOutput("", said + "\n", 1), unconfined)
    return result


def test_a_profile_the_runtime_cannot_start_under_is_the_runtimes_answer():
    runtime = ScriptedRuntime(STARTED)  # the unconfined check starts
    result = _refused("deny:execve:EPERM", EXECVE, runtime)
    assert (result.start_refused, result.machine_fault) == (True, False)
    assert result.error.startswith("the container did not start under this profile: crun (crun version 1.8.1) said")
    assert [p.profile.kind for p in runtime.plans] == ["unconfined"]
    assert runtime.plans[0].specs == ("libc:glibc=/fbc/amd64/libc_version",)


def test_a_runtime_that_starts_nothing_is_an_error_of_the_machine():
    runtime = ScriptedRuntime(BatchOutput("", CGROUP + "\n", 1))  # unconfined refused too
    result = _refused("deny:execve:EPERM", EXECVE, runtime)
    assert (result.start_refused, result.machine_fault) == (False, True)
    assert result.error == ("crun (crun version 1.8.1) cannot start any container, unconfined included: "
                            f"a problem of this machine, not of the profile: {CGROUP}")
    assert result.summary()["machine_fault"] is True and "start_refused" not in result.summary()


def test_an_unconfined_batch_that_never_started_needs_no_second_container():
    runtime = ScriptedRuntime()
    result = _refused("unconfined", CGROUP, runtime)
    assert result.start_refused is False and "cannot start any container, unconfined included" in result.error
    assert result.machine_fault is True and runtime.plans == []


def test_the_images_unconfined_batch_of_the_same_start_answers_without_a_container():
    """A kernel host runs every profile of an image in one boot: its unconfined batch says
    whether anything starts; no check container (no second boot) is started."""
    started = _refused("deny:execve:EPERM", EXECVE, ScriptedRuntime(), unconfined=STARTED)
    assert (started.start_refused, started.machine_fault) == (True, False)
    broken = _refused("deny:execve:EPERM", EXECVE, ScriptedRuntime(), unconfined=BatchOutput("", CGROUP + "\n", 1))
    assert (broken.start_refused, broken.machine_fault) == (False, True) and CGROUP in broken.error


def test_a_runtime_that_boots_per_start_boots_nothing_more_for_one_refusal():
    runtime = ScriptedRuntime()
    runtime.shares_start = True  # a kernel host: a check would boot the kernel again
    result = _refused("deny:execve:EPERM", EXECVE, runtime)
    assert (result.start_refused, result.machine_fault) == (True, False) and runtime.plans == []


def test_a_batch_that_ran_or_timed_out_is_not_a_refusal():
    runtime = ScriptedRuntime()
    plan = BatchPlan("debian-13", "ref", "amd64", profiles.parse("deny:execve:EPERM"), ("a=/b",), Path("/x"), 10, "s")
    for output in (BatchOutput('{"runner":"fallbackcheck"}\n', "killed\n", 137),
                   BatchOutput("", "still running\n", None, timed_out=True), BatchOutput("", "", 1)):
        result = BatchResult(BatchKey("debian-13", "crun", "deny:execve:EPERM"))
        batch._note_start_refused(result, runtime, plan, output)
        assert (result.start_refused, result.error) == (False, None), output
    assert runtime.plans == []


def test_the_matrix_says_a_machine_fault_once_per_runtime():
    """Every batch of the runtime is an error of the machine: one line in matrix.md names the
    runtime and its message; its cells are not listed again one by one."""
    detail = "the batch could not be measured: crun (crun version 1.8.1) cannot start any container, " + CGROUP
    base = {"kind": "api", "api": "pthread_create", "syscalls": ["clone3"], "image": "debian-13", "libc": "glibc 2.41",
            "arch": "amd64", "runtime": "crun", "delivered": {}, "outcome": "broken", "errno": None,
            "verdict": "error", "detail": detail, "source": "", "container": "",
            "batch": {"container": None, "exit": 1, "complete": False, "machine_fault": True}}
    rows = [dict(base, probe=probe, profile=profile) for probe in ("pthread_create", "lchmod")
            for profile in ("unconfined", "deny:clone3:EPERM", "vintage:6.1:ENOSYS")]
    rows.append(dict(base, probe="pthread_create", runtime="runc", profile="deny:execve:EPERM", verdict="unexpected",
                     detail="the container did not start under this profile: runc said ...",
                     batch={"container": None, "exit": 255, "complete": False, "start_refused": True}))
    text = render_md.render(report.build(rows, {}, {}, True))
    assert text.count("cannot start any container") == 1
    assert f"- `crun`: {detail} (6 cells not measured)" in text
    assert "the container did not start under this profile: runc said" in text  # the runtime's answer stays a cell
    # and the terminal's summary says it in one line, the runtime's answer not at all
    from fallbackcheck.report import ci_summary

    lines = ci_summary.terminal_lines(report.build(rows, {}, {}, True))
    problems = [line for line in lines if line.startswith("PROBLEM OF THIS MACHINE")]
    assert problems == [f"PROBLEM OF THIS MACHINE: {detail} (6 cells not measured)"], lines
    # and the HTML view, once, above the counts
    from fallbackcheck.report import render_html

    page = render_html.render(report.build(rows, {}, {}, True))
    text = page.split('<script type="application/json"')[0]  # the page's text, before the grid's cell data
    assert text.count("cannot start any container") == 1
    assert page.index("Problems of this machine") < page.index("<h2>Counts</h2>")
