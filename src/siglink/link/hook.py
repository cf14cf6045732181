"""The import hook that binds an application to the versions its link plan chose.

:class:`LinkFinder` sits first on :data:`sys.meta_path`. For each linked library it maps the
library's top-level modules to the directory holding the chosen version, so ``import werkzeug``
finds the store's ``libs/werkzeug/3.0.1/werkzeug`` ahead of any copy installed in the
environment; submodules then follow the package's own ``__path__`` through the normal path
finder. A namespace package (PEP 420) gets the portions found in the linked directories as a
fixed ``__path__``, never computed again from ``sys.path`` (:class:`_FixedNamespacePath`).
Modules are loaded by the standard loaders: the application holds the library's own objects,
with no wrapper and no per-call cost. The finder also serves the linked libraries'
distribution metadata, so ``importlib.metadata.version("werkzeug")`` tells the linked version.

Interpreters the application starts itself inherit the link through environment variables
set by :func:`export_to_children`: ``SIGLINK_PLAN`` (the plan file), ``SIGLINK_PLAN_STORE``
(its store) and ``PYTHONPATH`` with a generated bootstrap directory first, whose
``sitecustomize.py`` installs this finder from the plan, after the checks the parent's start
made (:func:`siglink.link._cache.unusable_links`: a refusal exits 127 with the reason), and
then runs the ``sitecustomize`` it shadows, if any. A child started with ``-E`` or
``-I`` (which ignore ``PYTHONPATH``), or by another interpreter, runs unlinked, and so does
``siglink`` itself (:func:`runs_siglink`): the store's code never runs inside siglink's own
commands.

A bundle (:mod:`siglink.bundle`) carries this module's source as ``_siglink_hook.py`` and links
with the same finder: a library's directory may then lie inside a zip archive
(``APP.pyz/libs/NAME-VERSION``), whose metadata is served through :class:`zipfile.Path`, and
the bundle's own ``sitecustomize.py`` comes from :func:`sitecustomize_source` too.

Standard library only, and only ``os`` and ``sys`` at import: this module is on the warm path
and in every bundle. ``importlib.metadata`` (and ``zipfile``) are imported only when metadata
is asked for.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: this module is on the warm path
    from collections.abc import Iterator, Mapping, Sequence
    from importlib.machinery import ModuleSpec
    from importlib.metadata import Distribution
    from types import ModuleType
    from typing import Any, NoReturn

__all__ = [
    "SITECUSTOMIZE",
    "LinkFinder",
    "bootstrap_dir",
    "export_to_children",
    "install",
    "install_from_plan",
    "libs_owner",
    "normalize",
    "runs_siglink",
    "sitecustomize_source",
    "unload_foreign",
    "write_bootstrap",
]


def __dir__() -> list[str]:
    return list(__all__)


def normalize(name: str) -> str:
    """A distribution name in normal form (PEP 503): ``Markup_Safe`` -> ``markup-safe``.

    >>> normalize("Markup_Safe"), normalize("zope..Interface")
    ('markup-safe', 'zope-interface')
    """
    out: list[str] = []
    sep = False
    for ch in name.lower():
        if ch in "-_.":
            sep = True
            continue
        if sep and out:
            out.append("-")
        sep = False
        out.append(ch)
    return "".join(out)


class LinkFinder:
    """Meta-path finder for the linked libraries' top-level modules and distribution metadata.

    ``links`` maps a distribution name to a record with ``path`` (the directory holding the
    chosen version's modules), ``top_level`` (its top-level module names) and ``dist_info``
    (the path of its ``.dist-info`` directory). Either may lie inside a zip archive.

    With ``owner`` (the store owner's uid), every module of a store link (``source`` ``store``)
    is checked as it is imported, submodules too: the file it loads (source, bytecode or
    extension), its directory and the ``__pycache__`` beside it must belong to ``owner`` or
    root and be writable by nobody else, or the interpreter ends at once with exit 127 and one
    line (``siglink: error: ...``) naming the path. A few ``os.stat`` per module imported
    from the store, one per directory; nothing for any other module. The start checked
    ``libs/NAME/VERSION`` itself (:func:`siglink.link._cache.links_untrusted`).
    """

    def __init__(self, links: Mapping[str, Mapping[str, Any]], owner: int | None = None) -> None:
        dirs: dict[str, list[str]] = {}
        dists: dict[str, str] = {}
        guarded: set[str] = set()
        stored: list[str] = []
        others: list[str] = []
        for name, link in links.items():
            for top in link["top_level"]:
                if top == "siglink":  # siglink's own modules are its installation's, never
                    continue          # a library's: a `siglink` the app starts stays siglink
                places = dirs.setdefault(top, [])
                if link["path"] not in places:
                    places.append(link["path"])
                if owner is not None and link.get("source") == "store":
                    guarded.add(top)
            if owner is not None and link.get("source") == "store":
                stored.append(os.path.join(link["path"], ""))
            else:
                others.append(os.path.join(link["path"], ""))
            if link.get("dist_info"):
                dists[normalize(name)] = link["dist_info"]
        self.dirs = dirs
        self.dists = dists
        self.owner = owner
        self.guarded = guarded
        self.stored = tuple(stored)  # what lies under these is checked (not the environment's)
        self.others = tuple(others)  # the environment's links: never checked
        self.sound: set[str] = set()  # directories already checked
        self.namespaces: set[str] = set()  # store tops that are namespace packages (PEP 420)

    def __repr__(self) -> str:
        return f"<LinkFinder {sorted(self.dirs)}>"

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        top, dot, _ = fullname.partition(".")
        if dot:  # submodules follow their package's __path__; the store's are checked
            if top not in self.guarded:
                return None
            from _frozen_importlib_external import PathFinder

            spec = PathFinder.find_spec(fullname, path)
            if spec is not None:
                _fix_namespace(spec)
                self._check(spec, every=top in self.namespaces)
            return spec
        places = self.dirs.get(fullname)
        if places is None:
            return None
        # importlib.machinery's PathFinder, without importing importlib (and warnings)
        from _frozen_importlib_external import PathFinder

        spec = PathFinder.find_spec(fullname, places)
        if spec is not None and _fix_namespace(spec) and top in self.guarded:
            self.namespaces.add(top)
        if spec is not None and top in self.guarded:
            self._check(spec)
        return spec

    def _check(self, spec: ModuleSpec, every: bool = False) -> None:
        """End the interpreter (exit 127, one line) when a file or directory ``spec`` loads
        from could be changed by someone other than the store's owner and root: those in
        the store, or (``every``: a module of a namespace package the store serves) wherever
        they are but in the environment's links."""
        stored, others = self.stored, self.others

        def checked(path: str) -> bool:
            return path.startswith(stored) or (every and not path.startswith(others))

        dirs = [d for d in spec.submodule_search_locations or () if checked(d)]
        if spec.has_location and spec.origin and checked(spec.origin):
            self._refuse_unsound(spec.origin)
            dirs.append(os.path.dirname(spec.origin))
            cached = spec.cached
            if cached:
                self._refuse_unsound(cached)
                dirs.append(os.path.dirname(cached))
        for each in dirs:
            if each not in self.sound:
                self._refuse_unsound(each)
                self.sound.add(each)

    def _refuse_unsound(self, path: str) -> None:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return  # no bytecode (yet), say: nothing to load from there
        except OSError as e:
            _refuse(f"{path} cannot be checked ({e.strerror or e})")
        writable = st.st_mode & 0o022
        if writable:
            who = {0o020: "group", 0o002: "others", 0o022: "group and others"}[writable]
            _refuse(f"{path} is writable by {who}; its code would run as this user "
                    f"(chmod go-w {path}, or siglink store repair)")
        if st.st_uid not in (self.owner, 0):
            _refuse(f"{path} is owned by uid {st.st_uid}, not by the store's owner (uid "
                    f"{self.owner}) or root; its code would run as this user")

    def invalidate_caches(self) -> None:
        """Nothing is cached here; the path finder's caches are invalidated by importlib."""

    def find_distributions(self, context: Any = None) -> Iterator[Distribution]:
        """The linked distributions matching ``context.name`` (all of them when it is None)."""
        from importlib.metadata import PathDistribution

        name = getattr(context, "name", None)
        if name is None:
            chosen = list(self.dists.values())
        else:
            found = self.dists.get(normalize(name))
            chosen = [found] if found is not None else []
        for info in chosen:
            yield PathDistribution(_metadata_path(info))


def inert(text: str) -> str:
    r"""``text`` with its control characters escaped, as :func:`siglink._text.inert` (this
    module is carried alone by a bundle): a path or name cannot start a line of its own.

    >>> inert("libs/x\n/VERSION\r\x1b[31m")
    'libs/x\\n/VERSION\\r\\x1b[31m'
    """
    if text.isprintable():
        return text
    return "".join(repr(c)[1:-1] if c < " " or "\x7f" <= c < "\xa0" else c for c in text)


class _FixedNamespacePath(list[str]):
    """The ``__path__`` of a namespace package the plan serves: the portions found in the
    plan's directories, fixed. PEP 420's ``_NamespacePath`` is computed again from its parent
    path (``sys.path`` for a top-level package) whenever that changes, which would bring in a
    portion from outside the plan; its name stays in the ``repr``, which
    :mod:`importlib.resources` looks for."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"_FixedNamespacePath({list.__repr__(self)})"


def _fix_namespace(spec: ModuleSpec) -> bool:
    """Give the namespace package ``spec`` (PEP 420, as the path finder returns it) a fixed
    ``__path__`` (:class:`_FixedNamespacePath`); False when it is no namespace package."""
    locations = spec.submodule_search_locations
    if spec.origin is not None or locations is None or isinstance(locations, list):
        return False
    fixed = _FixedNamespacePath(locations)
    spec.submodule_search_locations = fixed
    loader = spec.loader
    if loader is not None and hasattr(loader, "_path"):
        loader._path = fixed  # Python 3.12 and later make the namespace's loader here
    return True


def _refuse(problem: str) -> NoReturn:
    """``siglink: error: PROBLEM`` on stderr and exit 127 at once: not an exception the
    application could catch and carry on past."""
    for stream in (sys.stdout, sys.stderr):
        try:  # noqa: SIM105 (contextlib is not imported on the warm path)
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    try:
        sys.stderr.write(f"siglink: error: {inert(problem)}\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass
    os._exit(127)


def _metadata_path(info: str) -> Any:
    """The ``.dist-info`` directory ``info`` as :mod:`importlib.metadata` reads it: a
    :class:`pathlib.Path`, or a :class:`zipfile.Path` when it lies inside a zip archive.

    >>> import os, tempfile, zipfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> app = os.path.join(tmp.name, "app.pyz")
    >>> with zipfile.ZipFile(app, "w") as z:
    ...     z.writestr("libs/x-1/x-1.dist-info/METADATA", "Name: x\\nVersion: 1\\n")
    >>> _metadata_path(os.path.join(app, "libs", "x-1", "x-1.dist-info")).joinpath(
    ...     "METADATA").read_text()
    'Name: x\\nVersion: 1\\n'
    >>> from pathlib import Path
    >>> isinstance(_metadata_path(app + ".missing"), Path)
    True
    >>> tmp.cleanup()
    """
    from pathlib import Path

    if os.path.isdir(info):
        return Path(info)
    archive = info
    while not os.path.isfile(archive):
        parent = os.path.dirname(archive)
        if parent == archive:
            return Path(info)  # nothing there: importlib.metadata finds no metadata
        archive = parent
    import zipfile

    inner = info[len(archive) + 1:].replace(os.sep, "/")
    try:
        return zipfile.Path(archive, inner + "/")
    except (OSError, zipfile.BadZipFile):
        return Path(info)


def install(links: Mapping[str, Mapping[str, Any]], owner: int | None = None) -> LinkFinder:
    """Put a :class:`LinkFinder` for ``links`` first on :data:`sys.meta_path` (replacing an
    earlier one) and return it; with ``owner``, the store's modules are checked as they are
    imported (see :class:`LinkFinder`)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, LinkFinder)]
    finder = LinkFinder(links, owner)
    sys.meta_path.insert(0, finder)
    unload_foreign(finder.dirs)
    return finder


def _inside(path: str, places: Sequence[str]) -> bool:
    path = os.path.abspath(path)
    return any(path == p or path.startswith(os.path.join(p, "")) for p in places)


def unload_foreign(dirs: Mapping[str, Sequence[str]]) -> list[str]:
    """Drop from :data:`sys.modules` each linked top-level module (and its submodules) that was
    imported from elsewhere before the finder was installed (by a ``.pth`` file or a
    ``sitecustomize``), so the application imports the linked version; return their names.

    Only the linked top-level names are looked at. ``SIGLINK_DEBUG=1`` prints what was dropped.
    """
    modules = sys.modules
    gone: list[str] = []
    for top, places in dirs.items():
        module = modules.get(top)
        if module is None:
            continue
        where = list(getattr(module, "__path__", None) or ())
        file = getattr(module, "__file__", None)
        if file:
            where.append(file)
        if not where or all(_inside(w, places) for w in where):
            continue
        prefix = top + "."
        for name in [n for n in modules if n == top or n.startswith(prefix)]:
            del modules[name]
        gone.append(top)
    if gone and os.environ.get("SIGLINK_DEBUG"):
        sys.stderr.write(
            f"siglink: unloaded {', '.join(sorted(gone))} imported before the link (not the "
            "linked version)\n")
    return gone


def install_from_plan(path: str, root: str | None = None) -> LinkFinder | None:
    """Install the finder from the plan file at ``path`` of the store at ``root`` (default
    ``$SIGLINK_PLAN_STORE``, else the store the plan's links lie in); None (and one line on
    stderr) when the file is unreadable or was made for another interpreter. A plan the
    parent's checks would refuse (a store or a linked directory others can write, a link
    outside ``ROOT/libs``, a yanked version) ends the interpreter with exit 127 and the reason:
    a child runs linked as its parent does, or not at all."""
    from siglink.link._cache import read_plan, unusable_links

    record = read_plan(path)
    if record is None:
        sys.stderr.write(f"siglink: link plan {inert(path)} is unreadable; running unlinked\n")
        return None
    if record["python"]["version"] != sys.version:
        return None  # another interpreter: the plan's directories may not suit it
    root = root or os.environ.get("SIGLINK_PLAN_STORE") or _store_of(record["links"])
    if root:
        problem = unusable_links(record, root)
        if problem is not None:
            try:
                sys.stderr.write(f"siglink: error: {inert(problem)}\n")
                sys.stderr.flush()
            except (OSError, ValueError, AttributeError):
                pass
            os._exit(127)  # SystemExit inside sitecustomize would be a fatal error's traceback
    return install(record["links"], libs_owner(root) if root else None)


def libs_owner(root: str) -> int | None:
    """The store's owner: the owner of ``ROOT/libs`` (None when it cannot be read)."""
    try:
        return os.stat(os.path.join(root, "libs")).st_uid
    except OSError:
        return None


def _store_of(links: Mapping[str, Mapping[str, Any]]) -> str:
    """The store ``ROOT`` whose ``libs/NAME/VERSION`` the first store link lies in, or ``""``."""
    for link in links.values():
        if link["source"] == "store":
            path: str = os.path.realpath(link["path"])
            return os.path.dirname(os.path.dirname(os.path.dirname(path)))
    return ""


_RUN_SHADOWED = """\
    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    from importlib.machinery import PathFinder

    spec = PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None:
        from importlib.util import module_from_spec

        module = module_from_spec(spec)
        sys.modules["sitecustomize"] = module
        spec.loader.exec_module(module)
"""


def sitecustomize_source(doc: str, link: str) -> str:
    """The source of a generated ``sitecustomize.py``: its docstring ``doc``, then a function
    that runs ``link`` (statements indented by four spaces, with ``os`` and ``sys`` imported)
    and then the ``sitecustomize`` this file shadows, found on :data:`sys.path` past its own
    directory, if any. Both :data:`SITECUSTOMIZE` and a bundle's are made here.

    >>> source = sitecustomize_source("Say hello.", "    print('hello')\\n")
    >>> compile(source, "sitecustomize.py", "exec").co_consts[0]
    'Say hello.'
    """
    return (f'"""{doc}"""\n\n\ndef _siglink_link():\n    import os\n    import sys\n\n'
            f"{link}{_RUN_SHADOWED}\n\n_siglink_link()\ndel _siglink_link\n")


SITECUSTOMIZE = sitecustomize_source(
    "Generated by siglink: link interpreters an application starts to the plan in "
    "$SIGLINK_PLAN.\n\nInstalls siglink's import hook, then runs the sitecustomize this file "
    "shadows (if any).\n", """\
    plan = os.environ.get("SIGLINK_PLAN")
    if plan:
        try:
            from siglink.link.hook import install_from_plan, runs_siglink
        except ImportError:
            pass  # another interpreter without siglink: run unlinked
        else:
            if not runs_siglink(sys.orig_argv):  # siglink's own command is never linked
                install_from_plan(plan)
""")


def runs_siglink(argv: Sequence[str]) -> bool:
    """Whether the interpreter command line ``argv`` (:data:`sys.orig_argv`) runs siglink's own
    command, ``python -m siglink`` or a script named ``siglink``: an application's link must
    never serve the store's code to siglink itself (which also drops the link on start, see
    :mod:`siglink._entry`).

    >>> runs_siglink(["python3", "/venv/bin/siglink", "install", "x"])
    True
    >>> runs_siglink(["python3", "-X", "dev", "-m", "siglink"]), runs_siglink(["py", "-msiglink"])
    (True, True)
    >>> runs_siglink(["python3", "app.py"]), runs_siglink(["python3", "-c", "import siglink"])
    (False, False)
    """
    args = iter(argv[1:])
    for arg in args:
        if arg in ("-X", "-W", "--check-hash-based-pycs"):
            next(args, None)  # the option's value
        elif arg == "-m":
            return next(args, None) == "siglink"
        elif arg.startswith("-m"):
            return arg == "-msiglink"
        elif arg == "-" or arg.startswith("-c"):
            return False
        elif not arg.startswith("-"):
            return os.path.basename(arg) == "siglink"
    return False


def bootstrap_dir(root: str) -> str:
    """This user's generated bootstrap directory for the store at ``root``: ``ROOT/bootstrap``
    for the store's owner, else one in the user's cache (see :mod:`siglink.link._cache`)."""
    from siglink.link._cache import bootstrap_dir as where

    return where(root)


def write_bootstrap(directory: str) -> str:
    """Write ``sitecustomize.py`` into ``directory`` unless it is already current; return
    ``directory``, made (with its missing parents) with fixed modes whatever the umask: 0700
    and 0600 in this user's cache, else 0755 and 0644."""
    path = os.path.join(directory, "sitecustomize.py")
    try:
        with open(path, "rb") as f:
            if f.read() == SITECUSTOMIZE.encode() and not os.fstat(f.fileno()).st_mode & 0o022:
                return directory
    except OSError:
        pass
    from siglink._files import write_atomic
    from siglink.link._cache import make_dirs, modes_for

    folder_mode, file_mode = modes_for(directory)
    # __pycache__ too: the interpreter would make it with the umask's mode (0777 under umask
    # 000), and whoever can write it can plant the bytecode every child runs
    make_dirs(os.path.join(directory, "__pycache__"), folder_mode)
    write_atomic(path, SITECUSTOMIZE.encode(), mode=file_mode, durable=False)
    return directory


def export_to_children(plan_path: str, boot_dir: str, root: str | None = None) -> None:
    """Make interpreters started from this process link to the same plan of the store at
    ``root`` (see module doc)."""
    environ = os.environ
    environ["SIGLINK_PLAN"] = plan_path
    if root:
        environ["SIGLINK_PLAN_STORE"] = root
    else:
        environ.pop("SIGLINK_PLAN_STORE", None)
    current = environ.get("PYTHONPATH")
    if not current:
        environ["PYTHONPATH"] = boot_dir
    elif current.split(os.pathsep)[0] != boot_dir:
        environ["PYTHONPATH"] = boot_dir + os.pathsep + current
