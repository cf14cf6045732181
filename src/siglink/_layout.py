"""Where a store is and where everything lives inside it: the one place that knows the layout.

Standard library only and cheap to import: the warm bootstrap resolves the store and its plan
through this module before anything else of siglink is loaded.

Layout (docs/design.md §5)::

    ROOT/
      index.sqlite         units, versions, modules, exports, imports, yanks, applications
                           (0600: only the owner, and root, may lock it)
      index.public.sqlite  a read-only copy of the committed index for every other user
                           (0644), replaced whole after each change
      generation           the generations as text (:func:`read_generations`), bumped by
                           every change; the warm path reads this file, never SQLite
      yanks.json           every yank and its reason, rewritten with each yank (for repair)
      libs/NAME/VERSION/   one unpacked, byte-compiled wheel and its NAME-VERSION.dist-info/
      plans/               cached link plans
      bootstrap/           the generated sitecustomize.py that makes child interpreters
                           inherit a link
      cache/native/        measured C declarations, keyed by their preprocessed text
      .staging/            installs in progress (and removed versions awaiting deletion)
      .lock                the file lock serializing every index change

>>> layout = StoreLayout("/srv/siglink")
>>> layout.index, layout.lib("textkit", "1.0.1")
('/srv/siglink/index.sqlite', '/srv/siglink/libs/textkit/1.0.1')
>>> StoreLayout("/srv/siglink") == layout
True
"""

from __future__ import annotations

import os

__all__ = ["ALL", "STORE_FILES", "SYSTEM_STORE", "TRUST_OWNER_ENV", "YANK_MARKER",
           "NotRegularFileError", "StoreLayout", "format_generations", "is_store",
           "owner_trusted", "read_fd", "read_generations", "read_regular", "store_root",
           "trust_owner", "untrusted", "untrusted_store", "user_store"]

SYSTEM_STORE = "/var/lib/siglink"
YANK_MARKER = ".yanked"
"""A file in ``libs/NAME/VERSION/`` while that version is yanked: the warm path, which never
reads the index, refuses a plan entry that has it."""
"""The shared system store: owned by root, read by every user (:func:`store_root`)."""

TRUST_OWNER_ENV = "SIGLINK_TRUST_STORE_OWNER"
"""Set to ``1`` to use any store another (non-root) user owns; set to a store's absolute path
(what ``--trust-owner`` does, see :func:`trust_owner`) to trust that store alone."""

ALL = "*"
"""The key, in a generations mapping, of the last change to the set of distributions and
top-level module names in the store (which modules exist and who provides them)."""


def __dir__() -> list[str]:
    return list(__all__)


def store_root(explicit: str | os.PathLike[str] | None = None) -> str:
    """The store directory, absolute. The first of:

    1. ``explicit`` (``--store DIR``);
    2. ``$SIGLINK_STORE``;
    3. the user's own store, ``$XDG_DATA_HOME/siglink`` (``~/.local/share/siglink``), when it
       is a store (:func:`is_store`);
    4. each ``$XDG_DATA_DIRS`` entry (default ``/usr/local/share:/usr/share``) + ``/siglink``
       that is a store, in order;
    5. ``/var/lib/siglink`` (:data:`SYSTEM_STORE`, the shared system store) when it is a store;
    6. the user's own store, created by the first change.

    A store is recognized by its files, not by its index alone: a store whose index was
    deleted is still chosen (and refused until ``siglink store repair``), never silently
    replaced by the next one on the path. A few ``stat`` calls; the warm path uses it.
    """
    root = os.fspath(explicit) if explicit else os.environ.get("SIGLINK_STORE")
    if root:
        return os.path.abspath(os.path.expanduser(root))
    own = user_store()
    if is_store(own):
        return own
    dirs = os.environ.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share"
    for base in [*dirs.split(":"), os.path.dirname(SYSTEM_STORE)]:
        if base and os.path.isabs(base):
            candidate = os.path.join(base, "siglink")
            if is_store(candidate):
                return candidate
    return own


STORE_FILES = ("index.sqlite", "libs", "generation", "yanks.json")
"""What only a store holds: its index, and what it keeps beside it (a user's own directory
may hold ``registrations/`` for a shared store, which does not make it a store)."""


def is_store(root: str) -> bool:
    """Whether ``root`` holds a store (any of :data:`STORE_FILES`), its index or not.

    >>> import tempfile
    >>> d = tempfile.mkdtemp(); is_store(d)
    False
    >>> os.mkdir(os.path.join(d, "libs")); is_store(d)
    True
    """
    return any(os.path.lexists(os.path.join(root, name)) for name in STORE_FILES)


def user_store() -> str:
    """The user's own store: ``$XDG_DATA_HOME/siglink`` > ``~/.local/share/siglink``."""
    data = os.environ.get("XDG_DATA_HOME") or os.path.join("~", ".local", "share")
    return os.path.abspath(os.path.expanduser(os.path.join(data, "siglink")))


class StoreLayout:
    """The paths of one store, as ``str`` (the warm path works with plain strings)."""

    __slots__ = ("root",)

    root: str

    def __init__(self, root: str | os.PathLike[str]) -> None:
        object.__setattr__(self, "root", os.path.abspath(os.fspath(root)))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("StoreLayout is immutable")

    def __repr__(self) -> str:
        return f"StoreLayout({self.root!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StoreLayout) and other.root == self.root

    def __hash__(self) -> int:
        return hash(self.root)

    def _join(self, *parts: str) -> str:
        return os.path.join(self.root, *parts)

    @property
    def index(self) -> str:
        return self._join("index.sqlite")

    @property
    def public_index(self) -> str:
        return self._join("index.public.sqlite")

    @property
    def generation(self) -> str:
        return self._join("generation")

    @property
    def yanks(self) -> str:
        return self._join("yanks.json")

    @property
    def libs(self) -> str:
        return self._join("libs")

    def lib(self, name: str, version: str) -> str:
        """``libs/NAME/VERSION``: one stored version."""
        return self._join("libs", name, version)

    @property
    def plans(self) -> str:
        return self._join("plans")

    @property
    def bootstrap(self) -> str:
        return self._join("bootstrap")

    @property
    def native_cache(self) -> str:
        return self._join("cache", "native")

    @property
    def staging(self) -> str:
        return self._join(".staging")

    @property
    def lock(self) -> str:
        return self._join(".lock")


def format_generations(generation: int, libraries: dict[str, int]) -> bytes:
    r"""The text of ``ROOT/generation``: the global generation on the first line, then one line
    ``NAME GEN`` per distribution (normalized name) and a line ``* GEN`` (:data:`ALL`).

    >>> format_generations(7, {"textkit": 7, "idna": 3, "*": 5})
    b'7\n* 5\nidna 3\ntextkit 7\n'
    """
    lines = [str(int(generation))]
    if ALL in libraries:
        lines.append(f"{ALL} {int(libraries[ALL])}")
    lines += [f"{name} {int(gen)}" for name, gen in sorted(libraries.items()) if name != ALL]
    return ("\n".join(lines) + "\n").encode("ascii")


class NotRegularFileError(OSError):
    """A path that holds a FIFO, a device, a socket or a directory where a file was expected
    (or a file over the bound read); ``str()`` is the reason alone: ``is a FIFO, not a
    regular file``."""

    def __str__(self) -> str:
        return str(self.strerror)


def read_regular(path: str | os.PathLike[str], size: int, *, whole: bool = False) -> bytes:
    """At most ``size`` bytes from the start of ``path``, a regular file: opened non-blocking,
    so a FIFO or a device put in its place never hangs the reader (the store's files, and an
    application's own files beside it). With ``whole``, a file longer than ``size`` is refused.
    Standard library only.

    :raises NotRegularFileError: not a regular file, or over ``size`` with ``whole``.
    :raises OSError: it cannot be opened.

    >>> import os, tempfile
    >>> fifo = os.path.join(tempfile.mkdtemp(), "requirements.txt"); os.mkfifo(fifo)
    >>> read_regular(fifo, 16)
    Traceback (most recent call last):
    siglink._layout.NotRegularFileError: is a FIFO, not a regular file
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode & 0o170000
        if mode != 0o100000:  # not S_IFREG (stat's names cost an import here)
            kind = {0o010000: "a FIFO", 0o020000: "a character device", 0o060000:
                    "a block device", 0o140000: "a socket", 0o040000: "a directory"}.get(
                        mode, "something else")
            raise NotRegularFileError(22, f"is {kind}, not a regular file", path)  # EINVAL
        data = read_fd(fd, size + 1 if whole else size)
        if whole and len(data) > size:
            raise NotRegularFileError(27, f"is larger than {size} bytes", path)  # EFBIG
        return data
    finally:
        os.close(fd)


def read_fd(fd: int, size: int) -> bytes:
    """At most ``size`` bytes read from ``fd`` until its end."""
    chunks = []
    left = size
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_generations(path: str) -> tuple[int, dict[str, int]]:
    r"""The store's generations from the file ``path`` (``StoreLayout.generation``).

    Returns ``(global, {name: gen, ..., "*": gen})``. The global generation is bumped by every
    change to the store; ``NAME GEN`` is the global generation at which distribution ``NAME``'s
    versions, yanks or module ownership last changed; ``"*"`` (:data:`ALL`) the last change to
    the set of distributions and top-level module names. A plan computed at global generation
    ``G`` with the generations ``L`` of the libraries it links (and ``L["*"]``) stays valid
    while the global generation is ``G``, or while every one of those is unchanged. A name
    absent from the mapping must be taken as changed at the global generation (a file written
    before per-library generations holds only the first line; ``"*"`` then equals the global).

    An absent file is a store never changed: ``(0, {"*": 0})``. An unreadable or malformed
    file gives ``(-1, {})``, which matches no plan (every plan is recomputed).

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "generation")
    >>> read_generations(path)
    (0, {'*': 0})
    >>> with open(path, "wb") as f:
    ...     _ = f.write(format_generations(7, {"textkit": 7, "idna": 3, "*": 5}))
    >>> read_generations(path)
    (7, {'*': 5, 'idna': 3, 'textkit': 7})
    >>> with open(path, "wb") as f:
    ...     _ = f.write(b"12\n")
    >>> read_generations(path)
    (12, {'*': 12})
    >>> with open(path, "wb") as f:
    ...     _ = f.write(b"12\ntextkit x\n")
    >>> read_generations(path)
    (-1, {})
    """
    try:
        data = read_regular(path, 1 << 20)
    except FileNotFoundError:
        return 0, {ALL: 0}
    except OSError:
        return -1, {}
    try:
        lines = data.decode("ascii").splitlines()
        generation = int(lines[0]) if lines else -1
        libraries: dict[str, int] = {}
        for line in lines[1:]:
            name, gen = line.split(" ")
            if not name or name in libraries:
                return -1, {}
            libraries[name] = int(gen)
    except (ValueError, UnicodeDecodeError):
        return -1, {}
    if generation < 0 or any(g < 0 or g > generation for g in libraries.values()):
        return -1, {}
    libraries.setdefault(ALL, generation)
    return generation, libraries


def untrusted(path: str) -> str | None:
    """Why ``path`` (a store directory or file) must not be trusted, else ``None``: like ssh's
    StrictModes, anything writable by group or others is refused, and what neither root nor
    this user owns is not used (ld.so and ssh trust only root's and the user's own files)
    unless ``$SIGLINK_TRUST_STORE_OWNER`` trusts it (:func:`owner_trusted`). A path that does not
    exist is nothing to distrust. One ``os.stat``; standard library only.

    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> os.chmod(d, 0o755); untrusted(d) is None
    True
    >>> os.chmod(d, 0o777); untrusted(d).endswith(": writable by group and others; refused "
    ...                                             f"(chmod go-w {d})")
    True
    """
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None  # nothing there (a path that cannot be a store is refused elsewhere)
    except OSError as e:
        return f"{path}: cannot be checked ({e.strerror or e})"
    writable = st.st_mode & 0o022
    if writable:
        who = {0o020: "group", 0o002: "others", 0o022: "group and others"}[writable]
        return f"{path}: writable by {who}; refused (chmod go-w {path})"
    euid = os.geteuid()
    if st.st_uid not in (0, euid) and not owner_trusted(path):
        if euid == 0:
            return (f"{path}: owned by uid {st.st_uid}, not root: root does not use another "
                    f"user's store (--trust-owner or {TRUST_OWNER_ENV}=1 trusts it)")
        return (f"{path}: owned by uid {st.st_uid}, neither root nor this user (uid {euid}): "
                f"siglink does not use another user's store (--trust-owner or "
                f"{TRUST_OWNER_ENV}=1 trusts it)")
    return None


def trust_owner(root: str) -> None:
    """``--trust-owner``: trust the owner of the store at ``root`` alone, for this process and
    the processes it starts (``$SIGLINK_TRUST_STORE_OWNER`` set to the store's real path); a
    ``1`` the user set (any store) stays."""
    if os.environ.get(TRUST_OWNER_ENV) != "1":
        os.environ[TRUST_OWNER_ENV] = os.path.realpath(root)


def owner_trusted(path: str) -> bool:
    """Whether ``$SIGLINK_TRUST_STORE_OWNER`` lets this user use ``path`` though another owns
    it: ``1`` trusts any store; an absolute path trusts what lies in that store (``path`` as
    given or with its symbolic links resolved); anything else trusts nothing.

    >>> os.environ[TRUST_OWNER_ENV] = "/srv/store"
    >>> owner_trusted("/srv/store/libs"), owner_trusted("/srv/store2"), owner_trusted("/srv")
    (True, False, False)
    >>> del os.environ[TRUST_OWNER_ENV]
    """
    value = os.environ.get(TRUST_OWNER_ENV)
    if value == "1":
        return True
    if not value or not os.path.isabs(value):
        return False
    value = os.path.normpath(value)
    inside = os.path.join(value, "")
    for each in (os.path.abspath(path), os.path.realpath(path)):
        if each == value or each.startswith(inside):
            return True
    return False


def untrusted_store(layout: StoreLayout) -> str | None:
    """The first reason not to trust the store (its directory, index, plans, bootstrap,
    generation file, libs), else ``None``."""
    for path in (layout.root, layout.index, layout.plans, layout.bootstrap, layout.generation,
                 layout.libs):
        problem = untrusted(path)
        if problem is not None:
            return problem
    return None
