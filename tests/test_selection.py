import pytest

from fallbackcheck.model import catalogue
from fallbackcheck.artefacts import images
from fallbackcheck.errors import UsageError
from fallbackcheck.execution.selection import _select_probes, split_profiles


def test_deny_lists_keep_their_commas():
    assert split_profiles("unconfined,deny:clone3,close_range:EPERM,deny:statx:ENOSYS") == \
        ["unconfined", "deny:clone3,close_range:EPERM", "deny:statx:ENOSYS"]


def test_probe_globs():
    cat = catalogue.load()
    raw = _select_probes(cat, ["raw:*"])
    assert raw and all(p.startswith("raw:") for p in raw)
    with pytest.raises(UsageError, match="unknown probe"):
        _select_probes(cat, ["pthread_create_typo"])


def test_image_ids():
    images.check_id("debian-12")
    images.check_id("registry.example/name:tag")
    with pytest.raises(UsageError, match="unknown image 'debian-99'"):
        images.check_id("debian-99")


def test_recipe_hash_is_content_addressed():
    a = images.TARGETS["debian-12"]
    assert a.hash == images.Recipe(a.id, a.suite, a.arch).hash
    assert a.hash != images.Recipe(a.id, a.suite, a.arch, ("gcc",)).hash


def test_recipes_without_an_overlay_keep_their_hash():
    # Pinned from before the overlay field existed: a cached image whose recipe did not
    # change must not be rebuilt because the recipe grew a field it does not use.
    assert images.TARGETS["debian-12"].hash == "752c7c1e67124934"
    assert images.TARGETS["debian-13-distroless"].hash == "a3864881d8f5d0f0"
    sid = images.TARGETS["debian-sid"]
    assert images.Recipe(sid.id, sid.suite, sid.arch, overlay="experimental").hash != sid.hash


def test_debian_experimental_is_sid_with_experimentals_glibc_only(monkeypatch, tmp_path):
    monkeypatch.setattr(images.archives, "sources_line", lambda suite: f"deb http://mirror/debian {suite} main")
    recipe = images.TARGETS["debian-experimental"]
    images.check_id("debian-experimental")
    assert (recipe.suite, recipe.overlay, recipe.arch, recipe.libc) == ("sid", "experimental", "amd64", "glibc")
    argv = recipe.mmdebstrap_argv(tmp_path / "out.tar")
    # sid is the suite; experimental is only a second source (NotAutomatic in its Release
    # file), from which apt takes just what is named <package>/experimental.
    assert argv[-4:] == ["sid", str(tmp_path / "out.tar"), "deb http://mirror/debian sid main",
                         "deb http://mirror/debian experimental main"]
    assert "--include=libc6/experimental,libc-bin/experimental" in argv
    assert "debian-experimental" not in images.DEFAULT_IMAGES  # opt-in: docs/generations.md


def test_the_check_before_a_run_asks_for_the_overlay_suite_too(monkeypatch, tmp_path):
    monkeypatch.setenv("FALLBACKCHECK_CACHE", str(tmp_path))  # nothing built: every suite is asked for
    asked = []
    monkeypatch.setattr(images.archives, "archive_for", lambda suite: asked.append(suite) or "http://mirror/debian")
    images.check_archives(["debian-experimental"])
    assert {"sid", "experimental"} <= set(asked)


def test_a_generation_reached_only_through_a_wildcard_is_skipped_with_its_reason(monkeypatch):
    from fallbackcheck.execution import selection

    class Runtime:
        def __init__(self, rid):
            self.rid = rid

        def unavailable_reason(self):  # what Podman 6 says on a cgroup v1 host
            return "Cgroups v1 not supported" if self.rid.endswith("@debian-experimental") else None

    monkeypatch.setattr(selection, "get_runtime", Runtime)
    usable, skipped = selection._select_runtimes(["podman-crun@*"])
    assert "podman-crun@debian-13" in usable and "podman-crun@debian-experimental" not in usable
    assert skipped == {"podman-crun@debian-experimental": "Cgroups v1 not supported"}
    # Named by itself, it is still an error before any cell runs.
    with pytest.raises(UsageError, match="runtime podman-crun@debian-experimental: Cgroups v1"):
        selection._select_runtimes(["podman-crun@*", "podman-crun@debian-experimental"])


def test_a_worker_gets_the_controllers_selection_as_resolved_there():
    """xdist workers build their selection from what the controller resolved (sent as plain
    values), never by asking the engines again: the same cells, shard included."""
    import json

    from fallbackcheck.model import catalogue, profiles
    from fallbackcheck.execution.selection import Selection

    cat = catalogue.load()
    resolved = Selection(["debian-12", "debian-13-i386"], ["docker-runc", "crun"],
                         {pid: profiles.parse(pid) for pid in ("unconfined", "deny:clone3:EPERM", "vintage:5.4:ENOSYS")},
                         ["pthread_create", "raw:clone3"], {"podman-crun": "no podman here"}, ["a note"])
    sent = json.loads(json.dumps(resolved.for_workers("2/3")))  # what crosses xdist's channel
    worker = Selection.from_controller(sent)
    resolved.shard = worker.shard
    assert worker.shard is not None
    assert worker.cells(cat) == resolved.cells(cat) and worker.cells(cat)
    assert (worker.skipped_runtimes, worker.notes) == ({"podman-crun": "no podman here"}, ["a note"])
