"""Stopping a run (fallbackcheck/stopping.py): what the signal handler, the shield and the
checkpoints do in-process, then runs on the host's engines stopped at a named moment
(FALLBACKCHECK_SIGNAL_AT) by SIGINT and SIGTERM: one line, exit status 2, the report
marked incomplete with the signal named, nothing of the run left. The stops of a run that
uses an engine generation (provisioning, image loads) are in test_generations.py."""

import os
import signal
import threading
import uuid

import pytest

from helpers import assert_stopped_cleanly, load_report, stop_run


@pytest.fixture
def stopping(monkeypatch):
    from fallbackcheck import stopping

    saved = {sig: signal.getsignal(sig) for sig in stopping.SIGNALS}
    monkeypatch.setitem(stopping._state, "installed", False)
    stopping.reset()
    stopping.install()
    yield stopping
    stopping.reset()
    for sig, handler in saved.items():
        signal.signal(sig, handler)
    stopping._state["installed"] = False


def test_first_signal_raises_once_and_is_named(stopping):
    stopping.phase("the batches")
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGTERM)
    assert stopping.requested.is_set() and stopping.stopped_by() == "SIGTERM"
    assert stopping.stopped_in() == "the batches"
    stopping.phase("the clean-up")
    os.kill(os.getpid(), signal.SIGINT)  # a second signal: no exception, the first one is kept
    assert stopping.stopped_by() == "SIGTERM" and stopping.stopped_in() == "the batches"
    assert stopping.line("nothing left") == "fallbackcheck: stopped by SIGTERM during the batches; nothing left"


def test_a_signal_inside_the_shield_only_sets_requested(stopping):
    done = []
    with stopping.shielded():
        os.kill(os.getpid(), signal.SIGINT)
        done.append("the removal after the signal ran")
    assert done and stopping.requested.is_set() and stopping.stopped_by() == "SIGINT"


def test_raise_after_stops_once_the_short_step_is_done(stopping):
    steps = []
    with pytest.raises(KeyboardInterrupt):
        with stopping.shielded(raise_after=True):
            os.kill(os.getpid(), signal.SIGHUP)
            steps.append("the container id was kept")
    assert steps == ["the container id was kept"] and stopping.stopped_by() == "SIGHUP"


def test_raise_after_without_a_signal_raises_nothing(stopping):
    with stopping.shielded(raise_after=True):
        pass
    assert not stopping.requested.is_set() and stopping.stopped_by() is None


def test_checkpoint_signals_once_at_its_name_only(stopping, monkeypatch):
    monkeypatch.setenv(stopping.SIGNAL_AT_ENV, "fixes:SIGTERM")
    stopping.checkpoint("batch")
    assert not stopping.requested.is_set()
    with pytest.raises(KeyboardInterrupt):
        stopping.checkpoint("fixes")
    assert stopping.stopped_by() == "SIGTERM"
    stopping.checkpoint("fixes")  # once: no second signal


def test_a_checkpoint_in_another_thread_stops_the_main_thread(stopping, monkeypatch):
    monkeypatch.setenv(stopping.SIGNAL_AT_ENV, "batch:SIGINT")
    with pytest.raises(KeyboardInterrupt):
        worker = threading.Thread(target=stopping.checkpoint, args=("batch",))
        worker.start()
        worker.join()
        threading.Event().wait(1)  # the handler runs in the main thread, at its next bytecode
    assert stopping.stopped_by() == "SIGINT"


def test_a_signal_between_the_cell_loop_and_the_report_is_held(stopping):
    """From the loop's end to the report pytest runs code of its own, where a raised signal
    meets nothing that catches it: there it only asks the report to say the run was stopped."""
    stopping.hold()
    stopping.hold()  # once is enough
    os.kill(os.getpid(), signal.SIGTERM)  # no exception
    assert stopping.requested.is_set() and stopping.stopped_by() == "SIGTERM"
    stopping.release()
    stopping.release()
    assert stopping._state["shield"] == 0 and stopping._state["held"] is False


def test_a_checkpoint_reached_by_many_threads_at_once_signals_once(stopping, monkeypatch):
    """Fix reruns start on several pool threads at once and each passes checkpoint("fixes"):
    exactly one signal must go out, or the second lands outside the clean-up (seen in CI under
    load: a traceback from pytest's wrap_session). The spec is read slowly here, so that every
    thread is past the `signalled` test before any sets it, as a loaded machine lets happen."""
    import time

    class SlowSpec(str):
        def partition(self, sep):
            time.sleep(0.05)
            return str.partition(self, sep)

    sent = []
    monkeypatch.setattr(stopping.os, "environ", {stopping.SIGNAL_AT_ENV: SlowSpec("fixes:SIGTERM")})
    monkeypatch.setattr(stopping.os, "kill", lambda pid, sig: sent.append(sig))
    threads = [threading.Thread(target=stopping.checkpoint, args=("fixes",)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sent == [signal.SIGTERM]


def test_the_report_writer_holds_signals_from_the_end_of_the_cell_loop(stopping):
    """The wiring of hold(): the controller's wrapper of pytest_runtestloop holds once the loop
    has returned, and the report's end releases (ReportWriter.pytest_sessionfinish)."""
    from fallbackcheck.pytest_plugin.plugin import ReportWriter

    wrapper = ReportWriter(run=None).pytest_runtestloop(session=None)
    next(wrapper)  # the loop runs here
    assert stopping._state["held"] is False
    with pytest.raises(StopIteration) as done:
        wrapper.send(True)
    assert done.value.value is True and stopping._state["held"] is True
    os.kill(os.getpid(), signal.SIGTERM)  # held: no exception
    assert stopping.requested.is_set()
    stopping.release()


def test_every_checkpoint_is_reached_by_the_code():
    """A checkpoint nobody calls would make its stop test signal nothing: each name in
    CHECKPOINTS is called somewhere in the package."""
    from pathlib import Path

    from fallbackcheck import stopping

    source = "\n".join(p.read_text() for p in Path(stopping.__file__).parent.rglob("*.py"))
    for name in stopping.CHECKPOINTS:
        assert f'checkpoint("{name}")' in source, name


# A selection with fix reruns (deny:clone3:EPERM breaks pthread_create, whose fixes are rerun)
# on two engines at once: a stop must remove the containers of both.
HOST_ARGS = ("--runtimes", "docker-crun,podman-crun", "--images", "debian-13",
             "--profiles", "deny:clone3:EPERM,unconfined", "--probes", "pthread_create,raw:clone3")


@pytest.mark.engine
@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("point", ["batch", "fixes", "report"])
def test_a_run_stopped_at_a_named_moment_stops_cleanly(tmp_path, point, signame):
    session = f"test-stop-{point}-" + uuid.uuid4().hex[:8]
    rc, out = stop_run(*HOST_ARGS, session=session, report_dir=tmp_path, signal_at=f"{point}:{signame}")
    assert_stopped_cleanly(rc, out, session, signame)
    report = load_report(tmp_path)
    assert report["complete"] is False, report.get("stopped")
    assert report["stopped"]["signal"] == signame, report["stopped"]
    assert report["stopped"]["during"], report["stopped"]


@pytest.mark.engine
def test_a_run_stopped_from_outside_during_its_batches_stops_cleanly(tmp_path):
    """SIGINT to the whole process group, as a terminal's Ctrl-C: the engines' own
    subprocesses get it too, and the run still removes everything and says so once."""
    from fallbackcheck.hosts.cleanup import leftovers

    session = "test-stop-group-" + uuid.uuid4().hex[:8]
    rc, out = stop_run(*HOST_ARGS, session=session, report_dir=tmp_path, signum=signal.SIGINT,
                       wait_for=lambda: any(item.startswith(("container", "podman")) for item in leftovers(session)))
    if rc == 0:
        pytest.fail(f"the run ended before the signal; choose a longer selection\n{out[-2000:]}")
    assert_stopped_cleanly(rc, out, session, "SIGINT")
