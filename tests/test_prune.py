"""Pruning keeps what current recipes and probe sources refer to, and nothing else."""

from fallbackcheck import images, prune, probebuild


def test_prune_removes_only_stale_entries(tmp_path, monkeypatch):
    monkeypatch.setenv("FALLBACKCHECK_CACHE", str(tmp_path))
    recipe = images.TARGETS["debian-12"]
    (tmp_path / "images").mkdir()
    current = tmp_path / "images" / f"{recipe.id}-{recipe.hash}.tar"
    old = tmp_path / "images" / f"{recipe.id}-0000000000000000.tar"
    current.write_text("x")
    old.write_text("x")
    (tmp_path / "probes" / probebuild.container_build_key(images.BUILDERS)).mkdir(parents=True)
    (tmp_path / "probes" / "ffffffffffffffff").mkdir()
    assert prune.main(["--dry-run"]) == 0
    assert old.exists()
    assert prune.main([]) == 0
    assert current.exists() and not old.exists()
    assert [p.name for p in (tmp_path / "probes").iterdir()] == [probebuild.container_build_key(images.BUILDERS)]
