"""Turn an install spec into a wheel file, with pip doing the fetching and the building.

- a requirement (``NAME==VERSION``) is downloaded with ``pip download --no-deps
  --only-binary=:all:`` from the configured package index (``--index-url`` passes through, so
  any PyPI-compatible index can serve a fleet); a release the index has only as an sdist is
  found on the index (PEP 503) and downloaded by siglink itself, not pip (``pip download``
  prepares an sdist's metadata: it would run its build code with the network and the user's
  index credentials), then built into a wheel in the offline sandbox;
- a project directory or an sdist file is built with ``pip wheel --no-deps`` inside the
  sandbox of :mod:`siglink._sandbox` (:func:`build_wheel`): a build backend is the project's
  own code. The sandbox has no network: pip builds with ``--no-index`` from a wheelhouse that
  siglink fills, outside, with ``pip download --only-binary=:all:`` of each build requirement
  pip reports missing (downloading a wheel runs nothing), one round per requirement;
- a dependency closure is resolved by pip's own resolver (:func:`resolve`: ``pip install
  --dry-run --ignore-installed --report``, so ``-r``/``-c`` files, extras, markers and the
  configured index are read exactly as pip reads them), wheels only first (preparing a wheel's
  metadata runs nothing); only when some requirement has no wheel for this interpreter is it
  resolved again inside the networked sandbox, whose report is then checked as hostile input.
  Its artifacts are fetched with ``pip download --no-deps`` of the exact URLs the report
  names, hashes checked (:func:`download`), sdists inside the networked sandbox.

Without a sandbox an sdist-only requirement is refused, unless
``$SIGLINK_ALLOW_UNSANDBOXED_BUILD`` is ``1``.

A failed build is reported by its cause: the compiler's or build backend's error lines, not
pip's last line (:func:`pip_reason`). Nothing here touches the store: results land in a
temporary directory the caller owns.

>>> failed = subprocess.CompletedProcess([], 1, "", "ERROR: No matching distribution for x\\n")
>>> pip_reason(failed)
'No matching distribution for x'
"""

from __future__ import annotations

import ast
import base64
import hashlib
import html
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Final
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import InvalidSdistFilename, canonicalize_name, parse_sdist_filename
from packaging.version import InvalidVersion, Version

from siglink._sandbox import Limits, Outcome, SandboxUnavailableError, bwrap
from siglink._sandbox import run as sandbox_run
from siglink._text import bad_char, decode
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
    result, wanted = _wheels_only([*args, "--dest", str(download), requirement])
    if wanted:
        download = Path(tempfile.mkdtemp(prefix="sdist-", dir=dest))
        if not _unsandboxed(wanted):  # found and downloaded here: pip would run its code
            sdist = _sdist_from_index(requirement, download, index_url=index_url)
            built = dest / "built"
            built.mkdir(exist_ok=True)
            return build_wheel(sdist, built, index_url=index_url, error=FetchError)
        result = _pip([*args, "--dest", str(download), requirement], may_build=True)
    found = [p for p in _artifacts(download) if stat.S_ISREG(p.lstat().st_mode)
             and (not wanted or is_sdist(p))]  # the sandbox wrote it: only what it was to get
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


_PAGE_BYTES: Final = 64 << 20


class _Links(HTMLParser):
    """The ``<a>`` elements of a PEP 503 project page (their attributes) and its ``<base>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[dict[str, str | None]] = []
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links.append(dict(attrs))
        elif tag == "base" and self.base is None:
            self.base = dict(attrs).get("href")


def _open(url: str, limit: int) -> bytes:
    """The body at ``url`` (``file:``, ``http(s):``; the URL's userinfo sent as basic
    authentication, never in the request line), at most ``limit`` bytes."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        path = _file_path(url)
        if path is not None and path.is_dir():
            path = path / "index.html"
        with open(path or "", "rb") as f:
            data = f.read(limit + 1)
    elif parts.scheme in ("http", "https"):
        host = parts.hostname or ""
        netloc = (f"[{host}]" if ":" in host else host) + (
            f":{parts.port}" if parts.port else "")
        request = urllib.request.Request(
            urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")),
            headers={"Accept": "text/html", "User-Agent": "siglink"})
        if parts.username is not None:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            token = base64.b64encode(pair.encode()).decode("ascii")
            request.add_unredirected_header("Authorization", f"Basic {token}")  # not redirected
        with urllib.request.urlopen(request, timeout=60) as response:
            data = response.read(limit + 1)
    else:
        raise OSError(f"unsupported URL scheme {parts.scheme!r}")
    if len(data) > limit:
        raise OSError(f"larger than {limit} bytes")
    return data


def _shown(url: str) -> str:
    """``url`` without its userinfo (credentials never reach a message)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _indexes(index_url: str | None, name: str) -> list[str]:
    """The pages pip would read for project ``name``: that of ``index_url``, else of the
    user's configured index, else PyPI's (none with ``no-index``), of each extra index, and
    each ``find-links`` location (a page, or a folder: its file names are its links)."""
    settings = _pip_settings("download")
    indexes = [index_url] if index_url else settings.get(
        "index-url", "https://pypi.org/simple").split()[:1]
    indexes += settings.get("extra-index-url", "").split()
    if settings.get("no-index", "").lower() in ("1", "true", "yes", "on"):
        indexes = []
    pages = [entry.rstrip("/") + f"/{name}/" for entry in indexes]
    pages += settings.get("find-links", "").split()
    return [page if "://" in page else Path(page).absolute().as_uri() for page in pages]


def _sdist_from_index(requirement: str, dest: Path, *, index_url: str | None) -> Path:
    """Find the sdist of ``requirement`` on the index (PEP 503: the project's page, the
    newest version the requirement allows, ``data-yanked`` only when pinned with ``==``,
    ``data-requires-python`` honoured) or at its direct URL, and download it into ``dest``,
    its ``#sha256=`` checked. No code of it runs; no pip is involved.

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
    for page in [] if wanted.url is not None else _indexes(index_url, name):
        folder, where = _file_path(page), page
        try:
            if folder is not None and folder.is_dir() and not (folder / "index.html").exists():
                text = "".join(f'<a href="{html.escape(p.name)}"></a>'
                               for p in sorted(folder.iterdir()))
                where = folder.as_uri() + "/"
            else:
                text = _open(page, _PAGE_BYTES).decode("utf-8", "replace")
        except FileNotFoundError:
            continue  # this index does not have the project
        except urllib.error.HTTPError as e:
            if e.code != 404:
                unread.append(f"{_shown(page)}: HTTP {e.code}")
            continue
        except (OSError, ValueError) as e:  # as pip: another index may have it
            unread.append(f"{_shown(page)}: {_one_line(e)}")
            continue
        parser = _Links()
        parser.feed(text)
        base = urljoin(where, parser.base or "")
        for link in parser.links:
            url = urljoin(base, link.get("href") or "")
            if urlsplit(url).scheme not in ("http", "https", urlsplit(page).scheme):
                continue  # a remote page may not name a local file
            try:
                project, version = parse_sdist_filename(
                    unquote(urlsplit(url).path.rsplit("/", 1)[-1]))
            except (InvalidSdistFilename, InvalidVersion):
                continue
            if project != name or not wanted.specifier.contains(version, prereleases=True):
                continue
            if "data-yanked" in link and not pinned:
                continue
            needs = link.get("data-requires-python")
            try:
                if needs and not SpecifierSet(needs).contains(here, prereleases=True):
                    continue
            except InvalidSpecifier:
                continue
            found.append((version, url))
    if not found:
        raise FetchError(f"{requirement}: cannot be fetched from the package index: " + (
            f"it cannot be read ({unread[0]})" if unread
            else "it has no sdist of it for this interpreter"))
    url = max(found, key=lambda c: c[0])[1]
    location, _, fragment = url.partition("#")
    filename = unquote(urlsplit(location).path.rsplit("/", 1)[-1])
    if not is_sdist(Path(filename)) or "/" in filename or "\0" in filename or filename in (
            "", ".", ".."):
        raise FetchError(f"{requirement}: {_shown(location)} names no sdist")
    try:
        data = _open(location, BUILD_LIMITS.output_bytes)
    except (OSError, ValueError) as e:
        raise FetchError(f"{requirement}: {_shown(location)} cannot be downloaded "
                         f"({_one_line(e)})") from None
    expected = re.fullmatch(r"sha256=([0-9a-fA-F]{64})", fragment)
    if expected and hashlib.sha256(data).hexdigest() != expected.group(1).lower():
        raise FetchError(f"{requirement}: {filename} does not have the sha256 the index gave; "
                         "refused")
    path = dest / filename
    path.write_bytes(data)
    return path


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
    options = ["--no-deps"] if no_deps else []
    for file in requirement_files:
        options += ["-r", os.path.abspath(file)]
    for file in constraint_files:
        options += ["-c", os.path.abspath(file)]
    options += specs
    inputs = [Path(os.path.abspath(f)) for f in [*requirement_files, *constraint_files]]
    inputs += [Path(os.path.abspath(s)) for s in specs if os.path.isfile(s)]
    result, inside = _dry_run(options, inputs, report, index_url=index_url)
    what = " ".join([*specs, *(f"-r {f}" for f in requirement_files)]) or "the requirements"
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
            path = _file_path(url)
            if inside is not None and path is not None:
                # a report written in the sandbox: a local file must be one siglink bound
                host = _outside(path, inside)
                if host is None:
                    raise FetchError(f"{what}: the sandboxed resolution named a local file "
                                     f"siglink did not give it ({path}); refused")
                path, url = host, host.as_uri()
            hashes = info.get("archive_info", {}).get("hashes", {}) or {}
            out.append(Resolved(
                name=canonicalize_name(str(metadata.get("name", ""))),
                version=str(metadata.get("version", "")),
                url=url,
                path=path,
                sha256=_sha256(hashes.get("sha256")),
                requested=bool(item.get("requested")),
                extras=tuple(str(e) for e in item.get("requested_extras") or ()),
                requires=tuple(str(r) for r in metadata.get("requires_dist") or ()),
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
    if not remote:
        return found
    dest.mkdir(parents=True, exist_ok=True)
    wheels = [(i, u) for i, u in remote if _wheel_url(u)]
    sdists = [(i, u) for i, u in remote if not _wheel_url(u)]  # or anything else pip prepares
    args = ["download", "--no-deps", "--progress-bar", "off", *_index_args(index_url)]
    for batch in (wheels, sdists):
        if not batch:
            continue
        names = [str(item) for item, _ in batch]
        folder = dest
        if batch is wheels:  # downloading a wheel runs nothing
            result = _pip([*args, "--dest", str(dest), *(url for _, url in batch)])
        else:  # pip prepares an sdist's metadata: its build code runs
            folder = Path(tempfile.mkdtemp(prefix="sdists-", dir=dest))
            if _unsandboxed(names):
                result = _pip([*args, "--dest", str(folder), *(url for _, url in batch)],
                              may_build=True)
            else:
                result = _networked_pip([*args, "--dest", "/siglink/out",
                                         *(url for _, url in batch)], names,
                                        writable=[(folder, "/siglink/out")],
                                        index_url=index_url)
        if result.returncode != 0:
            raise FetchError(f"{', '.join(names)}: cannot be downloaded: {pip_reason(result)}")
        for item, url in batch:
            path = folder / unquote(urlsplit(url).path.rsplit("/", 1)[-1])
            if not path.is_file() or not stat.S_ISREG(path.lstat().st_mode):
                raise FetchError(f"{item}: pip downloaded no {path.name}")
            if item.sha256 is not None and _digest(path) != item.sha256:
                raise FetchError(f"{item}: {path.name} does not have the sha256 the index "
                                 "gave; refused")
            found[str(item)] = path
    return found


def _wheel_url(url: str) -> bool:
    """A wheel over HTTP(S) (a report written in the sandbox may name anything, a VCS URL
    included: only such a URL is downloaded outside it)."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.path.endswith(".whl")


def _digest(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


_NO_SOURCES: Final = re.compile(r"Skipping link: No sources permitted for ([^:\s]+):")


def _wheels_only(
    args: list[str], run: Callable[[list[str]], subprocess.CompletedProcess[str]] = _pip,
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """``pip ARGS --only-binary=:all:`` (reading a wheel's metadata runs nothing), and the
    requirements it could not meet because the index has only sdists of them: when it fails
    for want of a distribution, once more with ``-vv`` to read why (pip says so only in its
    debug output, about a megabyte for a dozen projects, so not on the way that succeeds).
    A requirement whose build code the guarded pip (:data:`_GUARDED_PIP`) was stopped from
    running counts as such a requirement."""
    result = run([*args, "--only-binary=:all:"])
    stopped = _would_build(result)
    if stopped is not None:  # a direct URL or VCS requirement: its build code would run
        return result, [stopped]
    if result.returncode == 0 or not _MISSING.search(result.stdout + "\n" + result.stderr):
        return result, []
    return result, _sdist_only(run([*args, "--only-binary=:all:", "-vv"]))


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


_INDEX_SETTINGS: Final = ("index-url", "extra-index-url", "find-links", "no-index",
                          "trusted-host", "proxy", "cert", "constraint", "default-timeout",
                          "retries")
_LOCATIONS: Final = ("index-url", "extra-index-url", "find-links")  # URLs or local folders
_FILES: Final = ("cert", "constraint")
_PROXIES: Final = ("http_proxy", "https_proxy", "no_proxy", "all_proxy")


def _pip_settings(command: str) -> dict[str, str]:
    """The user's pip settings that select and reach the index (``pip config list``:
    environment, then ``command``'s section, then ``global``)."""
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


def _index_env(command: str) -> tuple[dict[str, str], list[tuple[Path, str]]]:
    """The settings of the user's pip that select and reach the index, read outside (``pip
    config list``: environment, then ``command``'s section, then ``global``), as environment
    variables for a sandboxed pip, with the local folders and files they name (a local index,
    ``find-links`` folders, a certificate bundle, a constraints file) bound read-only."""
    env: dict[str, str] = {}
    binds: list[tuple[Path, str]] = []
    for name, chosen in _pip_settings(command).items():
        values = []
        for entry in chosen.split():
            local = _file_path(entry) if entry.startswith("file:") else (
                None if "://" in entry else Path(entry))
            if local is None:
                values.append(entry)  # a URL, a host name, a number
            elif (name in _LOCATIONS and local.is_dir()) or (name in _FILES and local.is_file()):
                local, target = local.absolute(), f"/siglink/config/{len(binds)}"
                if name in ("index-url", "extra-index-url"):  # its pages link to ../../files
                    binds.append((local.parent, target))
                    target = f"{target}/{local.name}"
                else:
                    binds.append((local, target))
                values.append(Path(target).as_uri() if entry.startswith("file:") else target)
        if values:
            env["PIP_" + name.upper().replace("-", "_")] = " ".join(values)
    for name in _PROXIES:
        for variant in (name, name.upper()):
            if variant in os.environ:
                env[variant] = os.environ[variant]
    return env, binds


NETWORK_LIMITS: Final = BUILD_LIMITS
"""What one sandboxed pip with network may use: as a build."""


def _networked_pip(
    args: list[str], wanted: Sequence[str], *, binds: Sequence[tuple[Path, str]] = (),
    writable: Sequence[tuple[Path, str]], index_url: str | None,
    config: tuple[dict[str, str], list[tuple[Path, str]]] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``pip ARGS`` inside the sandbox with the network shared (pip needs the index), as a
    build otherwise: uid 65534, read-only root, private ``/tmp`` and ``HOME``, ``writable`` the
    only writable binds, limits, the process group killed. The user's index settings are
    passed explicitly (:func:`_index_env`). ``wanted`` names the sdist-only requirements, for
    messages; ``config`` is :func:`_index_env`'s answer when the caller has it.

    :raises FetchError: no sandbox can run (the requirement is refused), or it timed out.
    """
    env, config_binds = config or _index_env(args[0])
    env = dict(env)
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1",
               PIP_NO_CACHE_DIR="1", PIP_NO_INPUT="1", PYTHONWARNINGS="ignore")
    if index_url:
        env.pop("PIP_INDEX_URL", None)
    if "PIP_NO_BUILD_ISOLATION" in os.environ:  # the user's choice of pip's build isolation
        env["PIP_NO_BUILD_ISOLATION"] = os.environ["PIP_NO_BUILD_ISOLATION"]
    inside, index_binds = _local_index(index_url)
    if inside is not None and "--index-url" in args[:-1]:
        at = args.index("--index-url") + 1
        args = [*args[:at], inside, *args[at + 1:]]
    argv = [sys.executable, "-m", "pip", *args]
    try:
        outcome = sandbox_run(argv, binds=[*config_binds, *index_binds, *binds],
                              writable=writable, env=env,
                              limits=NETWORK_LIMITS, network=True)
    except SandboxUnavailableError as e:
        if not wanted:  # a resolution of wheels that asked for the sandbox: the caller's call
            raise
        raise FetchError(_sdist_refused(wanted, e.reason)) from None
    if outcome.timed_out:
        raise FetchError(f"{', '.join(wanted) or 'the resolution'}: pip ran longer than "
                         f"{NETWORK_LIMITS.wall_seconds:g} s in the sandbox; stopped")
    return _completed(argv, outcome)


def _local_index(index_url: str | None) -> tuple[str | None, list[tuple[Path, str]]]:
    """A local ``--index-url`` (a folder or a ``file:`` URL) as the sandbox sees it, and its
    bind (the folder's parent, read-only: its pages link ``../../files``)."""
    if not index_url:
        return None, []
    local = _file_path(index_url) if index_url.startswith("file:") else (
        None if "://" in index_url else Path(index_url))
    if local is None or not local.is_dir():
        return None, []
    local = local.absolute()
    target = f"/siglink/index/{local.name}"
    return (Path(target).as_uri() if index_url.startswith("file:") else target,
            [(local.parent, "/siglink/index")])


def _dry_run(
    options: list[str], inputs: Sequence[Path], report: Path, *, index_url: str | None,
) -> tuple[subprocess.CompletedProcess[str], list[tuple[Path, str]] | None]:
    """``pip install --dry-run --ignore-installed --report REPORT OPTIONS``: wheels only
    first; when some requirement has only an sdist, again without that restriction. Every run
    that follows dependencies is inside the networked sandbox when one can run: a wheel from
    the index may itself require a direct URL (``dep @ https://.../dep.tar.gz``), which pip
    prepares (runs its build code) whatever ``--only-binary`` says. ``inputs`` (local files
    named in ``options``) are bound read-only. Returns pip's result and, for a sandboxed run,
    its binds (host path, where pip saw it), to map the local paths of its report back (that
    report is then hostile input)."""
    base = ["install", "--dry-run", "--ignore-installed", "--progress-bar", "off",
            *_index_args(index_url)]
    wanted = _not_by_name(options)
    sandboxed = _SandboxedResolution(inputs, report, index_url)
    if not wanted and ("--no-deps" in options or bwrap() is None):
        # only what is named is read, or no sandbox: wheels only, outside (no build code runs
        # for a wheel; a direct URL a wheel requires, which pip would prepare, stops the guard)
        first, wanted = _wheels_only([*base, "--report", str(report), *options])
        if not wanted:
            return first, None
    elif not wanted:
        try:
            first, wanted = _wheels_only([*base, *sandboxed.options(options)], run=sandboxed.pip)
        except SandboxUnavailableError:  # bwrap is installed but cannot run here
            first, wanted = _wheels_only([*base, "--report", str(report), *options])
            if not wanted:
                return first, None
        else:
            if not wanted:
                return sandboxed.finish(first)
    if _unsandboxed(wanted):
        return _pip([*base, "--report", str(report), *options], may_build=True), None
    return sandboxed.finish(sandboxed.pip([*base, *sandboxed.options(options)], wanted))


class _SandboxedResolution:
    """One resolution run by pip in the networked sandbox: the local files it reads bound
    read-only, its report written to a private folder and moved to ``report`` afterwards."""

    _REPORT: Final = "/siglink/report/report.json"

    def __init__(self, inputs: Sequence[Path], report: Path, index_url: str | None) -> None:
        self.report = report
        self.index_url = index_url
        self.inside: dict[str, str] = {}
        self.binds: list[tuple[Path, str]] = []
        for number, path in enumerate(dict.fromkeys(inputs)):
            self.inside[str(path)] = f"/siglink/in/{number}/{path.name}"
            self.binds.append((path, self.inside[str(path)]))
        self._config: tuple[dict[str, str], list[tuple[Path, str]]] | None = None
        self._out: Path | None = None

    def options(self, options: Sequence[str]) -> list[str]:
        """``--report`` and ``options`` as pip sees them inside."""
        return ["--report", self._REPORT, *(self.inside.get(o, o) for o in options)]

    def pip(self, args: list[str], wanted: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
        """``pip ARGS`` inside; its messages name the files as the user gave them.

        :raises SandboxUnavailableError: no sandbox runs and ``wanted`` is empty.
        """
        if self._config is None:
            self._config = _index_env("install")
        if self._out is None:
            self._out = Path(tempfile.mkdtemp(prefix="sandboxed-", dir=self.report.parent))
        result = _networked_pip(args, wanted, binds=self.binds,
                                writable=[(self._out, "/siglink/report")],
                                index_url=self.index_url, config=self._config)
        for host, target in self.binds:
            result.stdout = result.stdout.replace(target, str(host))
            result.stderr = result.stderr.replace(target, str(host))
        return result

    def finish(self, result: subprocess.CompletedProcess[str],
               ) -> tuple[subprocess.CompletedProcess[str], list[tuple[Path, str]]]:
        """``result`` and the binds, the report moved to where the caller reads it."""
        self.report.unlink(missing_ok=True)
        written = None if self._out is None else self._out / "report.json"
        if (result.returncode == 0 and written is not None and not written.is_symlink()
                and written.is_file()):
            shutil.move(written, self.report)
        return result, [*self.binds, *(self._config[1] if self._config else []),
                        *_local_index(self.index_url)[1]]


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


def _outside(path: Path, binds: Sequence[tuple[Path, str]]) -> Path | None:
    """The host path of ``path`` as the sandbox saw it, if it lies in one of ``binds``."""
    seen = Path(os.path.normpath(path))
    for host, target in binds:
        if seen == Path(target):
            return host
        if seen.is_relative_to(target) and host.is_dir():
            return host / seen.relative_to(target)
    return None


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
            result, _ = _dry_run(["--no-deps", *(f"{n}=={v}" for n, v in todo)], [],
                                 report, index_url=index_url)
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
