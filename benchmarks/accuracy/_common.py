"""What the accuracy harness and the downstream runner share: the corpus, cached downloads
from the package index, safe unpacking, and the sandbox that runs library code."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "siglink-accuracy"


@dataclass(frozen=True)
class Project:
    """One corpus entry: consecutive releases, and the pinned wheels its imports need."""

    name: str
    versions: tuple[str, ...]
    deps: tuple[str, ...] = ()

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return list(zip(self.versions, self.versions[1:], strict=False))


def load_corpus(path: Path = HERE / "corpus.toml") -> list[Project]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [Project(p["name"], tuple(p["versions"]), tuple(p.get("deps", ())))
            for p in data["project"]]


class FetchFailed(RuntimeError):
    """The package index did not provide an artifact."""


def _pip_env() -> dict[str, str]:
    # A machine-wide pip constraint file must not veto an exact pin of an old release.
    return {**os.environ, "PIP_CONSTRAINT": "", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def download(requirement: str, cache: Path, *, kind: str = "wheel") -> Path:
    """One artifact of ``NAME==VERSION`` (a wheel for this interpreter, or the sdist), cached
    in ``cache/kind/name-version/``."""
    name, _, version = requirement.partition("==")
    dest = cache / kind / f"{name.lower()}-{version}"
    suffixes = (".whl",) if kind == "wheel" else (".gz", ".zip")
    found = sorted(p for p in dest.glob("*") if p.suffix in suffixes) if dest.is_dir() else []
    if found:
        return found[0]
    dest.mkdir(parents=True, exist_ok=True)
    binary = ["--only-binary", ":all:"] if kind == "wheel" else ["--no-binary", ":all:"]
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(dest),
           *binary, requirement]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, env=_pip_env())
    found = sorted(p for p in dest.glob("*") if p.suffix in suffixes)
    if result.returncode != 0 or not found:
        errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
        raise FetchFailed(f"pip download {requirement} ({kind}) failed: "
                          f"{'; '.join(errors) or result.stderr.strip()[-300:]}")
    return found[0]


def unpack(wheel: Path, cache: Path) -> Path:
    """The wheel's files unpacked (once) into ``cache/unpacked/STEM-HASH`` (the hash of its
    bytes: a rebuilt wheel of the same name is not confused with the old one); a member whose
    name leaves the directory is refused."""
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()[:12]
    dest = cache / "unpacked" / f"{wheel.stem}-{digest}"
    if (dest / ".complete").is_file():
        return dest
    if dest.exists():
        shutil.rmtree(dest)
    tmp = dest.with_name(dest.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    with zipfile.ZipFile(wheel) as zf:
        for member in zf.namelist():
            parts = Path(member).parts
            if member.startswith("/") or ".." in parts or "\\" in member:
                raise FetchFailed(f"{wheel.name}: refusing member {member!r}")
        zf.extractall(tmp)
    (tmp / ".complete").write_text("")
    tmp.rename(dest)
    return dest


def sandbox_kind() -> str:
    """``bwrap`` when bubblewrap can start a sandbox here, else ``unshare``."""
    if shutil.which("bwrap"):
        probe = subprocess.run(["bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/",
                                "/", "true"], capture_output=True, check=False)
        if probe.returncode == 0:
            return "bwrap"
    return "unshare"


def sandboxed(argv: Sequence[str], readable: Sequence[Path], kind: str,
              writable: Sequence[Path] = ()) -> list[str]:
    """``argv`` run in a sandbox: no network but loopback, no IPC or PID sharing, a read-only
    root with the home and work trees hidden, a private ``/tmp``, ``readable`` bound back
    read-only and ``writable`` read-write."""
    if kind == "unshare":
        return ["unshare", "-rn", *argv]
    cmd = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session",
           "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for hidden in ("/root", "/home", "/work"):
        if os.path.isdir(hidden):
            cmd += ["--tmpfs", hidden]
    for path in readable:
        cmd += ["--ro-bind", str(path), str(path)]
    for path in writable:
        cmd += ["--bind", str(path), str(path)]
    return [*cmd, *argv]


def base_python() -> str:
    """The interpreter under the virtual environment (the child needs no site-packages)."""
    return os.path.realpath(getattr(sys, "_base_executable", sys.executable))
