"""Turn an install spec into a wheel file; no code of an sdist ever runs with the network.

pip prepares an sdist's metadata (runs its ``setup.py`` or build backend) whenever it resolves
or downloads one, with the network and the user's index credentials. So pip is asked only for
wheels (``--only-binary=:all:``: a wheel's metadata is read, never run), and runs guarded: an
audit hook refuses every process it would start (:data:`_GUARDED_PIP`). Every sdist is found on
the index and downloaded by siglink's own client (:mod:`siglink.store._simple`: PEP 503 pages,
``data-yanked``, ``data-requires-python``, ``#sha256=`` checked), then built into a wheel in the
offline sandbox (:func:`build_wheel`).

- a requirement (``NAME==VERSION``) is downloaded with ``pip download --no-deps
  --only-binary=:all:`` from the configured package index (``--index-url`` passes through, so
  any PyPI-compatible index can serve a fleet); a release the index has only as an sdist is
  downloaded by siglink and built (:func:`fetch`);
- a project directory or an sdist file is built with ``pip wheel --no-deps`` inside the
  sandbox of :mod:`siglink._sandbox` (:func:`build_wheel`): a build backend is the project's
  own code. The sandbox has no network: pip builds with ``--no-index`` from a wheelhouse that
  siglink fills, outside, with ``pip download --only-binary=:all:`` of each build requirement
  pip reports missing (downloading a wheel runs nothing), one round per requirement;
- a dependency closure is resolved by pip's own resolver (:func:`resolve`: ``pip install
  --dry-run --ignore-installed --report``, so ``-r``/``-c`` files, extras, markers and the
  configured index are read exactly as pip reads them), wheels only. A requirement the index
  has only as an sdist is downloaded and built, its wheel offered to pip again by
  ``--find-links`` and pinned by a constraint, in rounds (a built wheel's own dependencies may
  be sdist-only too); a spec or a requirements-file line naming an sdist or a project by path
  or URL is built first. What only pip can fetch (a VCS URL, an editable, a direct URL to an
  sdist in a wheel's metadata) is refused in one line (:func:`_only_pip`).
  :func:`download` fetches what the resolution names (wheels by pip, sdists by siglink, hashes
  checked; a wheel built during the resolution is used as it is).

Without a sandbox an sdist is refused, unless ``$SIGLINK_ALLOW_UNSANDBOXED_BUILD`` is ``1``:
then pip resolves, downloads and builds with the user's rights, as it would on its own.

A failed build is reported by its cause: the compiler's or build backend's error lines, not
pip's last line (:func:`pip_reason`). Nothing here touches the store: results land in a
temporary directory the caller owns.

>>> failed = subprocess.CompletedProcess([], 1, "", "ERROR: No matching distribution for x\\n")
>>> pip_reason(failed)
'No matching distribution for x'
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import unquote, urlsplit, urlunsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from siglink._sandbox import Limits, Outcome, SandboxUnavailableError, bwrap
from siglink._sandbox import run as sandbox_run
from siglink._text import bad_char, decode
from siglink.errors import BadInputError, FetchError, SiglinkError
from siglink.store import _simple

__all__ = [
    "BUILD_LIMITS",
    "UNSANDBOXED",
    "Resolved",
    "build_wheel",
    "download",
    "fetch",
    "is_direct_url",
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
        why = (str(e).splitlines() or ["not PEP 508"])[0].strip()  # no caret lines
        raise BadInputError(
            f"{spec}: neither an existing file or directory nor a requirement ({why})"
        ) from e


_NO_PROCESS: Final = "siglink: pip may start no process outside the sandbox"

_GUARDED_PIP: Final = f"""\
import sys

if sys.path[:1] == [""]:
    del sys.path[0]  # the current directory: no runpy.py or pip/ of its own is imported


def _refuse(event, args, _starts=frozenset((
        "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
        "os.forkpty", "pty.spawn"))):
    if event in _starts:
        raise PermissionError({_NO_PROCESS!r} + ": " + repr(args[:2])[:300])


sys.addaudithook(_refuse)
import runpy
sys.argv[0] = "pip"
runpy.run_module("pip", run_name="__main__", alter_sys=True)
"""
"""pip with an audit hook (PEP 578) that refuses every process it would start. Reading a
wheel or an index starts none; preparing an sdist's or a VCS checkout's metadata runs its
build code in a new interpreter, which is how a wheel's direct-URL requirement would run code
with the user's rights where no sandbox can (pip prepares a direct URL whatever
``--only-binary`` says). pip's optional probes (``rustc --version`` for its user agent) catch
the refusal."""


def _pip(args: list[str], *, may_build: bool = False) -> subprocess.CompletedProcess[str]:
    """``pip ARGS`` with the user's rights: guarded (:data:`_GUARDED_PIP`) unless
    ``may_build``, which only the user's ``$SIGLINK_ALLOW_UNSANDBOXED_BUILD=1`` grants."""
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONWARNINGS="ignore")
    command = ["-m", "pip"] if may_build else ["-c", _GUARDED_PIP]
    return subprocess.run(
        [sys.executable, *command, *args],
        capture_output=True, text=True, errors="surrogateescape", check=False, env=env,
        stdin=subprocess.DEVNULL,  # pip echoes paths, in whatever bytes they have
    )


def _would_build(result: subprocess.CompletedProcess[str]) -> str | None:
    """What a guarded pip was stopped preparing (the last requirement pip said it was
    collecting or processing), or None when the guard did not stop it."""
    if result.returncode == 0 or _NO_PROCESS not in result.stderr + result.stdout:
        return None
    found = re.findall(r"^\s*(?:Collecting|Processing|Obtaining)\s+(\S.*?)\s*$",
                       result.stdout, re.MULTILINE)
    return re.sub(r"^([^\s@]+)@ ", r"\1 @ ", found[-1]) if found else "a requirement"


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


def _completed(argv: list[str], outcome: Outcome) -> subprocess.CompletedProcess[str]:
    """A sandboxed run as the subprocess result the rest of this module reads."""
    return subprocess.CompletedProcess(argv, outcome.returncode,
                                       outcome.stdout.decode("utf-8", "replace"),
                                       outcome.stderr.decode("utf-8", "replace"))


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
"""What one sandboxed build may use: 15 minutes, 4 GiB of address space per process and 64
processes (a compiler may take gigabytes, a parallel build runs one per core), files up to
512 MiB, 2 GiB of private ``/tmp``."""

UNSANDBOXED: Final = "SIGLINK_ALLOW_UNSANDBOXED_BUILD"
"""Set to ``1`` to build with the user's own rights where no sandbox can run."""

_ROUNDS: Final = 8
_SDIST_ROUNDS: Final = 32
"""The most sdists one resolution builds: pip names one missing requirement per run, so each
round of :func:`_dry_run` builds one (a chain of built wheels each needing another stops
here)."""
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
    return _completed(argv, outcome)


def _no_sandbox(source: Path, reason: str) -> str:
    return (f"{source}: not built: building runs the project's own code, which siglink runs "
            f"only in a sandbox, and {reason}; install bubblewrap (apt-get install bubblewrap, "
            f"dnf install bubblewrap) or set {UNSANDBOXED}=1 to build with your own rights")


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split())[:300] or type(e).__name__


def _build_unsandboxed(source: Path, dest: Path, *, index_url: str | None,
                       error: type[SiglinkError]) -> Path:
    args = ["wheel", "--no-deps", "--quiet", "--wheel-dir", str(dest), *_index_args(index_url)]
    result = _pip([*args, str(source.absolute())],  # "srcproj" alone would be a name to pip
                  may_build=True)
    wheels = [p for p in dest.iterdir() if p.suffix == ".whl"]
    if result.returncode != 0 or len(wheels) != 1:
        raise error(f"{source}: cannot build a wheel: {pip_reason(result)}")
    return wheels[0]


def fetch(requirement: str, dest: Path, *, index_url: str | None = None) -> Path:
    """Download ``requirement`` into ``dest`` and return a wheel (built from an sdist if needed,
    the sdist found and downloaded without running any of its code, :func:`_sdist_from_index`).

    :raises FetchError: the index has no such release, its sdist does not build, or it has
        only an sdist and no sandbox can run.
    """
    parse_requirement(requirement)
    download = dest / "download"
    download.mkdir(parents=True, exist_ok=True)
    args = ["download", "--no-deps", "--progress-bar", "off", *_index_args(index_url)]
    result, stopped, sdist_only = _wheels_only([*args, "--dest", str(download), requirement])
    wanted = [stopped] if stopped is not None else sdist_only
    if wanted:
        download = Path(tempfile.mkdtemp(prefix="sdist-", dir=dest))
        if not _unsandboxed(wanted):  # found and downloaded here: pip would run its code
            sdist, _, _ = _sdist_from_index(requirement, download, index_url=index_url)
            built = dest / "built"
            built.mkdir(exist_ok=True)
            return build_wheel(sdist, built, index_url=index_url, error=FetchError)
        result = _pip([*args, "--dest", str(download), requirement], may_build=True)
    found = [p for p in _artifacts(download) if stat.S_ISREG(p.lstat().st_mode)
             and (not wanted or is_sdist(p))]
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


def _indexes(index_url: str | None, name: str,
             settings: dict[str, str] | None = None) -> list[str]:
    """The pages pip would read for project ``name``: that of ``index_url``, else of the
    user's configured index, else PyPI's (none with ``no-index``), of each extra index, and
    each ``find-links`` location (a page, or a folder: its file names are its links).
    ``settings`` is :func:`_pip_settings`'s answer when the caller has it."""
    if settings is None:
        settings = _pip_settings("download")
    indexes = [index_url] if index_url else settings.get(
        "index-url", "https://pypi.org/simple").split()[:1]
    indexes += settings.get("extra-index-url", "").split()
    if settings.get("no-index", "").lower() in ("1", "true", "yes", "on"):
        indexes = []
    pages = [entry.rstrip("/") + f"/{name}/" for entry in indexes]
    pages += settings.get("find-links", "").split()
    return [page if "://" in page else Path(page).absolute().as_uri() for page in pages]


def _with_credentials(url: str, index_url: str | None) -> str:
    """``url`` with the userinfo of the configured index (or find-links page) on the same
    scheme, host and port, as pip would send it: pip's report names URLs without it."""
    parts = urlsplit(url)
    if parts.username is not None or parts.scheme not in ("http", "https"):
        return url
    settings = _pip_settings("download")
    for entry in [index_url or settings.get("index-url", ""),
                  *settings.get("extra-index-url", "").split(),
                  *settings.get("find-links", "").split()]:
        other = urlsplit(entry)
        if other.username is not None and (other.scheme, other.hostname, other.port) == (
                parts.scheme, parts.hostname, parts.port):
            userinfo = other.netloc.rpartition("@")[0]
            return urlunsplit(parts._replace(netloc=f"{userinfo}@{parts.netloc}"))
    return url


class _NoSdistError(FetchError):
    """The index has no sdist that meets the requirement (it has some of the project)."""


def _sdist_from_index(requirement: str, dest: Path, *,
                      index_url: str | None) -> tuple[Path, str, str]:
    """Find the sdist of ``requirement`` on the index (PEP 503: the project's page, the
    newest version the requirement allows, ``data-yanked`` only when pinned with ``==``,
    ``data-requires-python`` honoured) or at its direct URL, and download it into ``dest``,
    its ``#sha256=`` checked. No code of it runs; no pip is involved. Returns its path, its
    URL (without credentials) and its sha256.

    :raises FetchError: no such sdist, an index cannot be read, or the hash differs.
    """
    wanted = parse_requirement(requirement)
    name = canonicalize_name(wanted.name)
    pinned = any(s.operator in ("==", "===") for s in wanted.specifier)
    here = Version(".".join(map(str, sys.version_info[:3])))
    found: list[tuple[Version, str]] = []
    unread: list[str] = []
    if wanted.url is not None:
        found = [(Version("0"), wanted.url)]
    else:
        links, unread = _simple.project_links(_indexes(index_url, name))
        for link in links:
            try:
                project, version = parse_sdist_filename(link.filename)
            except (InvalidSdistFilename, InvalidVersion):
                continue
            if project != name or not wanted.specifier.contains(version, prereleases=True):
                continue
            if link.yanked is not None and not pinned:
                continue
            try:
                if link.requires_python and not SpecifierSet(link.requires_python).contains(
                        here, prereleases=True):
                    continue
            except InvalidSpecifier:
                continue
            found.append((version, link.url))
    if not found:
        raise (FetchError if unread else _NoSdistError)(
            f"{requirement}: cannot be fetched from the package index: " + (
                f"it cannot be read ({unread[0]})" if unread
                else "it has no sdist of it for this interpreter"))
    # PEP 440: a pre-release only when the requirement names one or nothing else matches
    allowed = set(wanted.specifier.filter(v for v, _ in found)) or {v for v, _ in found}
    url = max((c for c in found if c[0] in allowed), key=lambda c: c[0])[1]
    location = url.partition("#")[0]
    if not is_sdist(Path(unquote(urlsplit(location).path.rsplit("/", 1)[-1]))):
        raise FetchError(f"{requirement}: {_simple.shown(location)} names no sdist")
    try:
        path, digest = _simple.download(_with_credentials(url, index_url), dest,
                                        BUILD_LIMITS.output_bytes)
    except _simple.HashMismatchError as e:
        raise FetchError(f"{requirement}: {e}") from None
    except (OSError, ValueError) as e:
        raise FetchError(f"{requirement}: {_simple.shown(location)} cannot be downloaded "
                         f"({_one_line(e)})") from None
    return path, _simple.shown(location), digest


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
    if not is_direct_url(spec) and (
            spec.endswith((".whl", *_SDIST_SUFFIXES)) or "/" in spec.split("@", 1)[0]):
        raise BadInputError(f"{spec}: no such file or directory", path=spec)
    return fetch(spec, tmp, index_url=index_url)


def is_direct_url(spec: str) -> bool:
    """A requirement naming its distribution by URL (``name @ https://.../x.tar.gz``)."""
    try:
        return Requirement(spec).url is not None
    except InvalidRequirement:
        return False


@dataclass(frozen=True)
class Resolved:
    """One distribution of a closure pip resolved: its name (normalized), version, where it
    is taken from (``url``; ``path`` when that is a local file), its sha256, and whether it
    was asked for (``requested``, with ``extras``) or came as a dependency. For an sdist that
    siglink downloaded and built during the resolution, ``url`` and ``sha256`` are the sdist's
    (what one would download again) and ``built`` is the wheel built from it offline."""

    name: str
    version: str
    url: str
    path: Path | None
    sha256: str | None
    requested: bool
    extras: tuple[str, ...]
    requires: tuple[str, ...]
    built: Path | None = None

    def __str__(self) -> str:
        return f"{self.name}=={self.version}"


def _index_args(index_url: str | None) -> list[str]:
    return ["--index-url", index_url] if index_url else []


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
    on_step: Callable[[str], None] | None = None,
) -> list[Resolved]:
    """The closure of ``specs`` (requirements, local wheel files, sdists and project
    directories by path or URL) as pip's resolver chooses it for this interpreter, against the
    configured index, ignoring what is installed here. pip reads wheels only; every sdist is
    downloaded by siglink and built offline (:func:`_dry_run`); ``on_step`` is told of each
    build.

    :raises BadInputError: a malformed requirement or requirements file (exit 2).
    :raises FetchError: the index cannot provide a requirement, cannot be reached, or the
        requirements conflict (exit 4).
    """
    for option, files in (("-r", requirement_files), ("-c", constraint_files)):
        for file in files:
            if not os.path.isfile(file):
                raise BadInputError(f"{option} {file}: no such file", path=file)
            if bad_char(os.path.abspath(file)) is not None:  # pip fails on such a path
                raise BadInputError(f"{option} {file}: pip cannot read a file whose path is not "
                                    "UTF-8; copy or rename it", path=file)
            try:
                with open(file, "rb") as f:
                    decode(f.read(1 << 24), f"{option} {file}")  # pip would fail on it
            except OSError as e:
                raise BadInputError(f"{option} {file}: cannot be read: {e.strerror}",
                                    path=file) from e
    work.mkdir(parents=True, exist_ok=True)
    report = work / "report.json"
    flags = ["--no-deps"] if no_deps else []
    for file in requirement_files:
        flags += ["-r", os.path.abspath(file)]
    for file in constraint_files:
        flags += ["-c", os.path.abspath(file)]
    what = " ".join([*specs, *(f"-r {f}" for f in requirement_files)]) or "the requirements"
    result, built = _dry_run(flags, list(specs), report, work, index_url=index_url, what=what,
                             on_step=on_step or (lambda _: None))
    if result.returncode != 0:
        raise _classify(result, what)
    try:
        data = json.loads(report.read_text())
        items = data["install"]
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise TypeError("its install list is not a list of objects")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise FetchError(f"{what}: pip wrote no readable installation report ({e})") from e
    out = []
    try:
        for item in items:
            metadata = item.get("metadata", {})
            info = item.get("download_info", {})
            url = str(info.get("url", ""))
            path = _simple.file_path(url)
            hashes = info.get("archive_info", {}).get("hashes", {}) or {}
            origin = built.get(path) if path is not None else None
            if origin is not None and path is not None:  # the sdist, not the temporary wheel
                url, hashes = origin.url, {"sha256": origin.sha256}
                path = origin.path
            out.append(Resolved(
                name=canonicalize_name(str(metadata.get("name", ""))),
                version=str(metadata.get("version", "")),
                url=url,
                path=path,
                sha256=_sha256(hashes.get("sha256")),
                requested=bool(item.get("requested")),
                extras=tuple(str(e) for e in item.get("requested_extras") or ()),
                requires=tuple(str(r) for r in metadata.get("requires_dist") or ()),
                built=None if origin is None else origin.wheel,
            ))
    except (AttributeError, TypeError) as e:
        raise FetchError(f"{what}: pip wrote a malformed installation report ({e})") from e
    return out


def _sha256(value: object) -> str | None:
    return value.lower() if isinstance(value, str) and re.fullmatch(
        r"[0-9a-fA-F]{64}", value) else None


def download(
    items: Sequence[Resolved], dest: Path, *, index_url: str | None = None
) -> dict[str, Path]:
    """The artifact of each of ``items`` (``{str(item): path}``): a wheel built during the
    resolution or a local file as it is; remote wheels downloaded into ``dest`` by ``pip
    download --no-deps`` of their exact URLs (downloading a wheel runs nothing), remote sdists
    by siglink's own client (pip would prepare them: run their build code); every sha256
    checked.

    :raises FetchError: a download failed, or an item is neither a wheel nor an sdist siglink
        can download (a VCS URL).
    """
    found: dict[str, Path] = {}
    wheels: list[tuple[Resolved, str]] = []
    sdists: list[tuple[Resolved, str]] = []
    for item in items:
        local = item.built if item.built is not None else item.path
        if local is not None:
            if not local.is_file():
                raise FetchError(f"{item}: {local} is not a file")
            found[str(item)] = local
            continue
        url = item.url.split("#", 1)[0]
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.path.endswith(".whl"):
            wheels.append((item, url + (f"#sha256={item.sha256}" if item.sha256 else "")))
        elif parts.scheme in ("http", "https", "file") and is_sdist(Path(parts.path)):
            sdists.append((item, url))
        else:
            raise FetchError(f"{item}: {_simple.shown(url)} is neither a wheel nor an sdist "
                             "siglink downloads; refused")
    if not wheels and not sdists:
        return found
    dest.mkdir(parents=True, exist_ok=True)
    if wheels:
        names = [str(item) for item, _ in wheels]
        result = _pip(["download", "--no-deps", "--progress-bar", "off",
                       *_index_args(index_url), "--dest", str(dest),
                       *(url for _, url in wheels)])
        if result.returncode != 0:
            raise FetchError(f"{', '.join(names)}: cannot be downloaded: {pip_reason(result)}")
    for item, url in wheels:
        path = dest / unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        if not path.is_file() or not stat.S_ISREG(path.lstat().st_mode):
            raise FetchError(f"{item}: pip downloaded no {path.name}")
        if item.sha256 is not None and _digest(path) != item.sha256:
            raise FetchError(f"{item}: {path.name} does not have the sha256 the index gave; "
                             "refused")
        found[str(item)] = path
    for item, url in sdists:
        folder = Path(tempfile.mkdtemp(prefix="sdist-", dir=dest))
        try:
            found[str(item)], _ = _simple.download(
                _with_credentials(url, index_url), folder, BUILD_LIMITS.output_bytes,
                sha256=item.sha256)
        except _simple.HashMismatchError as e:
            raise FetchError(f"{item}: {e}") from None
        except (OSError, ValueError) as e:
            raise FetchError(f"{item}: cannot be downloaded: {_simple.shown(url)}: "
                             f"{_one_line(e)}") from None
    return found


def _digest(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


_NO_SOURCES: Final = re.compile(r"Skipping link: No sources permitted for ([^:\s]+):")


def _wheels_only(
    args: list[str],
) -> tuple[subprocess.CompletedProcess[str], str | None, list[str]]:
    """Guarded ``pip ARGS --only-binary=:all:`` (reading a wheel's metadata runs nothing); the
    requirement whose build code the guard (:data:`_GUARDED_PIP`) stopped pip from running
    (a direct URL or VCS requirement, which pip prepares whatever ``--only-binary`` says), or
    None; and the requirements it could not meet because the index has only sdists of them:
    when it fails for want of a distribution, once more with ``-vv`` to read why (pip says so
    only in its debug output, about a megabyte for a dozen projects, so not on the way that
    succeeds)."""
    result = _pip([*args, "--only-binary=:all:"])
    stopped = _would_build(result)
    if stopped is not None:
        return result, stopped, []
    if result.returncode == 0 or not _MISSING.search(result.stdout + "\n" + result.stderr):
        return result, None, []
    return result, None, _sdist_only(_pip([*args, "--only-binary=:all:", "-vv"]))


def _sdist_only(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The requirements a failed ``--only-binary=:all: -vv`` run of pip could not meet because
    the index has only sdists of them (pip skipped their sdists, and found nothing else);
    empty when it failed for another reason or did not fail."""
    if result.returncode == 0:
        return []
    text = result.stdout + "\n" + result.stderr
    sources = {canonicalize_name(n) for n in _NO_SOURCES.findall(text)}
    out = []
    for wanted in dict.fromkeys(_MISSING.findall(text)):
        try:
            name = canonicalize_name(Requirement(wanted).name)
        except InvalidRequirement:
            continue
        if name in sources:
            out.append(wanted)
    return out


def _unsandboxed(wanted: Sequence[str]) -> bool:
    """True: no sandbox, and the user allowed unsandboxed builds (run pip as before). False:
    a sandbox can be tried. Refused (FetchError) without either."""
    if bwrap() is not None:
        return False
    if os.environ.get(UNSANDBOXED) == "1":
        return True
    raise FetchError(_sdist_refused(wanted, "bubblewrap (bwrap) is not installed"))


def _sdist_refused(wanted: Sequence[str], reason: str) -> str:
    return (f"{', '.join(wanted)}: not fetched: an sdist (the index has no wheel of it for "
            f"this interpreter, or it is given by URL or path), whose build code pip runs to "
            f"read its metadata; "
            f"siglink runs it only in a sandbox, and {reason}; install bubblewrap (apt-get "
            f"install bubblewrap, dnf install bubblewrap), or set {UNSANDBOXED}=1 to let pip "
            "run it with your rights")


_INDEX_SETTINGS: Final = ("index-url", "extra-index-url", "find-links", "no-index")


def _pip_settings(command: str) -> dict[str, str]:
    """The user's pip settings that name the indexes (``pip config list``: environment, then
    ``command``'s section, then ``global``), for siglink's own client."""
    listed = _pip(["config", "list"])
    found: dict[str, dict[str, str]] = {}
    for line in listed.stdout.splitlines():
        key, sep, value = line.partition("=")
        section, _, name = key.partition(".")
        if not sep or name not in _INDEX_SETTINGS:
            continue
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            continue
        if isinstance(parsed, str):
            found.setdefault(name, {})[section] = parsed
    out = {}
    for name, sections in found.items():
        chosen = next((sections[s] for s in (":env:", command, "global") if s in sections), None)
        if chosen is not None:
            out[name] = chosen
    return out


@dataclass(frozen=True)
class _Built:
    """A wheel siglink built offline from an sdist or project it took itself: where from
    (``url`` without credentials; ``path`` when local) and the sdist's sha256."""

    wheel: Path
    url: str
    path: Path | None
    sha256: str | None


def _dry_run(
    flags: list[str], specs: list[str], report: Path, work: Path, *, index_url: str | None,
    what: str, on_step: Callable[[str], None],
) -> tuple[subprocess.CompletedProcess[str], dict[Path, _Built]]:
    """``pip install --dry-run --ignore-installed --report REPORT FLAGS SPECS``, wheels only,
    guarded. A spec naming an sdist or a project (by path, or by an HTTP(S) or ``file:`` URL)
    is built first and given as its wheel. A requirement the index has only as an sdist is
    found and downloaded by siglink (:func:`_sdist_from_index`) and built offline into a
    private folder that the next round reads with ``--find-links``, its ``NAME==VERSION``
    pinned by a constraint, at most :data:`_SDIST_ROUNDS` rounds. A requirements file naming
    an sdist or a project is read through a copy naming its wheel (:func:`_rewritten`). What
    only pip can fetch (a VCS URL, an editable, a direct URL to an sdist in a wheel's
    metadata) is refused (:func:`_only_pip`). Returns pip's result and the wheels built, by
    their real path."""
    base = ["install", "--dry-run", "--ignore-installed", "--progress-bar", "off",
            *_index_args(index_url), "--report", str(report)]
    full = [*base, *flags, *specs]  # as pip would run on its own, with the user's leave
    house = work / "built"
    house.mkdir(exist_ok=True)
    built: dict[Path, _Built] = {}
    given = list(specs)
    copies: dict[Path, Path] = {}
    if bwrap() is None:  # nothing can be built offline: as before, pip with the user's leave
        named = _not_by_name([*flags, *specs])
        if named and _only_pip(named):
            return _pip(full, may_build=True), {}
    else:
        for number, spec in enumerate(specs):
            if _by_url(spec) and not (spec.endswith(".whl") and os.path.isfile(spec)):
                made = _given(spec, work, house, index_url=index_url, on_step=on_step)
                if made is None:
                    if _only_pip([spec]):
                        return _pip(full, may_build=True), {}
                    continue
                given[number], found = made
                built[Path(os.path.realpath(found.wheel))] = found
        if _not_by_name(flags):
            flags = _rewritten(flags, work, house, index_url=index_url, built=built,
                               copies=copies)
        named = _not_by_name([*flags, *(s for s in given if s.endswith(".whl"))])
        if named and _only_pip(named):
            return _pip(full, may_build=True), {}
    pins = work / "pins.txt"
    tried: set[str] = set()
    for round_ in range(_SDIST_ROUNDS + 1):
        links = ["--find-links", str(house.absolute()), "-c", str(pins)] if pins.exists() else []
        result, stopped, wanted = _wheels_only([*base, *links, *flags, *given])
        for copy, original in copies.items():  # pip's messages name the user's files
            result.stdout = result.stdout.replace(str(copy), str(original))
            result.stderr = result.stderr.replace(str(copy), str(original))
        if stopped is not None and _only_pip([stopped]):
            return _pip(full, may_build=True), {}
        if not wanted:
            return result, built
        if _unsandboxed(wanted):
            return _pip(full, may_build=True), {}
        if round_ == _SDIST_ROUNDS:
            raise FetchError(f"{what}: cannot be resolved: {', '.join(wanted)} has no wheel "
                             f"either, and {_SDIST_ROUNDS} sdists were built already; stopped")
        for requirement in wanted:
            if requirement in tried:
                raise FetchError(f"{requirement}: the wheel built from its sdist does not meet "
                                 "it; refused")
            tried.add(requirement)
            try:
                sdist, url, digest = _sdist_from_index(
                    requirement, Path(tempfile.mkdtemp(prefix="sdist-", dir=work)),
                    index_url=index_url)
            except _NoSdistError:  # no such release at all: pip's own words say so
                return result, built
            on_step(f"building {sdist.name} (the index has no wheel of {requirement})")
            wheel = _built(requirement, sdist, house, index_url=index_url)
            built[Path(os.path.realpath(wheel))] = _Built(wheel, url, None, digest)
            name, version = parse_sdist_filename(sdist.name)
            with pins.open("a", encoding="utf-8") as f:
                f.write(f"{name}=={version}\n")
    raise AssertionError("not reached: the last round returns or raises")


_COMMENT: Final = re.compile(r"(^|\s+)#.*$")
_NESTED: Final = ("-r", "--requirement", "-c", "--constraint")


def _rewritten(flags: list[str], work: Path, house: Path, *, index_url: str | None,
               built: dict[Path, _Built], copies: dict[Path, Path]) -> list[str]:
    """``flags`` with each ``-r``/``-c`` file replaced by a copy in ``work`` in which every
    line naming an sdist or a project by path or URL names the wheel built from it offline
    instead (:func:`_given`; its ``--hash`` values must include the sdist's, and the wheel's
    is given in their place), and every nested file or ``find-links`` folder, which pip reads
    relative to the file, is named by its absolute path (nested files rewritten too).
    ``built`` and ``copies`` (copy -> original) are filled in."""
    done: dict[Path, Path] = {}

    def rewrite(path: Path) -> Path:
        path = Path(os.path.abspath(path))
        if path in done:
            return done[path]
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return path  # pip says why it cannot be read
        copy = work / f"requirements-{len(done)}.txt"
        done[path], copies[copy] = copy, path
        lines, pending = [], ""
        for raw in text.splitlines():
            if raw.rstrip().endswith("\\"):
                pending += raw.rstrip()[:-1] + " "
                continue
            line, pending = _COMMENT.sub("", pending + raw).strip(), ""
            first, _, rest = line.partition(" ")
            option, eq, value = first.partition("=")
            value = (value if eq else rest).strip()
            if option in _NESTED and value and "://" not in value:
                nested = path.parent / value
                lines.append(f"{option} {rewrite(nested) if nested.is_file() else value}")
            elif option in ("-f", "--find-links") and value and (path.parent / value).exists():
                lines.append(f"{option} {(path.parent / value).absolute()}")
            elif line and not line.startswith("-") and _by_url(line.split(" -", 1)[0]):
                lines.append(_line_built(line, work, house, index_url=index_url, built=built))
            else:
                lines.append(line)
        copy.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return copy

    out = list(flags)
    for number, flag in enumerate(flags[:-1]):
        if flag in ("-r", "-c"):
            out[number + 1] = str(rewrite(Path(flags[number + 1])))
    return out


def _line_built(line: str, work: Path, house: Path, *, index_url: str | None,
                built: dict[Path, _Built]) -> str:
    """A requirements file's line naming an sdist or a project, as the line naming the wheel
    built from it offline (unchanged when only pip can fetch it: pip is then stopped)."""
    spec, _, options = line.partition(" -")
    options = f"-{options}" if options else ""
    made = _given(spec.strip(), work, house, index_url=index_url)
    if made is None:
        return line
    wanted, found = made
    hashes = re.findall(r"--hash[= ]sha256:([0-9a-fA-F]{64})", options)
    if hashes and found.sha256 not in [h.lower() for h in hashes]:
        raise FetchError(f"{spec.strip()}: {found.url.rsplit('/', 1)[-1]} does not have a "
                         "sha256 its --hash options give; refused")
    rest = re.sub(r"--hash[= ]\S+", "", options).strip()
    if hashes:
        rest = f"{rest} --hash=sha256:{_digest(found.wheel)}".strip()
    built[Path(os.path.realpath(found.wheel))] = found
    return f"{wanted} {rest}".rstrip()


def _built(what: str, source: Path, house: Path, *, index_url: str | None,
           name: str | None = None) -> Path:
    """The wheel built offline from ``source`` into ``house``; its name and version must be
    the sdist's (or ``name``, for a project directory).

    :raises FetchError: the build failed, or the wheel is of another project or version.
    """
    wheel = build_wheel(source, house, index_url=index_url, error=FetchError)
    try:
        built_name, built_version, _, _ = parse_wheel_filename(wheel.name)
        if is_sdist(source):
            name, version = parse_sdist_filename(source.name)
            same = (built_name, built_version) == (name, version)
        else:
            same = name is None or built_name == canonicalize_name(name)
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        same = False
    if not same:
        wheel.unlink(missing_ok=True)
        raise FetchError(f"{what}: the wheel built from {source.name} is {wheel.name}, another "
                         "project or version; refused")
    return wheel


def _given(spec: str, work: Path, house: Path, *, index_url: str | None,
           on_step: Callable[[str], None] = lambda _: None) -> tuple[str, _Built] | None:
    """A spec naming an sdist or a project directory (a path, or a ``name @ URL`` to an
    archive over HTTP(S) or ``file:``) as a spec of the wheel built from it offline (the
    archive downloaded by siglink, its ``#sha256=`` checked), and where it came from; None
    for what only pip can fetch (a VCS URL, an editable)."""
    name: str | None = None
    requirement: Requirement | None = None
    if os.path.exists(spec):
        source, url, local = Path(spec).absolute(), Path(spec).absolute().as_uri(), True
    else:
        try:
            requirement = Requirement(spec)
        except InvalidRequirement:
            return None
        if requirement.url is None:
            return None
        name, url = requirement.name, requirement.url
        parts = urlsplit(url)
        target = _simple.file_path(url)
        if target is not None and target.exists():
            source, local = target, True
        elif parts.scheme in ("http", "https") and is_sdist(Path(parts.path)):
            try:
                source, _ = _simple.download(
                    _with_credentials(url, index_url),
                    Path(tempfile.mkdtemp(prefix="sdist-", dir=work)), BUILD_LIMITS.output_bytes)
            except _simple.HashMismatchError as e:
                raise FetchError(f"{spec}: {e}") from None
            except (OSError, ValueError) as e:
                raise FetchError(f"{_simple.shown(spec)}: cannot be downloaded "
                                 f"({_one_line(e)})") from None
            local = False
        else:
            return None
    if not source.is_dir() and not is_sdist(source):
        raise BadInputError(f"{spec}: not a wheel, an sdist or a project directory", path=spec)
    digest = None if source.is_dir() else _digest(source)
    on_step(f"building {_simple.shown(spec)}")
    wheel = _built(_simple.shown(spec), source, house, index_url=index_url, name=name)
    origin = _Built(wheel, _simple.shown(url.partition("#")[0]),
                    source if local else None, digest)
    if requirement is None:
        return str(wheel), origin
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    marker = f" ; {requirement.marker}" if requirement.marker is not None else ""
    return f"{requirement.name}{extras} @ {wheel.absolute().as_uri()}{marker}", origin


def _only_pip(wanted: Sequence[str]) -> bool:
    """What only pip can fetch, by preparing it (a VCS URL, an editable, a direct URL to an
    sdist in a wheel's metadata): True when the user lets pip run its
    build code with their rights (``$SIGLINK_ALLOW_UNSANDBOXED_BUILD=1``); else refused."""
    if os.environ.get(UNSANDBOXED) == "1":
        return True
    if bwrap() is None:
        raise FetchError(_sdist_refused(wanted, "bubblewrap (bwrap) is not installed"))
    raise FetchError(
        f"{', '.join(wanted)}: not fetched: only pip can fetch it (a VCS URL, an editable, "
        "or a direct URL to an sdist in a wheel's metadata), and pip would run its build code "
        "with the network and your index credentials to read its metadata; build a wheel of "
        f"it and give that, or set {UNSANDBOXED}=1 to let pip run it with your rights")


def _not_by_name(options: Sequence[str]) -> list[str]:
    """What in ``options`` (specs, ``-r``/``-c`` files, the requirements of local wheels) pip
    would take from a URL, a VCS or a path other than a wheel, and so prepare by running its
    build code whatever ``--only-binary`` says."""
    found: list[str] = []
    pending = list(options)
    seen: set[str] = set()
    while pending:
        item = pending.pop(0)
        if item in ("-r", "-c", "--no-deps") or item in seen:
            continue
        seen.add(item)
        path = Path(item)
        if path.name.endswith(".whl") and path.is_file():
            from siglink.store.wheel import validate

            try:
                pending += [r for r in validate(path).requires if "@" in r]
            except SiglinkError:
                continue
        elif path.is_file() and not is_sdist(path):
            try:
                lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                continue
            for line in lines:
                text = line.split(" #", 1)[0].split(" --", 1)[0].strip().rstrip("\\").strip()
                if text.startswith(("-r", "-c", "--requirement", "--constraint")):
                    nested = text.split(None, 1)[-1].strip() if " " in text else text[2:]
                    pending.append(str(path.parent / nested))
                elif text and not text.startswith("#") and (
                    text.startswith(("-e", "--editable")) or not text.startswith("-")
                ) and _by_url(text):
                    found.append(text)
        elif _by_url(item):
            found.append(item)
    return found


def _by_url(text: str) -> bool:
    """A requirement line that is not a plain ``NAME[extras] SPEC; marker``, or names a URL
    that is not a wheel."""
    try:
        requirement = Requirement(text)
    except InvalidRequirement:  # a URL, a path, an editable; else pip says what is wrong
        return text.startswith(("-e", "--editable", ".")) or "/" in text or "\\" in text \
            or text.endswith(_SDIST_SUFFIXES)
    return requirement.url is not None and not urlsplit(requirement.url).path.endswith(".whl")


def yanked_on_index(
    pairs: Sequence[tuple[str, str]], *, index_url: str | None = None,
) -> tuple[dict[tuple[str, str], str], set[tuple[str, str]]]:
    """Which of ``pairs`` (``(name, version)``) the index marks yanked (PEP 592: every file of
    the release carries ``data-yanked``), with the reason it gives (``yanked on the index``
    when none); and the pairs of which the index has no file. The project pages are read by
    siglink's own client from the indexes and ``find-links`` locations pip would read: no
    pip, and no code of any release runs. Keys are ``(normalized name, version as given)``.

    :raises FetchError: no page of a project could be read (the index cannot be reached).
    """
    settings = _pip_settings("download")
    yanked: dict[tuple[str, str], str] = {}
    absent: set[tuple[str, str]] = set()
    wanted: dict[str, list[str]] = {}
    for name, version in pairs:
        wanted.setdefault(canonicalize_name(name), []).append(version)
    for name, versions in wanted.items():
        links, unread = _simple.project_links(_indexes(index_url, name, settings))
        if unread and not links:
            raise FetchError(f"{name}: cannot be fetched from the package index: it cannot be "
                             f"read ({unread[0]})")
        releases: dict[Version, list[str | None]] = {}
        for link in links:
            try:
                if link.filename.endswith(".whl"):
                    project, release, _, _ = parse_wheel_filename(link.filename)
                else:
                    project, release = parse_sdist_filename(link.filename)
            except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
                continue
            if project == name:
                releases.setdefault(release, []).append(link.yanked)
        for given in versions:
            try:
                files = releases.get(Version(given), [])
            except InvalidVersion:
                files = []
            if not files:
                absent.add((name, given))
            elif all(reason is not None for reason in files):
                yanked[(name, given)] = next((r for r in files if r), "yanked on the index")
    return yanked, absent
