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


def test_a_staged_build_becomes_the_output_or_leaves_nothing(tmp_path):
    """probebuild.staged, where every probe build (container, host, cross, share) is made:
    a build that raises, Ctrl-C included, leaves no directory in the cache."""
    import pytest

    from fallbackcheck.artefacts.probebuild import staged

    out = tmp_path / "probes" / "key" / "amd64"
    with pytest.raises(KeyboardInterrupt):
        with staged(out, ".amd64-") as tmp:
            (tmp / "runner").write_text("half")
            raise KeyboardInterrupt
    assert list((tmp_path / "probes" / "key").iterdir()) == []
    with staged(out, ".amd64-") as tmp:
        (tmp / "runner").write_text("built")
        assert tmp.parent == out.parent and (tmp.stat().st_mode & 0o777) == 0o755
    assert (out / "runner").read_text() == "built" and (out / ".complete").exists()
    assert [p.name for p in out.parent.iterdir()] == ["amd64"]
