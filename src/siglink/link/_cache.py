"""The link-plan cache: where plans live, what they record, and when one may be used.

Standard library only and cheap to import: the warm bootstrap (:mod:`siglink.link.warm`) reads
a plan with these functions before anything else of siglink is loaded; the cold path writes
plans with :mod:`siglink.link._record`. ``json`` and ``marshal``
are imported inside the functions that need them; hashing uses the builtin ``_sha256`` (no
OpenSSL).

**Where.** The owner of a store keeps its plans in ``ROOT/plans`` and the child-interpreter
bootstrap in ``ROOT/bootstrap``; anyone else (a shared, root-owned store) keeps both in their own
cache, ``$XDG_CACHE_HOME/siglink/plans/<hash of ROOT>/`` and ``.../bootstrap`` (else
``~/.cache``), so every user gets warm starts from a store they cannot write. A plan directory
is mode 0700 and its files 0600 in both places (:data:`PLAN_MODES`): a plan is its owner's alone.

**Key.** A plan file ``PLANS/<key>.warm`` is keyed by what the user *asked for* (the
application's manifest path, the ``--policy`` given or ``""``, ``$SIGLINK_POLICY``, and the
flags ``pre``, ``allow-yanked``, ``environment``). ``<key>.json`` beside it is the same record
for people and tools; only the ``.warm`` file is ever read back.

**Authenticity.** The ``.warm`` file is ``HMAC-SHA256(key, body) + body``, ``body`` the record
in :mod:`marshal` form, with a 32-byte key in ``PLANS/.key`` that only the plan's owner can read
(mode 0600, made on first use). A file whose MAC does not verify, or whose record is not exactly
the shape below, is stale: the cold path recomputes it. Plan directories, plan files, the key
and the bootstrap must belong to this user (or root) and be writable by nobody else; the store
and ``libs/`` must be writable by nobody but their owner: otherwise nothing cached is used and
the cold path refuses with a message (:func:`trust_problem`).

**Validity** (:func:`read_valid_plan`). Everything the plan depends on is recorded inside it and
checked on every read: the generations of the libraries it linked or examined, and of the set of
libraries when it asked which library provides a module (see :func:`read_generations`; ``{"*": -1}``
when unknown: then only the global generation it was made at), the manifest's size and mtime, the
application's ``pyproject.toml`` (it may set the policy), the interpreter, siglink's version, the
app's own source files (size and mtime: any change sends ``run`` to the cold path, which compares
their sha256 with the manifest's), how it is started (the same script or module as the application
asked for), and with ``environment`` the site-packages directories' mtimes. Each linked directory
must lie under ``ROOT/libs`` after resolving symbolic links (``libs/NAME/VERSION``), and must not be
yanked (a ``.yanked`` marker the store writes into the version's directory) unless the request
allows it.

**The script's bytecode.** A script application's plan carries its code object (``code``):
compiled by the planner as ``python SCRIPT`` compiles it, with the sha256 of the source it came
from and the optimization level. The warm path reads the script (as python does) and runs the
cached code only when the source's digest and the level are the same, else compiles it; so a
warm start skips the compiler, whose first use in a process costs more than a small script's
whole run (it builds the ``ast`` node types). The code is exactly as trusted as the plan that
names the script: authenticated with it, by the same key.

Record shape (``format`` 3)::

    {"format": 3, "generation": 7, "generations": {"*": 7, NAME: GEN, ...},
     "siglink": "0.1.0", "flags": "pre,allow-yanked",
     "python": {"executable": ..., "prefix": ..., "version": ...},
     "manifest": {"path": ..., "size": ..., "mtime_ns": ...},
     "pyproject": {"path": ..., "size": ..., "mtime_ns": ...} | None,
     "environment": [[site_dir, mtime_ns], ...] | None,
     "policy": "signature", "entry": "script:app.py" | None,
     "run": {"kind": "path" | "module" | "func", "target": ..., "path0": ...},
     "sources": [{"path", "size", "mtime_ns"}, ...],  # the app's own files that were read
     "links": {NAME: {"version", "path", "dist_info", "top_level": [...], "source"}},
     "warnings": [...],
     "code": {"path": SCRIPT, "sha256": DIGEST, "optimize": 0, "data": MARSHALLED} | None}
"""

from __future__ import annotations

import os
import sys

from siglink._layout import YANK_MARKER, StoreLayout, is_store, read_regular, untrusted
from siglink._layout import read_generations as _read_generations
from siglink.link.app import POLICIES, Application, app_manifest_path

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: this module is on the warm path
    from collections.abc import Callable
    from typing import Any

    from siglink.link.app import PlanRequest

    Record = dict[str, Any]

__all__ = [
    "FORMAT",
    "PLAN_MODES",
    "YANK_MARKER",
    "app_manifest_path",
    "bootstrap_dir",
    "environment_fingerprint",
    "links_untrusted",
    "mac",
    "make_dirs",
    "modes_for",
    "plan_dir",
    "plan_file",
    "plan_key",
    "read_generation",
    "read_generations",
    "read_plan",
    "read_valid_plan",
    "sha256_digest",
    "trust_problem",
    "unusable_links",
    "wait_for_planner",
]

FORMAT = 3

"""The file the store writes into ``libs/NAME/VERSION/`` when it yanks that version (and
removes on unyank), so that the warm path sees a yank with one ``stat``."""


def __dir__() -> list[str]:
    return list(__all__)


# -- where ------------------------------------------------------------------------------------


def _owns(path: str) -> bool:
    """Whether this user owns ``path``; a path that does not exist yet will be this user's."""
    try:
        return os.stat(path).st_uid == os.getuid()
    except OSError:
        return True


def _user_cache() -> str:
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return os.path.join(xdg, "siglink")
    home = os.path.expanduser("~")
    if home != "~":
        return os.path.join(home, ".cache", "siglink")
    import tempfile

    return os.path.join(tempfile.gettempdir(), f"siglink-{os.getuid()}")


PLAN_MODES = (0o700, 0o600)
"""The modes of a plan directory and of the plans, key and locks in it, wherever it lies (the
store owner's ``ROOT/plans`` too): a script's plan carries its compiled code, constants and
secrets included, and nobody else reads another user's plans (they keep their own)."""


def modes_for(directory: str) -> tuple[int, int]:
    """The modes of the directories and files siglink makes at ``directory`` (the bootstrap,
    the parents of a plan directory): ``(0o700, 0o600)`` in this user's cache, else ``(0o755,
    0o644)``. Plans always get :data:`PLAN_MODES`."""
    cache = os.path.join(_user_cache(), "")
    if os.path.join(os.path.abspath(directory), "").startswith(cache):
        return 0o700, 0o600
    return 0o755, 0o644


def make_dirs(path: str, mode: int | None = None) -> None:
    """Make the directory ``path`` and each missing parent with exactly ``mode`` (default
    :func:`modes_for`), whatever the umask (``os.makedirs`` leaves the parents to the umask:
    0777 under ``umask 000``); directories that exist are left as they are."""
    if mode is None:
        mode = modes_for(path)[0]
    missing = []
    while not os.path.isdir(path):
        missing.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    for each in reversed(missing):
        try:
            os.mkdir(each, mode & 0o700)  # never more open than its final mode meanwhile
        except FileExistsError:
            if not os.path.isdir(each):
                raise
            continue  # made by another process meanwhile
        os.chmod(each, mode)


def plan_dir(root: str) -> str:
    """Where this user's plans for the store at ``root`` live: ``ROOT/plans`` for the store's
    owner, else ``<user cache>/siglink/plans/<hash of ROOT>``."""
    if _owns(root):
        return StoreLayout(root).plans
    return os.path.join(_user_cache(), "plans", _sha256_hex(os.path.abspath(root))[:16])


def bootstrap_dir(root: str) -> str:
    """Where this user's child-interpreter bootstrap for the store at ``root`` lives:
    ``ROOT/bootstrap`` for the store's owner, else ``<user cache>/siglink/bootstrap``."""
    if _owns(root):
        return StoreLayout(root).bootstrap
    return os.path.join(_user_cache(), "bootstrap")


def read_generation(root: str) -> int:
    """The store's global generation from ``ROOT/generation``; 0 for a store never changed,
    -1 when unreadable."""
    return read_generations(root)[0]


def read_generations(root: str) -> tuple[int, dict[str, int]]:
    """``ROOT/generation`` as :func:`siglink._layout.read_generations` reads it: the global
    generation and the generation of each library's last change (``*``: the last change to
    the set of libraries and their module names); a name absent changed at the global one."""
    return _read_generations(StoreLayout(root).generation)


def _sha256(data: bytes) -> Any:
    # _sha256 (3.11) / _sha2 (3.12+) are builtin and cost nothing to import; hashlib loads OpenSSL.
    try:
        from _sha256 import sha256  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        try:
            from _sha2 import sha256  # type: ignore[import-not-found, no-redef, unused-ignore]
        except ImportError:
            from hashlib import sha256  # type: ignore[assignment, unused-ignore]
    return sha256(data)


def sha256_digest(data: bytes) -> bytes:
    """The sha256 digest of ``data``, with the builtin module (no OpenSSL on the warm path)."""
    digest: bytes = _sha256(data).digest()
    return digest


def _sha256_hex(text: str) -> str:
    digest: str = _sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
    return digest


def mac(key: bytes, data: bytes) -> bytes:
    """HMAC-SHA256 (RFC 2104) over the builtin ``_sha256``, so that authenticating a plan does
    not load OpenSSL on the warm path.

    >>> mac(b"key", b"The quick brown fox jumps over the lazy dog").hex()[:16]
    'f7bc83f430538424'
    """
    if len(key) > 64:
        key = _sha256(key).digest()
    key = key.ljust(64, b"\0")
    number = int.from_bytes(key, "big")
    inner = _sha256((number ^ 0x36 * _ONES).to_bytes(64, "big") + data).digest()
    outer: bytes = _sha256((number ^ 0x5C * _ONES).to_bytes(64, "big") + inner).digest()
    return outer


_ONES = int.from_bytes(b"\x01" * 64, "big")


def plan_key(manifest_path: str, policy: str = "", flags: str = "") -> str:
    """The cache key of a request: the application's manifest path, the policy asked for on
    the command line (``""`` when not given), the flags and ``$SIGLINK_POLICY``."""
    key = "\0".join(
        (os.path.abspath(manifest_path), policy, flags, os.environ.get("SIGLINK_POLICY", "")))
    return _sha256_hex(key)[:32]


def plan_file(root: str, manifest_path: str, policy: str = "", flags: str = "") -> str:
    """``PLANS/<key>.json`` for a request (see :func:`plan_key`; ``PLANS`` is
    :func:`plan_dir`): the readable copy; the warm path reads ``<key>.warm`` beside it."""
    return os.path.join(plan_dir(root), plan_key(manifest_path, policy, flags) + ".json")


def _sidecar(path: str) -> str:
    return (path[:-5] if path.endswith(".json") else path) + ".warm"


# -- trust ------------------------------------------------------------------------------------


def _loose(path: str, *, mine: bool) -> str | None:
    """Why ``path`` cannot be trusted (:func:`siglink._layout.untrusted`: writable by group or
    others, another user's for root; and with ``mine``, owned by someone other than this user
    or root); None when it can or does not exist."""
    problem = untrusted(path)
    if problem is not None or not mine:
        return problem
    try:
        owner = os.stat(path).st_uid
    except OSError:
        return None
    if owner not in (os.getuid(), 0):
        return f"{path}: owned by uid {owner}, not by this user; refused"
    return None


def trust_problem(root: str, plans: str | None = None, boot: str | None = None) -> str | None:
    """Why the store at ``root``, this user's plan directory ``plans`` or bootstrap ``boot``
    must not be used (writable by someone other than its owner and root; a plan directory or
    bootstrap of another user), as one line; None when they can."""
    layout = StoreLayout(root)
    checks: list[tuple[str, bool]] = [(root, False), (layout.libs, False)]
    if plans is not None:
        checks += [(plans, True), (os.path.join(plans, _KEY), True)]
    if boot is not None:
        checks += [(boot, True), (os.path.join(boot, "sitecustomize.py"), True),
                   (os.path.join(boot, "__pycache__"), True)]
    for path, mine in checks:
        problem = _loose(path, mine=mine)
        if problem is not None:
            return problem
    return None


_KEY = ".key"


def _read_key(directory: str) -> bytes | None:
    """The plan key of ``directory``: 32 bytes from a file of this user's (or root's) that
    nobody else can read or write; None otherwise."""
    try:
        fd = os.open(os.path.join(directory, _KEY), os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if st.st_mode & 0o077 or st.st_uid not in (os.getuid(), 0):
            return None
        key = os.read(fd, 64)
    finally:
        os.close(fd)
    return key if len(key) == 32 else None


# -- reading and writing ----------------------------------------------------------------------


def read_plan(path: str) -> Record | None:
    """The plan record for ``path``, or None when absent, unreadable, not authenticated by
    this user's key or not a well-formed record of this :data:`FORMAT`."""
    directory = os.path.dirname(path)
    key = _read_key(directory)
    if key is None:
        return None
    try:
        fd = os.open(_sidecar(path), os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if st.st_mode & 0o022 or st.st_uid not in (os.getuid(), 0):
            return None
        blob = os.read(fd, st.st_size + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    from _operator import _compare_digest

    body = blob[32:]
    if len(blob) < 33 or not _compare_digest(blob[:32], mac(key, body)):
        return None
    import marshal

    try:
        data = marshal.loads(body)
    except (ValueError, EOFError, TypeError):
        return None
    return data if _well_formed(data) else None


def _is_str(value: object) -> bool:
    return type(value) is str


def _is_stat(value: object) -> bool:
    return (type(value) is dict and len(value) == 3 and _is_str(value.get("path"))
            and type(value.get("size")) is int and type(value.get("mtime_ns")) is int)


def _well_formed(data: object) -> bool:
    """Whether ``data`` has exactly the types of a record of this :data:`FORMAT` (see the
    module doc)."""
    if type(data) is not dict or data.get("format") != FORMAT:
        return False
    try:
        python, run, links = data["python"], data["run"], data["links"]
        generations = data["generations"]
        if not (type(data["generation"]) is int and type(generations) is dict
                and all(_is_str(k) and type(v) is int for k, v in generations.items())
                and _is_str(data["siglink"]) and _is_str(data["flags"])
                and type(python) is dict and _is_str(python.get("prefix"))
                and _is_str(python.get("version")) and _is_str(python.get("executable"))
                and _is_stat(data["manifest"])
                and (data["pyproject"] is None or _is_stat(data["pyproject"]))
                and data["policy"] in POLICIES
                and (data["entry"] is None or _is_str(data["entry"]))
                and type(run) is dict and run.get("kind") in ("path", "module", "func")
                and _is_str(run.get("target")) and _is_str(run.get("path0"))
                and type(data["sources"]) is list and all(map(_is_stat, data["sources"]))
                and type(data["warnings"]) is list and all(map(_is_str, data["warnings"]))
                and type(links) is dict):
            return False
        environment = data["environment"]
        if environment is not None and not (type(environment) is list and all(
                type(e) is list and len(e) == 2 and _is_str(e[0]) and type(e[1]) is int
                for e in environment)):
            return False
        for name, link in links.items():
            if not (_is_str(name) and type(link) is dict and _is_str(link.get("version"))
                    and _is_str(link.get("path")) and _is_str(link.get("dist_info"))
                    and link.get("source") in ("store", "environment")
                    and type(link.get("top_level")) is list
                    and all(_is_str(t) and t.isidentifier() for t in link["top_level"])):
                return False
        code = data["code"]
        if code is not None and not (
                type(code) is dict and len(code) == 4 and _is_str(code.get("path"))
                and type(code.get("sha256")) is bytes and type(code.get("optimize")) is int
                and type(code.get("data")) is bytes):
            return False
    except KeyError:
        return False
    return True


def _stat_record(path: str) -> Record | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return {"path": path, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _siglink_version() -> str:
    from siglink import __version__

    return __version__


def environment_fingerprint() -> list[list[Any]]:
    """``[[site_dir, mtime_ns], ...]`` of the interpreter's site-packages directories.

    Installing or removing a distribution adds or removes a ``*.dist-info`` directory, which
    changes its parent's mtime, so a plan that linked from the environment notices.
    """
    import site

    dirs = list(site.getsitepackages())
    user = site.getusersitepackages()
    if user:
        dirs.append(user)
    out = []
    for d in dirs:
        try:
            out.append([d, os.stat(d).st_mtime_ns])
        except OSError:
            continue
    return out


def _within(path: str, directory: str) -> bool:
    real = os.path.realpath(path)
    return real == directory or real.startswith(os.path.join(directory, ""))


def _links_allowed(data: Record, root: str, allow_yanked: bool) -> bool:
    """Every linked directory lies under ``ROOT/libs`` (symbolic links resolved) as
    ``NAME/VERSION``, is not yanked (unless allowed), and exists; environment links only in a
    plan that asked for the environment, under its site directories."""
    libs = os.path.realpath(StoreLayout(root).libs)
    sites = [os.path.realpath(d) for d, _ in data["environment"] or ()]
    for link in data["links"].values():
        path, info = link["path"], link["dist_info"]
        if link["source"] == "store":
            real = os.path.realpath(path)
            if os.path.dirname(os.path.dirname(real)) != libs or (
                    os.path.basename(real) != link["version"]):
                return False
            if info and not _within(info, real):
                return False
            if not allow_yanked and os.path.exists(os.path.join(real, YANK_MARKER)):
                return False
        elif not sites or not any(_within(path, s) for s in sites) or (
                info and not any(_within(info, s) for s in sites)):
            return False
        if not os.path.isdir(path) or (info and not os.path.isdir(info)):
            return False  # a damaged store: the cold path reports it
    return True


def links_untrusted(data: Record, root: str) -> str | None:
    """Why the store directories the plan ``data`` links must not be used, as one line: a
    ``libs/NAME``, ``libs/NAME/VERSION`` or ``.dist-info`` directory writable by group or
    others, or owned by someone other than the store's owner (the owner of ``ROOT/libs``) and
    root; None when none is. One ``os.stat`` per directory, none per file: whoever can write
    these directories can replace the files in them, whatever the files' own modes."""
    owner = -1
    for link in data["links"].values():
        if link["source"] != "store":
            continue
        if owner < 0:
            libs = StoreLayout(root).libs
            try:
                owner = os.stat(libs).st_uid
            except OSError as e:
                return f"{libs}: cannot be checked ({e.strerror or e}); refused"
        path = link["path"]
        for each in (os.path.dirname(path), path, link["dist_info"]):
            if not each:
                continue
            try:
                st = os.stat(each)
            except OSError as e:
                return f"{each}: cannot be checked ({e.strerror or e}); refused"
            writable = st.st_mode & 0o022
            if writable:
                who = {0o020: "group", 0o002: "others", 0o022: "group and others"}[writable]
                return f"{each}: writable by {who}; refused (chmod go-w {each})"
            if st.st_uid not in (owner, 0):
                return (f"{each}: owned by uid {st.st_uid}, not by the store's owner (uid "
                        f"{owner}) or root; refused")
    return None


def unusable_links(data: Record, root: str) -> str | None:
    """Why a child interpreter must not install the plan ``data`` of the store at ``root``:
    the checks the parent's start made (:func:`trust_problem` of the store,
    :func:`_links_allowed`, :func:`links_untrusted`), as one line; None when it may."""
    problem = trust_problem(root)
    if problem is not None:
        return problem
    if not _links_allowed(data, root, "allow-yanked" in data["flags"].split(",")):
        return (f"the link plan names a directory outside {StoreLayout(root).libs}, a yanked "
                "or a missing version; refused")
    return links_untrusted(data, root)


def read_valid_plan(path: str, root: str, app: Application,
                    request: PlanRequest | None = None) -> Record | None:
    """The plan record at ``path`` when it is authentic and still valid for ``app`` (asked
    with ``request``), this store and this interpreter; else None (see the module doc)."""
    data = read_plan(path)
    if data is None:
        return None
    flags = request.flags if request is not None else ""
    if data["flags"] != flags:
        return None
    generation, table = read_generations(root)
    if generation < 0:
        return None  # an unreadable generation file matches no plan
    try:  # a deleted, emptied, overwritten or replaced index: the cold path stops (repair)
        try:
            head = read_regular(StoreLayout(root).index, 16)
        except PermissionError:  # another user's private index: the copy published for us
            head = read_regular(StoreLayout(root).public_index, 16)
        if head != _SQLITE_MAGIC:
            return None
    except OSError:
        if is_store(root):  # its other files say a store was here (else: nothing installed)
            return None
    if data["generation"] != generation and any(  # a change: to anything this plan read?
            table.get(name, generation) != gen for name, gen in data["generations"].items()):
        return None
    python = data["python"]
    # sys.prefix, not sys.executable: python3 and python3.11 are one interpreter, while
    # two virtual environments of one interpreter differ in prefix.
    if python["prefix"] != sys.prefix or python["version"] != sys.version:
        return None
    if data["siglink"] != _siglink_version():
        return None
    manifest = data["manifest"]
    if manifest["path"] != app.manifest_path or manifest != _stat_record(app.manifest_path):
        return None
    if data["pyproject"] != _stat_record(app.pyproject):
        return None
    if data["run"] != app.run_spec(data["entry"]):
        return None  # another script or module than the application asked for
    if data["environment"] is not None and data["environment"] != environment_fingerprint():
        return None
    for source in data["sources"]:  # the app's own files, edited (or touched) since
        if _stat_record(source["path"]) != source:
            return None
    if not _links_allowed(data, root, "allow-yanked" in flags.split(",")):
        return None
    return data


_SQLITE_MAGIC = b"SQLite format 3\x00"
"""The first 16 bytes of every SQLite database: an index without them is damaged (damage
further in is found only by SQLite itself, on the cold path)."""


# -- one planner at a time ----------------------------------------------------------------------


def wait_for_planner(plan_path: str, timeout: float,
                     ready: Callable[[], Record | None]) -> tuple[Record | None, int | None]:
    """Become the one process computing the plan at ``plan_path``, or wait for the one that is.

    The planner holds an exclusive ``flock`` on ``<key>.lock`` beside the plan; the others wait
    for it with a blocking shared ``flock`` (no polling: the kernel wakes every waiter at once
    when the planner is done, and they check the plan side by side), at most ``timeout``
    seconds in all. Returns ``(record, None)`` when ``ready()`` finds a valid plan (another
    process computed it), else ``(None, fd)`` with the exclusive lock held on ``fd``
    (close-on-exec: it is released when this process execs the application or exits), or
    ``(None, None)`` when no lock can be taken (timeout, no plan directory yet, an unwritable
    one): compute anyway. A planner that fails without writing a plan hands the role to one of
    its waiters.
    """
    import fcntl
    import time

    try:  # no plan directory yet (a store never run from): nothing to wait for
        fd = os.open(plan_path[:-5] + ".lock" if plan_path.endswith(".json")
                     else plan_path + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        return None, None
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # another process is planning
        except OSError:
            os.close(fd)
            return None, None
        else:
            record = ready()  # written by a planner that finished before this one looked
            if record is not None:
                os.close(fd)
                return record, None
            return None, fd
        left = deadline - time.monotonic()
        if left <= 0 or not _wait_shared(fd, left):
            os.close(fd)
            return None, None
        record = ready()
        if record is not None:
            os.close(fd)
            return record, None
        fcntl.flock(fd, fcntl.LOCK_UN)  # the planner failed: one of us plans instead


class _Late(Exception):
    """The wait for the planner ran out."""


def _late(signum: int, frame: object) -> None:
    raise _Late


def _wait_shared(fd: int, seconds: float) -> bool:
    """Block until a shared ``flock`` on ``fd`` is granted (True) or ``seconds`` pass (False),
    with a one-shot ``SIGALRM`` timer (``_signal``: ``signal`` would import ``enum``); the
    previous handler is back once the timer is off."""
    import _signal  # type: ignore[import-not-found]  # no stubs; see the docstring
    import fcntl

    previous = _signal.getsignal(_signal.SIGALRM)
    granted = False
    try:
        _signal.signal(_signal.SIGALRM, _late)
        try:
            _signal.setitimer(_signal.ITIMER_REAL, max(seconds, 0.001))
            fcntl.flock(fd, fcntl.LOCK_SH)
            granted = True
        finally:
            _signal.setitimer(_signal.ITIMER_REAL, 0)
    except _Late:
        pass  # granted stays as it was: a late alarm after the grant changes nothing
    except OSError:
        granted = False
    _signal.signal(_signal.SIGALRM, previous)
    return granted
