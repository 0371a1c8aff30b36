"""A host gets each architecture's part of the probe build on its own: the build directory
is shared by every architecture and grows as runs need them, so placing it whole once (while
it held amd64 only) left i386 batches on a generation without probes (execve ENOENT)."""

from pathlib import Path

from fallbackcheck.runtimes import base


class RecordingHost:
    def __init__(self):
        self.placed = []

    def place(self, local: Path) -> str:
        self.placed.append(local.name)
        return f"/var/lib/fbc/cache/probes/{local.parent.name}/{local.name}"


def test_each_architecture_part_is_placed(monkeypatch, tmp_path):
    monkeypatch.setattr(base, "local_probe_dir", lambda probe_set: tmp_path / "probes" / "k123")
    host = RecordingHost()
    assert base.placed_probe_dir(host, "i386") == "/var/lib/fbc/cache/probes/k123"
    assert host.placed == ["amd64", "i386"]
    host = RecordingHost()
    base.placed_probe_dir(host, "amd64")
    assert host.placed == ["amd64"]
