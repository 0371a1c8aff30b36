"""docker-default:<suite>: Docker's default profile taken from the Debian package that ships
Docker's source, without the network (a package built here stands in for the archive's)."""

import json
import subprocess

import pytest

from fallbackcheck.artefacts import debarchive, engine_profiles
from fallbackcheck.errors import UsageError
from fallbackcheck.model import profiles

SHAPED = {"defaultAction": "SCMP_ACT_ERRNO", "archMap": [
    {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
    "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
                 {"names": ["set_tls"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["arm", "arm64"]}}]}


@pytest.fixture
def archive(tmp_path, monkeypatch):
    """A golang-github-docker-docker-dev .deb holding SHAPED where Debian's has default.json;
    counts the downloads."""
    monkeypatch.setenv("FALLBACKCHECK_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "pkg"
    target = root / engine_profiles.DOCKER_DEFAULT
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(SHAPED))
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN" / "control").write_text(f"Package: {engine_profiles.DOCKER_SOURCE}\nVersion: 20.10.24+dfsg1-1\n"
                                             "Architecture: all\nMaintainer: t <t@t>\nDescription: t\n")
    deb = tmp_path / "source.deb"
    subprocess.run(["dpkg-deb", "-b", "--root-owner-group", str(root), str(deb)], check=True, capture_output=True)
    downloads = []

    def newest_cached(suites, pattern, arch, offline=False):
        if suites != ("bookworm",):
            return None
        return debarchive.Package(engine_profiles.DOCKER_SOURCE, "20.10.24+dfsg1-1", "bookworm", "http://x/y.deb",
                                  "0" * 64, deb.stat().st_size)

    def download(package, dest):
        downloads.append(package.version)
        dest.write_bytes(deb.read_bytes())
        return dest

    monkeypatch.setattr(debarchive, "newest_cached", newest_cached)
    monkeypatch.setattr(debarchive, "download", download)
    return downloads


def test_docker_default_is_the_packaged_profile_with_its_provenance_and_cached(archive):
    profile = profiles.parse("docker-default:bookworm", engine_profiles.FETCHED)
    assert (profile.kind, profile.oci) == ("file", SHAPED)
    assert profile.source == (f"{engine_profiles.DOCKER_SOURCE} 20.10.24+dfsg1-1 (bookworm): "
                              "profiles/seccomp/default.json")
    assert profile.path.name == "docker-default-20.10.24+dfsg1-1.json" and json.loads(profile.path.read_text()) == SHAPED
    assert profiles.parse("docker-default:bookworm", engine_profiles.FETCHED).oci == SHAPED
    assert archive == ["20.10.24+dfsg1-1"]  # fetched once, then read from the cache
    assert profiles.facts("docker-default:bookworm") == {"family": "docker-default", "suite": "bookworm"}
    # Judging reads it as Docker on the cell's machine resolves it: the arm rule for armhf only.
    assert profiles.asks_of(profile.oci, "set_tls", "armhf") == "allowed"
    assert profiles.asks_of(profile.oci, "write", "amd64") == "allowed"


def test_a_suite_without_dockers_source_or_a_bad_name_is_one_line(archive):
    with pytest.raises(UsageError, match="Debian sid has no golang-github-docker-docker-dev") as err:
        profiles.parse("docker-default:sid", engine_profiles.FETCHED)
    assert "\n" not in str(err.value)
    with pytest.raises(UsageError, match="give a Debian suite"):
        profiles.parse("docker-default:../x", engine_profiles.FETCHED)
    with pytest.raises(UsageError, match="docker-default:<Debian suite>"):
        profiles.parse("docker-default:bookworm")  # no fetchers handed in: the model fetches nothing
