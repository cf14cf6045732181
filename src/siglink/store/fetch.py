"""Turn an install spec into a wheel file, with pip doing the fetching and the building.

- a requirement (``NAME==VERSION``) is downloaded with ``pip download --no-deps`` from the
  configured package index (``--index-url`` passes through, so any PyPI-compatible index can
  serve a fleet), wheels preferred; an sdist-only release is built into a wheel;
- a project directory or an sdist file is built with ``pip wheel --no-deps``.

Nothing here touches the store: results land in a temporary directory the caller owns.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Final

from packaging.requirements import InvalidRequirement, Requirement

from siglink.errors import BadInputError, FetchError, SiglinkError

__all__ = ["build_wheel", "fetch", "is_sdist", "parse_requirement", "to_wheel"]

_SDIST_SUFFIXES: Final = (".tar.gz", ".tgz", ".zip", ".tar.bz2", ".tar.xz", ".tar")


def is_sdist(path: Path) -> bool:
    """A source archive by its name (``.tar.gz``, ``.zip``, ...)."""
    return path.name.endswith(_SDIST_SUFFIXES)


def parse_requirement(spec: str) -> Requirement:
    """``NAME==VERSION`` (any PEP 508 requirement); :class:`BadInputError` if it does not parse."""
    try:
        return Requirement(spec)
    except InvalidRequirement as e:
        raise BadInputError(
            f"{spec}: neither an existing file or directory nor a requirement ({e})"
        ) from e


def _pip(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONWARNINGS="ignore")
    return subprocess.run(
        [sys.executable, "-m", "pip", *args],
        capture_output=True, text=True, check=False, env=env, stdin=subprocess.DEVNULL,
    )


def _pip_reason(result: subprocess.CompletedProcess[str]) -> str:
    lines = [ln.strip() for ln in (result.stderr + result.stdout).splitlines() if ln.strip()]
    errors = [ln.removeprefix("ERROR:").strip() for ln in lines if ln.startswith("ERROR:")]
    chosen = errors[-1] if errors else (lines[-1] if lines else f"pip exited {result.returncode}")
    return chosen


def _artifacts(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith(".whl") or is_sdist(p))


def build_wheel(
    source: Path,
    dest: Path,
    *,
    index_url: str | None = None,
    error: type[SiglinkError] = BadInputError,
) -> Path:
    """Build one wheel from a project directory or an sdist into ``dest`` (must exist)."""
    args = ["wheel", "--no-deps", "--quiet", "--wheel-dir", str(dest)]
    if index_url:
        args += ["--index-url", index_url]
    result = _pip([*args, str(source.absolute())])  # "srcproj" alone would be a name to pip
    wheels = [p for p in dest.iterdir() if p.suffix == ".whl"]
    if result.returncode != 0 or len(wheels) != 1:
        raise error(f"{source}: cannot build a wheel: {_pip_reason(result)}")
    return wheels[0]


def fetch(requirement: str, dest: Path, *, index_url: str | None = None) -> Path:
    """Download ``requirement`` into ``dest`` and return a wheel (built from an sdist if needed).

    :raises FetchError: the index has no such release, or its sdist does not build.
    """
    parse_requirement(requirement)
    download = dest / "download"
    download.mkdir(parents=True, exist_ok=True)
    args = ["download", "--no-deps", "--prefer-binary", "--quiet", "--dest", str(download)]
    if index_url:
        args += ["--index-url", index_url]
    result = _pip([*args, requirement])
    found = _artifacts(download)
    if result.returncode != 0 or not found:
        raise FetchError(
            f"{requirement}: cannot be fetched from the package index: {_pip_reason(result)}"
        )
    artifact = found[0]
    if artifact.suffix == ".whl":
        return artifact
    built = dest / "built"
    built.mkdir(exist_ok=True)
    return build_wheel(artifact, built, index_url=index_url, error=FetchError)


def to_wheel(spec: str, tmp: Path, *, index_url: str | None = None) -> Path:
    """The wheel for one install spec: a wheel file as is; an sdist or a project directory
    built; anything else is a requirement fetched from the index. ``tmp`` is created."""
    tmp.mkdir(parents=True, exist_ok=True)
    path = Path(spec)
    if path.is_dir():
        return build_wheel(path, tmp, index_url=index_url)
    if path.is_file():
        if path.name.endswith(".whl"):
            return path
        if is_sdist(path):
            return build_wheel(path, tmp, index_url=index_url)
        raise BadInputError(f"{spec}: not a wheel, an sdist or a project directory", path=spec)
    if spec.endswith((".whl", *_SDIST_SUFFIXES)) or "/" in spec.split("@", 1)[0]:
        raise BadInputError(f"{spec}: no such file or directory", path=spec)
    return fetch(spec, tmp, index_url=index_url)
