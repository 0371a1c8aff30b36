"""Build progress lines reach the terminal even when they are written while a cell runs.

pytest's fd capture points file descriptor 2 at its own buffer during each test, and a
passing test's buffer is thrown away: a cold run's "building image ..." lines, written by
batch threads while cells wait, used to vanish that way.
"""

import subprocess
import sys

from helpers import ROOT

INNER = '''
import threading
from fallbackcheck.cache import progress

def test_cell_waiting_for_a_build():
    worker = threading.Thread(target=progress, args=("building image demo ...",))
    worker.start()
    worker.join()
    progress("built image demo in 0.1 s")
'''


def test_progress_written_during_a_test_is_not_swallowed_by_capture(tmp_path):
    (tmp_path / "test_inner.py").write_text(INNER)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "fallbackcheck.pytest_plugin.plugin", "-p", "no:randomly",
                           "-p", "no:cacheprovider", str(tmp_path / "test_inner.py")],
                          cwd=tmp_path, capture_output=True, text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert "1 passed" in proc.stdout, proc.stdout + proc.stderr
    both = proc.stdout + proc.stderr
    assert "fallbackcheck: building image demo ..." in both
    assert "fallbackcheck: built image demo in 0.1 s" in both
