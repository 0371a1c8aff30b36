"""Integration: an engine generation (debian-13: Docker 26, containerd 1.7, runc 1.1.15,
crun 1.21, Podman 5.4) provisioned in a container, every runtime kind on it, containerd
through ctr here too, the received profile of every batch, and an ssh engine host on the
loopback address. One generation (debian-13) keeps CI short; it is built once per
recipe hash and reused by the second run and the ssh test."""

import os
import signal
import uuid

import pytest

from helpers import assert_stopped_cleanly, cells_by, load_report, run_suites, stop_run

# One worker runs the whole module (-n 2): its runs share one generation's cached volume,
# which two concurrent runs would not (the second would get a volume of its own).
pytestmark = [pytest.mark.engine, pytest.mark.xdist_group("generations")]

GEN_RUNTIMES = ("docker-runc@debian-13,docker-crun@debian-13,podman-runc@debian-13,podman-crun@debian-13,"
                "containerd-runc@debian-13,containerd-crun@debian-13,runc@debian-13,crun@debian-13,"
                "containerd-runc,docker-crun")
ARGS = ("--images", "debian-13", "--profiles", "default,vintage:5.2:ENOSYS",
        "--probes", "pthread_create,lchmod,raw:clone3,raw:fchmodat2")


def _leftovers(session: str) -> tuple[list, list]:
    from fallbackcheck.engines.docker import engine

    client = engine().client
    containers = client.api.containers(all=True, filters={"label": f"fallbackcheck.session={session}"})
    volumes = client.volumes.list(filters={"label": f"fallbackcheck.session={session}"})
    return [c["Names"] for c in containers], [v.name for v in volumes]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Module scope: the same selection twice (the first may provision; the second must not)."""
    runs = []
    for n in (1, 2):
        out = tmp_path_factory.mktemp(f"gen{n}")
        session = f"test-gen{n}-" + uuid.uuid4().hex[:8]
        proc = run_suites("--runtimes", GEN_RUNTIMES, *ARGS, "-n", "2", report_dir=out, timeout=1800,
                          env={"FALLBACKCHECK_SESSION": session})
        runs.append((proc, load_report(out), session))
    return runs


def test_generation_matrix_is_green(two_runs):
    for proc, report, _ in two_runs:
        assert proc.returncode == 0, proc.stdout[-3000:]
        assert set(report["summary"]["verdicts"]) <= {"pass", "expected-break"}, report["summary"]
        runtimes = {c["runtime"] for c in report["cells"]}
        assert runtimes == set(GEN_RUNTIMES.split(",")), runtimes


def test_every_component_version_is_reported(two_runs):
    _, report, _ = two_runs[0]
    gen = report["environment"]["engine_hosts"]["debian-13"]
    assert gen["kind"] == "generation" and gen["suite"] == "trixie"
    for package in ("docker.io", "containerd", "runc", "crun", "podman", "libseccomp2"):
        assert gen["packages"].get(package), (package, gen["packages"])
    assert gen["dockerd"].startswith("Docker version 26.") and gen["runc"].startswith("runc version 1.1.")
    engines = report["environment"]["runtimes"]
    assert engines["docker-crun@debian-13"]["engine"].startswith("docker 26.")
    assert engines["containerd-runc@debian-13"]["engine"].startswith("containerd 1.7")


def test_default_profiles_are_judged_against_what_the_runtime_received(two_runs):
    _, report, _ = two_runs[0]
    defaults = cells_by(report, kind="raw", profile="default")
    assert defaults and all(c["verdict"] == "pass" for c in defaults), [c["detail"] for c in defaults]
    for cell in defaults:
        key = cell["batch"]["received_profile"]
        assert key in report["received_profiles"], key
        delivered = cell["delivered"][cell["syscalls"][0]]
        # equal, or the difference is inside the runtime and named (runc's ENOSYS stub)
        assert cell["received_asks"] == delivered or "runc's ENOSYS stub" in (cell["behaviour"] or ""), cell
    # Docker's and containerd's defaults are not files: only the received profile says what they ask.
    assert report["received_profiles"][cells_by(report, runtime="containerd-runc@debian-13", profile="default",
                                                 kind="raw")[0]["batch"]["received_profile"]]["defaultAction"]


def test_an_engine_changing_the_profile_is_its_own_finding(two_runs):
    _, report, _ = two_runs[0]
    for runtime, info in report["environment"]["runtimes"].items():
        if not runtime.startswith("docker-"):
            continue
        major = int(info["engine"].split()[1].split(".")[0])
        [cell] = cells_by(report, runtime=runtime, profile="vintage:5.2:ENOSYS", probe="raw:clone3")
        changes = cell["batch"].get("profile_changes") or []
        # Docker's profile type learned defaultErrnoRet in 23.0 (moby #42604): measured here.
        assert any(c.startswith("defaultErrnoRet: asked ENOSYS") for c in changes) == (major < 23), (runtime, changes)
        assert cell["verdict"] == "pass", cell["detail"]


def test_second_run_loads_nothing_and_uses_one_container_per_batch(two_runs):
    _, report, _ = two_runs[1]
    gen = report["environment"]["engine_hosts"]["debian-13"]
    assert gen["loaded"] == [] and report["environment"]["loaded_here"] == [], gen
    assert "build_import_s" not in gen["provisioned"], gen["provisioned"]
    summary = report["summary"]
    assert summary["containers"] == summary["batches"] and summary["generation_containers"] == 1, summary


def test_no_container_or_volume_of_the_run_is_left(two_runs):
    for _, _, session in two_runs:
        assert _leftovers(session) == ([], []), session


STOP_ARGS = ("--runtimes", "docker-runc@debian-13,podman-crun@debian-13", *ARGS)


@pytest.mark.parametrize("point, signame", [
    ("provisioning", "SIGINT"), ("provisioning", "SIGTERM"),  # the engine container just started
    ("images", "SIGINT"),  # loading an image into the generation's engines
    ("batch", "SIGTERM"),  # the first batch inside the generation
])
def test_stopping_a_run_at_a_named_moment_removes_its_generation(tmp_path, point, signame, two_runs):
    session = f"test-gen-stop-{point}-" + uuid.uuid4().hex[:8]
    rc, out = stop_run(*STOP_ARGS, session=session, report_dir=tmp_path, signal_at=f"{point}:{signame}")
    assert_stopped_cleanly(rc, out, session, signame)
    assert _leftovers(session) == ([], []), out[-2000:]
    if point == "provisioning":  # nothing measured: no report, and the line says so
        assert not (tmp_path / "matrix.json").exists() and "no report was written" in out, out[-2000:]
    else:
        report = load_report(tmp_path)
        assert report["complete"] is False and report["stopped"]["signal"] == signame, report.get("stopped")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stopping_a_run_at_a_random_moment_removes_its_generation(tmp_path, signum, two_runs):
    """The signal comes from outside, at a moment drawn from the first seconds after the
    generation's container appeared (provisioning, image loads, batches, the end); the seed
    is printed, and FALLBACKCHECK_STOP_SEED replays a failing draw."""
    import random

    seed = int(os.environ.get("FALLBACKCHECK_STOP_SEED") or random.SystemRandom().randrange(10**6))
    delay = random.Random(seed).uniform(0.0, 3.0)
    print(f"stop seed {seed}: {signum.name} {delay:.2f} s after the generation container appeared")
    session = "test-gen-stop-random-" + uuid.uuid4().hex[:8]
    rc, out = stop_run(*STOP_ARGS, session=session, report_dir=tmp_path, signum=signum, delay=delay,
                       wait_for=lambda: bool(_leftovers(session)[0]))
    if rc == 0:  # the run was over before the moment came: it must have ended as a clean run does
        assert "fallbackcheck: stopped by" not in out and "Traceback" not in out, out[-2000:]
        assert _leftovers(session) == ([], []), out[-2000:]
        return
    assert_stopped_cleanly(rc, out, session, signum.name)
    assert _leftovers(session) == ([], []), out[-2000:]


@pytest.fixture(scope="module")
def loopback(two_runs):
    """Module scope: debian-13 with an sshd on 127.0.0.1 (after two_runs: the cache is warm)."""
    from fallbackcheck.hosts import loopback as lb

    session, url, options = lb.up("debian-13")
    yield url, options
    lb.down(session)


def test_engine_host_over_ssh_on_loopback(tmp_path, loopback):
    url, options = loopback
    proc = run_suites("--engine-hosts", f"loop={url}", "--runtimes", "docker-crun@loop,containerd-runc@loop",
                      "--images", "debian-13", "--profiles", "default", "--probes", "pthread_create,raw:clone3",
                      report_dir=tmp_path, env={"FALLBACKCHECK_SSH_OPTIONS": options}, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:]
    report = load_report(tmp_path)
    host = report["environment"]["engine_hosts"]["loop"]
    assert host["kind"] == "ssh" and host["dockerd"].startswith("Docker version 26."), host
    assert {c["runtime"] for c in report["cells"]} == {"docker-crun@loop", "containerd-runc@loop"}
    assert all(c["verdict"] == "pass" and c["batch"].get("received_profile") for c in report["cells"])


def test_a_generation_that_cannot_be_provisioned_says_why(monkeypatch, tmp_path):
    from fallbackcheck.hosts.generation import Generation
    from fallbackcheck.hosts.recipes import EngineRecipe

    monkeypatch.setenv("FALLBACKCHECK_CACHE", str(tmp_path))  # nothing cached: mmdebstrap must run
    host = Generation(EngineRecipe("nosuch", "no-such-suite", ("runc",)), "test-noprov-" + uuid.uuid4().hex[:8])
    reason = host.unavailable_reason()
    # The recipe's suite is on no archive: said before mmdebstrap runs, with the setting to change.
    assert reason and reason.startswith("generation nosuch cannot be provisioned: Debian suite 'no-such-suite' "
                                        "is on neither "), reason
    assert reason.endswith("set FALLBACKCHECK_DEBIAN_ARCHIVE_MIRROR=<an archive that has dists/no-such-suite/InRelease>")
    assert _leftovers(host.session) == ([], [])
