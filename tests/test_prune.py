"""Pruning keeps what current recipes and probe sources refer to, and nothing else."""

from fallbackcheck.artefacts import images, probebuild
from fallbackcheck.tools import prune


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


def test_prune_keeps_the_kernels_in_use_and_drops_the_rest(tmp_path, monkeypatch):
    import json

    from fallbackcheck.artefacts import kernels
    from fallbackcheck.artefacts.debarchive import Package
    from fallbackcheck.runtimes.kernel import baseline_prefix, helper_dir

    monkeypatch.setenv("FALLBACKCHECK_CACHE", str(tmp_path))
    busybox = tmp_path / "busybox"
    busybox.write_bytes(b"stand-in")  # the preparation's key hashes it: no busybox-static needed here
    monkeypatch.setattr(kernels, "BUSYBOX", busybox)
    directory = tmp_path / "kernels"
    directory.mkdir()
    host = kernels.lookup("linux-6.1")
    package = Package("linux-image-6.1.0-1-amd64", "6.1.1-1", "bookworm", "http://x/k.deb", "ab" * 32, 1)
    resolved = kernels._resolved_path(host)
    resolved.write_text(json.dumps(package.__dict__))
    prepared = kernels._prepared_path(package)
    old_prepared = directory / f"{package.name}-0000000000000000"
    for path in (prepared, old_prepared):
        path.mkdir()
        (path / "kernel.json").write_text("{}")
    baseline = directory / f"{baseline_prefix(prepared.name)}amd64.json"
    stale = [old_prepared, directory / "resolved-linux-6.1-0000000000000000.json",
             directory / f"baseline-{prepared.name}-0000000000000000-amd64.json",
             directory / f"{baseline_prefix(old_prepared.name)}amd64.json", directory / "helper-0000000000000000"]
    helper = helper_dir()
    for path in (baseline, *stale[1:4]):
        path.write_text("{}")
    for path in (helper, stale[4], directory / "fbc-kernel-inprogress"):
        path.mkdir()
    assert sorted(prune.stale_kernel_paths(directory)) == sorted(stale)
    assert prune.main([]) == 0
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        [resolved.name, prepared.name, baseline.name, helper.name, "fbc-kernel-inprogress"])


def test_prune_keeps_the_current_oci_host_root(tmp_path, monkeypatch):
    monkeypatch.setenv("FALLBACKCHECK_CACHE", str(tmp_path))
    recipe = images.OCI_HOSTS["oci-host-debian-12-arm64"]
    (tmp_path / "rootfs").mkdir()
    current = tmp_path / "rootfs" / f"{recipe.id}-{recipe.hash}"
    old = tmp_path / "rootfs" / f"{recipe.id}-0000000000000000"
    current.mkdir()
    old.mkdir()
    assert prune.main([]) == 0
    assert current.exists() and not old.exists()
