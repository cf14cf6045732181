"""Turn an install spec into a wheel file, with pip doing the fetching and the building.

- a requirement (``NAME==VERSION``) is downloaded with ``pip download --no-deps`` from the
  configured package index (``--index-url`` passes through, so any PyPI-compatible index can
  serve a fleet), wheels preferred; an sdist-only release is built into a wheel;
- a project directory or an sdist file is built with ``pip wheel --no-deps`` inside the
  sandbox of :mod:`siglink._sandbox` (:func:`build_wheel`): a build backend is the project's
  own code. The sandbox has no network: pip builds with ``--no-index`` from a wheelhouse that
  siglink fills, outside, with ``pip download --only-binary=:all:`` of each build requirement
  pip reports missing (downloading a wheel runs nothing), one round per requirement;
- a dependency closure is resolved by pip's own resolver (:func:`resolve`: ``pip install
  --dry-run --ignore-installed --report``, so ``-r``/``-c`` files, extras, markers and the
  configured index are read exactly as pip reads them) and its artifacts fetched with
  ``pip download --no-deps`` of the exact URLs the report names, hashes checked
  (:func:`download`).

A failed build is reported by its cause: the compiler's or build backend's error lines, not
pip's last line (:func:`pip_reason`). Nothing here touches the store: results land in a
temporary directory the caller owns.

>>> failed = subprocess.CompletedProcess([], 1, "", "ERROR: No matching distribution for x\\n")
>>> pip_reason(failed)
'No matching distribution for x'
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from siglink._sandbox import Limits, SandboxUnavailableError, bwrap
from siglink._sandbox import run as sandbox_run
from siglink.errors import BadInputError, FetchError, SiglinkError

__all__ = [
    "BUILD_LIMITS",
    "UNSANDBOXED",
    "Resolved",
    "build_wheel",
    "download",
    "fetch",
    "is_sdist",
    "parse_requirement",
    "pip_reason",
    "resolve",
    "to_wheel",
    "yanked_on_index",
]


def __dir__() -> list[str]:
    return list(__all__)

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


_OUTPUT_START: Final = re.compile(r"\[\d+ lines? of output\]\s*$")
_ERROR_LINE: Final = re.compile(r"(^|[\s:])(error|Error|ERROR)\b|^\w*(Error|Exception)\b")
_CONNECTION: Final = re.compile(
    r"Failed to establish a new connection: (?:\[Errno -?\d+\] )?([^'\")]+)"
    r"|(Name or service not known|Temporary failure in name resolution|timed out"
    r"|SSLError\([^)]*\)|ProxyError)")


def _build_cause(text: str) -> str | None:
    """The cause of a failed build in pip's output: the error lines of the build backend's own
    output (``[17 lines of output]`` ... ``[end of output]``), at most three, else its last
    line; None when no build output is there."""
    blocks: list[list[str]] = []
    current: list[str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if current is None:
            if _OUTPUT_START.search(line):
                current = []
            continue
        if line == "[end of output]":
            blocks.append(current)
            current = None
        elif line:
            current.append(line)
    if current:
        blocks.append(current)
    for block in blocks:
        errors = [ln for ln in block if _ERROR_LINE.search(ln)
                  and not ln.startswith("error: Command '[") and "exit status" not in ln]
        if errors:
            unique = list(dict.fromkeys(errors))
            return "; ".join(unique[:3]) + (f" (and {len(unique) - 3} more)"
                                             if len(unique) > 3 else "")
        if block:
            return block[-1]
    return None


def pip_reason(result: subprocess.CompletedProcess[str]) -> str:
    """The one line that says why pip failed: a build's cause (:func:`_build_cause`), an
    unreachable index, a dependency conflict's causes, else pip's last ``ERROR:`` line."""
    text = result.stderr + "\n" + result.stdout
    cause = _build_cause(text)
    if cause is not None:
        return cause
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    errors = [ln.removeprefix("ERROR:").strip() for ln in lines if ln.startswith("ERROR:")]
    if any("from versions: none" in e for e in errors):
        found = next((m for ln in lines if (m := _CONNECTION.search(ln))), None)
        if found is not None:
            where = re.search(r"\)'\)?:\s*(\S+)\s*$", next(
                ln for ln in lines if _CONNECTION.search(ln)))
            what = (found.group(1) or found.group(2) or "").strip()
            return ("the package index cannot be reached"
                    + (f" ({where.group(1)}: {what})" if where else f" ({what})"))
    if "The conflict is caused by:" in lines:
        start = lines.index("The conflict is caused by:") + 1
        causes = []
        for line in lines[start:]:
            if line.startswith(("To fix this", "ERROR:")):
                break
            causes.append(line)
        if causes:
            return "conflicting requirements: " + "; ".join(causes)
    if errors and errors[-1] == "Exception:":  # pip's own traceback: its last line says why
        return lines[-1]
    for error in reversed(errors):
        if not error.startswith(("ResolutionImpossible", "Failed to build")):
            return error
    return errors[-1] if errors else (lines[-1] if lines else f"pip exited {result.returncode}")




def _artifacts(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith(".whl") or is_sdist(p))


BUILD_LIMITS: Final = Limits(
    wall_seconds=900.0, cpu_seconds=900, memory_bytes=4 << 30, output_bytes=512 << 20,
    tmp_bytes=2 << 30, open_files=1024,
)
"""What one sandboxed build may use: 15 minutes, 4 GiB of address space, files up to 512 MiB,
2 GiB of private ``/tmp``."""

UNSANDBOXED: Final = "SIGLINK_ALLOW_UNSANDBOXED_BUILD"
"""Set to ``1`` to build with the user's own rights where no sandbox can run."""

_ROUNDS: Final = 8
_MISSING: Final = re.compile(r"No matching distribution found for (\S.*?)\s*$", re.MULTILINE)


def build_wheel(
    source: Path,
    dest: Path,
    *,
    index_url: str | None = None,
    error: type[SiglinkError] = BadInputError,
) -> Path:
    """Build one wheel from a project directory or an sdist into ``dest`` (must exist), inside
    the sandbox; the build sees a copy of ``source`` and can write only that copy, its private
    ``/tmp`` and the output directory. Without a sandbox the build is refused, unless
    ``$SIGLINK_ALLOW_UNSANDBOXED_BUILD`` is ``1``.

    :raises error: the build failed (its cause: the compiler's or backend's error lines), a
        build requirement cannot be fetched, or no sandbox can run.
    """
    if bwrap() is None:
        if os.environ.get(UNSANDBOXED) == "1":
            return _build_unsandboxed(source, dest, index_url=index_url, error=error)
        raise error(_no_sandbox(source, "bubblewrap (bwrap) is not installed"))
    with tempfile.TemporaryDirectory(prefix="siglink-build-") as tmp:
        work = Path(tmp)
        copy, house, out = work / "src", work / "wheelhouse", work / "out"
        for folder in (copy, house, out):
            folder.mkdir()
        try:
            if source.is_dir():
                shutil.copytree(source, copy / "project", symlinks=True)
                target = "/siglink/src/project"
            else:
                shutil.copyfile(source, copy / source.name)
                target = f"/siglink/src/{source.name}"
        except (OSError, shutil.Error) as e:
            raise error(f"{source}: cannot be copied for building ({_one_line(e)})") from None
        fetched: set[str] = set()
        for _ in range(_ROUNDS):
            result = _sandboxed_pip(target, work, source, error=error)
            wheels = [p for p in out.iterdir() if p.name.endswith(".whl")
                      and stat.S_ISREG(p.lstat().st_mode)]
            if result.returncode == 0 and len(wheels) == 1:
                return Path(shutil.move(wheels[0], dest / wheels[0].name))
            missing = _MISSING.findall(result.stdout + "\n" + result.stderr)
            wanted = missing[0] if missing else None
            if wanted is None or wanted in fetched:
                raise error(f"{source}: cannot build a wheel: {pip_reason(result)}")
            fetched.add(wanted)
            got = _pip(["download", "--only-binary=:all:", "--progress-bar", "off", "--dest",
                        str(house), *_index_args(index_url), wanted])
            if got.returncode != 0:
                raise error(f"{source}: cannot build a wheel: its build requirement {wanted} "
                            f"cannot be fetched as a wheel: {pip_reason(got)}")
        raise error(f"{source}: cannot build a wheel: build requirements still missing after "
                    f"{_ROUNDS} rounds ({', '.join(sorted(fetched))} fetched)")


def _sandboxed_pip(target: str, work: Path, source: Path, *,
                   error: type[SiglinkError]) -> subprocess.CompletedProcess[str]:
    """``pip wheel`` of ``target`` in the sandbox: ``work/src`` is the writable copy,
    ``work/wheelhouse`` the build requirements (read-only), ``work/out`` the output."""
    argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-index", "--find-links",
            "/siglink/wheelhouse", "--no-cache-dir", "--progress-bar", "off", "--quiet",
            "--wheel-dir", "/siglink/out", target]
    env = {"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1",
           "PYTHONWARNINGS": "ignore"}
    if "PIP_NO_BUILD_ISOLATION" in os.environ:  # the user's choice of pip's build isolation
        env["PIP_NO_BUILD_ISOLATION"] = os.environ["PIP_NO_BUILD_ISOLATION"]
    try:
        outcome = sandbox_run(argv, binds=[(work / "wheelhouse", "/siglink/wheelhouse")],
                              writable=[(work / "src", "/siglink/src"),
                                        (work / "out", "/siglink/out")],
                              env=env, limits=BUILD_LIMITS)
    except SandboxUnavailableError as e:
        raise error(_no_sandbox(source, e.reason)) from None
    if outcome.timed_out:
        raise error(f"{source}: cannot build a wheel: the build ran longer than "
                    f"{BUILD_LIMITS.wall_seconds:g} s; stopped")
    return subprocess.CompletedProcess(argv, outcome.returncode,
                                       outcome.stdout.decode("utf-8", "replace"),
                                       outcome.stderr.decode("utf-8", "replace"))


def _no_sandbox(source: Path, reason: str) -> str:
    return (f"{source}: not built: building runs the project's own code, which siglink runs "
            f"only in a sandbox, and {reason}; install bubblewrap (apt-get install bubblewrap, "
            f"dnf install bubblewrap) or set {UNSANDBOXED}=1 to build with your own rights")


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split())[:300] or type(e).__name__


def _build_unsandboxed(source: Path, dest: Path, *, index_url: str | None,
                       error: type[SiglinkError]) -> Path:
    args = ["wheel", "--no-deps", "--quiet", "--wheel-dir", str(dest), *_index_args(index_url)]
    result = _pip([*args, str(source.absolute())])  # "srcproj" alone would be a name to pip
    wheels = [p for p in dest.iterdir() if p.suffix == ".whl"]
    if result.returncode != 0 or len(wheels) != 1:
        raise error(f"{source}: cannot build a wheel: {pip_reason(result)}")
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
            f"{requirement}: cannot be fetched from the package index: {pip_reason(result)}"
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


@dataclass(frozen=True)
class Resolved:
    """One distribution of a closure pip resolved: its name (normalized), version, where pip
    would take it from (``url``; ``path`` when that is a local file), its sha256, and whether
    it was asked for (``requested``, with ``extras``) or came as a dependency."""

    name: str
    version: str
    url: str
    path: Path | None
    sha256: str | None
    requested: bool
    extras: tuple[str, ...]
    requires: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.name}=={self.version}"


def _index_args(index_url: str | None) -> list[str]:
    return ["--index-url", index_url] if index_url else []


def _file_path(url: str) -> Path | None:
    parts = urlsplit(url)
    return Path(unquote(parts.path)) if parts.scheme == "file" else None


def _classify(result: subprocess.CompletedProcess[str], what: str) -> SiglinkError:
    """The error for a failed resolution: a malformed requirements file or requirement is bad
    input (exit 2), anything else a fetch failure (exit 4)."""
    reason = pip_reason(result)
    if reason.startswith(("Invalid requirement", "Could not open requirements file")) or (
        "Double requirement given" in reason or "Invalid URL" in reason
    ):
        return BadInputError(reason)
    found = re.match(r"No matching distribution found for (.+)$", reason)
    if found:
        wanted = found.group(1).strip()
        versions = re.search(
            rf"satisfies the requirement {re.escape(wanted)} \(from versions: ([^)]*)\)",
            result.stderr + result.stdout)
        have = versions.group(1).strip() if versions else "none"
        hint = "" if have == "none" else f" (the newest on the index is {have.split(', ')[-1]})"
        failed = next((ln for ln in (result.stderr + "\n" + result.stdout).splitlines()
                       if _CONNECTION.search(ln)), None)
        if failed is not None and have != "none":  # another index answered: say which did not
            cause = _CONNECTION.search(failed)
            where = re.search(r"\)'\)?:\s*(\S+)\s*$", failed)
            hint += ("; an index could not be reached ("
                     + (f"{where.group(1)}: " if where else "")
                     + f"{(cause.group(1) or cause.group(2) or '').strip() if cause else ''})")
        return FetchError(f"{wanted}: cannot be fetched from the package index: {reason}{hint}")
    return FetchError(f"{what}: cannot be resolved: {reason}")


def resolve(
    specs: Sequence[str],
    *,
    requirement_files: Sequence[str] = (),
    constraint_files: Sequence[str] = (),
    index_url: str | None = None,
    no_deps: bool = False,
    work: Path,
) -> list[Resolved]:
    """The closure of ``specs`` (requirements and local wheel files) as pip's resolver chooses
    it for this interpreter, against the configured index, ignoring what is installed here.

    :raises BadInputError: a malformed requirement or requirements file (exit 2).
    :raises FetchError: the index cannot provide a requirement, cannot be reached, or the
        requirements conflict (exit 4).
    """
    for option, files in (("-r", requirement_files), ("-c", constraint_files)):
        for file in files:
            if not os.path.isfile(file):
                raise BadInputError(f"{option} {file}: no such file", path=file)
            try:
                with open(file, "rb") as f:
                    f.read(1)
            except OSError as e:
                raise BadInputError(f"{option} {file}: cannot be read: {e.strerror}",
                                    path=file) from e
    work.mkdir(parents=True, exist_ok=True)
    report = work / "report.json"
    args = ["install", "--dry-run", "--ignore-installed", "--report", str(report),
            "--progress-bar", "off", *_index_args(index_url)]
    if no_deps:
        args.append("--no-deps")
    for file in requirement_files:
        args += ["-r", os.path.abspath(file)]
    for file in constraint_files:
        args += ["-c", os.path.abspath(file)]
    result = _pip([*args, *specs])
    what = " ".join([*specs, *(f"-r {f}" for f in requirement_files)]) or "the requirements"
    if result.returncode != 0:
        raise _classify(result, what)
    try:
        data = json.loads(report.read_text())
        items = data["install"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise FetchError(f"{what}: pip wrote no readable installation report ({e})") from e
    out = []
    for item in items:
        metadata = item.get("metadata", {})
        info = item.get("download_info", {})
        url = str(info.get("url", ""))
        hashes = info.get("archive_info", {}).get("hashes", {}) or {}
        out.append(Resolved(
            name=canonicalize_name(str(metadata.get("name", ""))),
            version=str(metadata.get("version", "")),
            url=url,
            path=_file_path(url),
            sha256=hashes.get("sha256"),
            requested=bool(item.get("requested")),
            extras=tuple(item.get("requested_extras") or ()),
            requires=tuple(metadata.get("requires_dist") or ()),
        ))
    return out


def download(
    items: Sequence[Resolved], dest: Path, *, index_url: str | None = None
) -> dict[str, Path]:
    """The artifact of each of ``items`` (``{str(item): path}``): a local file as it is, a
    remote one downloaded into ``dest`` by ``pip download --no-deps`` of its exact URL, its
    sha256 checked by pip.

    :raises FetchError: a download failed.
    """
    found: dict[str, Path] = {}
    remote: list[tuple[Resolved, str]] = []
    for item in items:
        if item.path is not None:
            if not item.path.is_file():
                raise FetchError(f"{item}: {item.path} is not a file")
            found[str(item)] = item.path
            continue
        url = item.url.split("#", 1)[0]
        remote.append((item, url + (f"#sha256={item.sha256}" if item.sha256 else "")))
    if remote:
        dest.mkdir(parents=True, exist_ok=True)
        result = _pip(["download", "--no-deps", "--progress-bar", "off", "--dest", str(dest),
                       *_index_args(index_url), *(url for _, url in remote)])
        if result.returncode != 0:
            names = ", ".join(str(item) for item, _ in remote)
            raise FetchError(f"{names}: cannot be downloaded: {pip_reason(result)}")
        for item, url in remote:
            path = dest / unquote(urlsplit(url).path.rsplit("/", 1)[-1])
            if not path.is_file():
                raise FetchError(f"{item}: pip downloaded no {path.name}")
            found[str(item)] = path
    return found


_YANKED: Final = re.compile(
    r"is a yanked version: '(?P<name>[^']+)' candidate \(version (?P<version>\S+) at")


def yanked_on_index(
    pairs: Sequence[tuple[str, str]], *, index_url: str | None = None, work: Path,
) -> tuple[dict[tuple[str, str], str], set[tuple[str, str]]]:
    """Which of ``pairs`` (``(name, version)``) the index marks yanked (PEP 592), with the
    reason it gives, as pip reports them when it selects a pinned yanked release; and the
    pairs the index does not have. One pip resolution per round (a round holds one version
    of each name), one more per pair the index lacks.

    :raises FetchError: the index cannot be reached.
    """
    rounds: list[list[tuple[str, str]]] = []
    for name, version in pairs:
        key = (str(canonicalize_name(name)), version)
        for batch in rounds:
            if all(n != key[0] for n, _ in batch):
                batch.append(key)
                break
        else:
            rounds.append([key])
    yanked: dict[tuple[str, str], str] = {}
    absent: set[tuple[str, str]] = set()
    for number, batch in enumerate(rounds):
        todo = list(batch)
        while todo:
            report = work / f"yanked-{number}-{len(absent)}.json"
            result = _pip(["install", "--dry-run", "--no-deps", "--ignore-installed",
                           "--progress-bar", "off", "--report", str(report),
                           *_index_args(index_url), *(f"{n}=={v}" for n, v in todo)])
            if result.returncode != 0:
                error = _classify(result, "the stored versions")
                found = re.match(r"(\S+)==(\S+): cannot be fetched", error.message)
                lacking = (str(canonicalize_name(found.group(1))), str(found.group(2))) \
                    if found else None
                if lacking is None or lacking not in todo:
                    raise error
                absent.add(lacking)
                todo.remove(lacking)
                continue
            lines = (result.stderr + "\n" + result.stdout).splitlines()
            for i, line in enumerate(lines):
                match = _YANKED.search(line)
                if match is None:
                    continue
                reason = "yanked on the index"
                if i + 1 < len(lines) and lines[i + 1].startswith("Reason for being yanked:"):
                    given = lines[i + 1].partition(":")[2].strip()
                    if given and given != "<none given>":
                        reason = given
                yanked[(str(canonicalize_name(match["name"])), match["version"])] = reason
            break
    return yanked, absent
