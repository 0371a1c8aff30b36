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


def test_prune_keeps_current_generations_and_drops_old_ones(tmp_path, monkeypatch):
    from fallbackcheck.hosts.recipes import GENERATIONS

    monkeypatch.setenv("FALLBACKCHECK_CACHE", str(tmp_path))
    (tmp_path / "images").mkdir()
    current = [tmp_path / "images" / f"{r.id}-{r.hash}.tar" for r in GENERATIONS.values()]
    old = tmp_path / "images" / "engine-debian-13-0000000000000000.tar"
    for path in (*current, old):
        path.write_text("x")
    assert prune.main([]) == 0
    assert all(p.exists() for p in current) and not old.exists()


class _Volumes:
    def __init__(self, volumes):
        self._volumes = volumes

    def list(self, filters):
        return self._volumes


class _Volume:
    def __init__(self, name, labels):
        self.name, self.attrs = name, {"Labels": labels}


class _Client:
    def __init__(self, volumes, used=()):
        self.volumes = _Volumes(volumes)
        self.api = self
        self._used = used

    def containers(self, all, filters):
        return [{"Id": "x"}] if filters["volume"] in self._used else []


def test_stale_generation_volumes():
    from fallbackcheck.hosts.generation import cached_volume
    from fallbackcheck.hosts.recipes import GENERATIONS

    live = cached_volume(GENERATIONS["debian-13"])
    client = _Client([_Volume(live, {}), _Volume("fallbackcheck-gen-debian-13-0000000000000000", {}),
                      _Volume("fallbackcheck-gen-debian-sid-1111111111111111", {})],
                     used={"fallbackcheck-gen-debian-sid-1111111111111111"})
    assert prune.stale_generation_volumes(client) == ["fallbackcheck-gen-debian-13-0000000000000000"]
