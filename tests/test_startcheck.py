"""A container that never started: the runtime's answer to the profile when the runtime still
starts an unconfined container, an error of the machine when it starts none (issue 35, item 7).
No engine: the runtime is a stand-in that answers each run_batch from a script."""

from pathlib import Path

from fallbackcheck import batch, profiles
from fallbackcheck.batch import BatchKey, BatchResult
from fallbackcheck.launch import BatchOutput, BatchPlan

CGROUP = "crun: create `/sys/fs/cgroup/fbc-x`: No such file or directory"
EXECVE = "exec /fbc/amd64/runner: operation not permitted"
STARTED = BatchOutput('{"runner":"fallbackcheck"}\n{"id":"libc:glibc","exit":0}\n{"runner_done":true}\n', "", 0)


class ScriptedRuntime:
    """Answers each run_batch with the next output of `script`, and records the plans."""

    id = "crun"

    def __init__(self, *script):
        self.script = list(script)
        self.plans = []

    def cached_versions(self):
        return {"oci_runtime_version": "crun version 1.8.1"}

    def run_batch(self, plan):
        self.plans.append(plan)
        return self.script.pop(0)


def _refused(profile: str, said: str, runtime) -> BatchResult:
    plan = BatchPlan("debian-13", "ref", "amd64", profiles.parse(profile), ("raw:clone3=/fbc/amd64/raw clone3",),
                     Path("/nonexistent"), 10, "s")
    result = BatchResult(BatchKey("debian-13", runtime.id, profile))
    batch._note_start_refused(result, runtime, plan, BatchOutput("", said + "\n", 1))
    return result


def test_a_profile_the_runtime_cannot_start_under_is_the_runtimes_answer():
    runtime = ScriptedRuntime(STARTED)  # the unconfined check starts
    result = _refused("deny:execve:EPERM", EXECVE, runtime)
    assert result.start_refused is True
    assert result.error.startswith("the container did not start under this profile: crun (crun version 1.8.1) said")
    assert [p.profile.kind for p in runtime.plans] == ["unconfined"]
    assert runtime.plans[0].specs == ("libc:glibc=/fbc/amd64/libc_version",)


def test_a_runtime_that_starts_nothing_is_an_error_of_the_machine():
    runtime = ScriptedRuntime(BatchOutput("", CGROUP + "\n", 1))  # unconfined refused too
    result = _refused("deny:execve:EPERM", EXECVE, runtime)
    assert result.start_refused is False
    assert result.error == ("crun (crun version 1.8.1) cannot start any container, unconfined included: "
                            f"a problem of this machine, not of the profile: {CGROUP}")


def test_an_unconfined_batch_that_never_started_needs_no_second_container():
    runtime = ScriptedRuntime()
    result = _refused("unconfined", CGROUP, runtime)
    assert result.start_refused is False and "cannot start any container, unconfined included" in result.error
    assert runtime.plans == []


def test_a_batch_that_ran_or_timed_out_is_not_a_refusal():
    runtime = ScriptedRuntime()
    plan = BatchPlan("debian-13", "ref", "amd64", profiles.parse("deny:execve:EPERM"), ("a=/b",), Path("/x"), 10, "s")
    for output in (BatchOutput('{"runner":"fallbackcheck"}\n', "killed\n", 137),
                   BatchOutput("", "still running\n", None, timed_out=True), BatchOutput("", "", 1)):
        result = BatchResult(BatchKey("debian-13", "crun", "deny:execve:EPERM"))
        batch._note_start_refused(result, runtime, plan, output)
        assert (result.start_refused, result.error) == (False, None), output
    assert runtime.plans == []
