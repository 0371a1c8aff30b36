"""`flatpak`: real `flatpak run` (Debian 12's flatpak 1.14.10) of a local runtime made from the
image's root file system, offline, as root.

The runtime: the image root's /usr (with its /etc as usr/etc, which flatpak mounts at /etc)
exported with `flatpak build-export --runtime` into a scratch repository and installed from
it (`remote-add --no-gpg-verify file://...`, `install`) into an installation of its own under
the cache directory, once per image content (flatpak/<image>-<digest>): a second run starts at
once. Every flatpak command runs with HOME, XDG_DATA_HOME, XDG_CONFIG_HOME, XDG_CACHE_HOME and
XDG_RUNTIME_DIR in a scratch directory of its own, FLATPAK_USER_DIR naming that installation and
FLATPAK_SYSTEM_DIR an empty scratch path (flatpak-dir.c reads both): nothing lands in root's
home or in /var/lib/flatpak.

A batch is one `flatpak run --die-with-parent --filesystem=PROBES:ro --command=RUNNER REF
PROBE...`: the runner with every probe of the batch, from the probe build seen at its own path
(flatpak binds a host directory at the same path only). Flatpak execs bubblewrap, and the
runtime's `--die-with-parent` takes the sandbox down with it when we kill the batch's group; a
shell stays as the group's leader so that the batch's name stays on its command line
(sandbox.cleanup finds it there).

Profiles: `default` = flatpak's filter as `flatpak run` applies it, known from flatpak's
source (model/flatpak_filter.py) and proved byte-identical to the program flatpak hands
bubblewrap (tests/test_flatpak.py); `flatpak:run` is the same run, `flatpak:devel` is
`flatpak run --devel`. Flatpak has no run without its filter (setup_seccomp() is called for
every run) and no option that adds rules: `unconfined` and our other families are left out,
with that reason.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

from ..artefacts import images
from ..cache import cache_dir, locked, progress
from ..errors import UsageError
from ..model import flatpak_filter
from .base import BatchOutput, BatchPlan
from .local import host_runner_argv
from .sandbox import MARK, PATH, Sandbox, batch_name, run_group

REF_NAME = "org.fallbackcheck.Image"  # one runtime per installation: the name need not vary
BRANCH = "fbc"
RECIPE_VERSION = "1"  # bump when the way the runtime is made changes: a new cache entry
BUILD_TIMEOUT_S = 900
UNFILTERED = ("flatpak has no run without its filter: flatpak-run.c (1.14.10) calls setup_seccomp() for every "
              "`flatpak run`, and --devel only leaves out perf_event_open, personality and ptrace (profile flatpak:devel)")
NO_RULES_OF_OURS = ("flatpak takes no filter of ours: its own is compiled into it (setup_seccomp(), flatpak-run.c) "
                    "and `flatpak run` has no option that adds rules; give the profile to bwrap, which flatpak runs")


def scratch_env(scratch: Path, installation: Path) -> dict:
    """flatpak's environment: every directory it writes to inside `scratch`, but the
    installation (FLATPAK_USER_DIR)."""
    home = scratch / "home"
    runtime_dir = scratch / "run"
    for d in (home, runtime_dir):
        d.mkdir(exist_ok=True)
    runtime_dir.chmod(0o700)  # flatpak refuses an XDG_RUNTIME_DIR others can enter
    return {"PATH": PATH, "HOME": str(home), "XDG_DATA_HOME": str(home / "data"),
            "XDG_CONFIG_HOME": str(home / "config"), "XDG_CACHE_HOME": str(home / "cache"),
            "XDG_RUNTIME_DIR": str(runtime_dir), "FLATPAK_USER_DIR": str(installation),
            "FLATPAK_SYSTEM_DIR": str(scratch / "system"), "LC_ALL": "C"}


def _flatpak(argv: list[str], env: dict, cwd: Path, what: str) -> None:
    proc = subprocess.run(["flatpak", *argv], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=BUILD_TIMEOUT_S, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RuntimeError(f"making the flatpak runtime: {what} failed (exit {proc.returncode}): "
                           f"{(proc.stderr or proc.stdout).strip()[-400:]}")


def installation(recipe) -> Path:
    """The flatpak installation holding the image's root as runtime REF_NAME//BRANCH, made once
    per image content."""
    out = cache_dir() / "flatpak" / f"{recipe.id}-{images.tar_digest(recipe)[:16]}-r{RECIPE_VERSION}"
    if (out / ".complete").exists():
        return out
    root = images.rootfs(recipe)
    with locked(f"flatpak-{out.name}"):
        if (out / ".complete").exists():
            return out
        shutil.rmtree(out, ignore_errors=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        progress(f"making the flatpak runtime of {recipe.id} (once per image content)")
        # in the cache directory: the copy of /usr can then share the root's blocks (reflink)
        with tempfile.TemporaryDirectory(prefix="fbc-flatpak-build-", dir=out.parent) as tmp:
            work = Path(tmp)
            build = work / "build"
            (build / "files").mkdir(parents=True)
            subprocess.run(["cp", "-a", "--reflink=auto", str(root / "usr"), str(build / "usr")], check=True,
                           timeout=BUILD_TIMEOUT_S)
            subprocess.run(["cp", "-a", "--reflink=auto", str(root / "etc"), str(build / "usr" / "etc")],
                           check=True, timeout=BUILD_TIMEOUT_S)
            ref = f"{REF_NAME}/x86_64/{BRANCH}"
            (build / "metadata").write_text(f"[Runtime]\nname={REF_NAME}\nruntime={ref}\nsdk={ref}\n")
            env = scratch_env(work, out)
            repo = work / "repo"
            _flatpak(["build-export", "--runtime", "--disable-sandbox", str(repo), str(build), BRANCH], env, work,
                     "flatpak build-export")
            _flatpak(["build-update-repo", str(repo)], env, work, "flatpak build-update-repo")
            _flatpak(["--user", "remote-add", "--no-gpg-verify", "fbc-local", f"file://{repo}"], env, work,
                     "flatpak remote-add")
            _flatpak(["--user", "install", "-y", "--noninteractive", "fbc-local", f"runtime/{ref}"], env, work,
                     "flatpak install")
            # The repository goes with the scratch directory: the remote is never asked again.
        (out / ".complete").write_text("ok\n")
    return out


class FlatpakRuntime(Sandbox):
    kind = "flatpak"
    program = "flatpak"
    package = "flatpak"
    start_s = 0.4  # measured: ~350 ms a `flatpak run`

    def unsupported_profile(self, profile) -> str | None:
        if profile.kind == "default":
            return None
        if profile.kind == "flatpak":
            return None  # flatpak:run is `flatpak run`, flatpak:devel `flatpak run --devel`
        if profile.kind == "unconfined":
            return UNFILTERED
        if profile.kind == "own":
            return super().unsupported_profile(profile)
        return NO_RULES_OF_OURS

    def seccomp_in_force(self, profile) -> dict | None:
        if profile.kind == "flatpak":
            return profile.oci
        if profile.kind == "unconfined":
            return None  # only libc identification asks it, and runs under flatpak's filter
        return self.default_seccomp()

    def default_seccomp(self) -> dict | None:
        return flatpak_filter.seccomp_json("run")

    def versions(self) -> dict:
        said = subprocess.run(["flatpak", "--version"], capture_output=True, text=True,
                              env={"PATH": PATH}, timeout=30).stdout.strip()
        return {**super().versions(), "oci_runtime_version": said or None,
                "default_profile": f"flatpak's own ({flatpak_filter.SOURCE}): reproduced as profile flatpak:run, "
                                   "proved byte-identical by tests/test_flatpak.py"}

    def prepare_image(self, image_id: str) -> tuple[str, str]:
        recipe = images.lookup(image_id)
        if recipe is None:
            raise UsageError(f"runtime flatpak runs only fallbackcheck's own images (got {image_id!r})")
        if recipe.arch != "amd64":
            raise UsageError(f"runtime flatpak: image {image_id} is {recipe.arch}; the flatpak runtime is made for "
                             "x86_64 only (use an amd64 image)")
        return str(installation(recipe)), recipe.arch

    def run_batch(self, plan: BatchPlan) -> BatchOutput:
        name = batch_name(plan.session)
        received = self.seccomp_in_force(plan.profile)
        with tempfile.TemporaryDirectory(prefix="fbc-flatpak-") as tmp:
            return run_group(flatpak_argv(plan, name), plan.overall_timeout_s, name, cwd=tmp,
                             env=scratch_env(Path(tmp), Path(plan.image_ref)), received=received)


def flatpak_argv(plan: BatchPlan, name: str) -> list[str]:
    """The batch's command: `flatpak run` of the runtime with the runner over the batch's
    probes, seen at the probe build's own path."""
    probes = Path(plan.probe_dir)
    runner, *args = host_runner_argv(replace(plan, probe_dir=probes))
    devel = ["--devel"] if plan.profile.id == "flatpak:devel" else []
    argv = ["flatpak", "run", "--die-with-parent", *devel, f"--filesystem={probes}:ro",
            f"--env={MARK}={name}", "--env=LC_ALL=C", f"--command={runner}", f"{REF_NAME}//{BRANCH}", *args]
    # sh stays the group's leader (flatpak execs bubblewrap, whose command line is only
    # `--args FD`): the batch's name stays readable in /proc for the end-of-run sweep.
    return ["sh", "-c", '"$@"; exit $?', f"{MARK}={name}", *argv]
