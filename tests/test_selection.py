import pytest

from fallbackcheck import catalogue, images
from fallbackcheck.errors import UsageError
from fallbackcheck.selection import _select_probes, split_profiles


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
