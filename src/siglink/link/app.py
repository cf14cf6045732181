"""The application as a value: what ``siglink build``, ``plan`` and ``run`` are asked about.

:class:`Application` is resolved once from what the user typed (a script, a directory, or
``-m MODULE``) and read by everything after: the manifest's path, the ``pyproject.toml`` beside
it, how to start it (:meth:`Application.run_spec`) and which top-level modules are its own
(:meth:`Application.own_modules`). :class:`PlanRequest` is what the user asked of the link (the
policy given on the command line, pre-releases, yanked versions, the environment).

Standard library only and cheap to import: the warm bootstrap builds both before anything else
of siglink is loaded (no dataclasses, no typing at run time).

>>> app = Application.resolve("/srv/tools/report.py")
>>> app.manifest_path, app.path
('/srv/tools/report.siglink.json', '/srv/tools/report.py')
>>> Application.resolve("/srv/tools/report.py") == app
True
>>> PlanRequest("semver", pre=True).flags
'pre'
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: this module is on the warm path
    from siglink.contracts.policy import Policy

__all__ = [
    "POLICIES", "Application", "PlanRequest", "app_files", "app_manifest_path", "module_cwd",
    "module_dir",
]

POLICIES = ("signature", "semver", "strict")
""":data:`siglink.contracts.policy.POLICIES`, without importing ``typing`` (a test checks that
they agree)."""


def __dir__() -> list[str]:
    return list(__all__)


def app_manifest_path(app: str, module: bool = False, root: str | None = None) -> str:
    """Where an application's manifest lives (absolute path); THE definition for build and run.

    - script ``DIR/app.py`` -> ``DIR/app.siglink.json`` (another file ``DIR/x``:
      ``DIR/x.siglink.json``)
    - directory ``DIR/`` (``__main__.py`` or a project with a pyproject) -> ``DIR/siglink.json``
    - ``module=True``: ``-m pkg.mod`` run from ``CWD`` (the module is looked up from the
      current directory, as ``python -m`` does) -> never in the current directory:
      ``MODULES/pkg.mod.siglink.json``, ``MODULES`` :func:`module_dir` of the store at
      ``root`` (default :func:`~siglink._layout.store_root`): for the store's owner
      ``ROOT/apps/modules/<CWD, %-quoted>``, for anyone else (a shared store they cannot
      write) a directory in their own data directory
    """
    if module:
        from siglink._layout import store_root

        return os.path.join(module_dir(root or store_root(), os.getcwd()), app + ".siglink.json")
    path = os.path.abspath(app)
    if os.path.isdir(path):
        return os.path.join(path, "siglink.json")
    stem = path[:-3] if path.endswith(".py") else path
    return stem + ".siglink.json"


def module_dir(root: str, cwd: str) -> str:
    """Where this user's manifests of ``-m`` applications run from ``cwd`` against the store at
    ``root`` live: ``ROOT/apps/modules/<cwd>`` for the store's owner (or a store not made
    yet), else (a store this user cannot write, like the plans: :mod:`siglink.link._cache`)
    ``<user data>/siglink/stores/<digest of ROOT>/apps/modules/<cwd>``, ``<user data>``
    ``$XDG_DATA_HOME`` or ``~/.local/share``. ``cwd`` is %-quoted into one name
    (``sha256-<hex>`` when that would be too long), so that :func:`siglink.store.app_display`
    can tell the directory back."""
    from hashlib import sha256
    from urllib.parse import quote

    name = quote(os.fsencode(cwd), safe="")  # the directory's bytes, whatever they are
    if len(name) > 200:
        name = "sha256-" + sha256(cwd.encode("utf-8", "surrogateescape")).hexdigest()
    try:
        owner = os.stat(root).st_uid
    except OSError:
        owner = os.geteuid()  # not made yet: it will be this user's
    if owner != os.geteuid():
        from siglink._layout import user_store

        digest = sha256(os.fsencode(os.path.abspath(root))).hexdigest()[:24]
        root = os.path.join(user_store(), "stores", digest)
    return os.path.join(root, "apps", "modules", name)


def module_cwd(manifest_path: str) -> str | None:
    """The directory a ``-m`` application's manifest (under :func:`module_dir`) was built
    from; None for any other manifest, or one whose directory name is a digest."""
    from urllib.parse import unquote_to_bytes

    folder = os.path.dirname(manifest_path)
    parent, name = os.path.split(folder)
    if os.path.basename(parent) != "modules" or name.startswith("sha256-") \
            or os.path.basename(os.path.dirname(parent)) != "apps":
        return None
    return os.fsdecode(unquote_to_bytes(name))


def app_files(manifest_path: str, path0: str) -> dict[str, str]:
    """The application's own source files the manifest records (absolute path -> sha256)."""
    from siglink._foreign import ForeignFileError, read_foreign
    from siglink._json import loads_object

    try:  # maybe another user's (a registration): no FIFO or planted link is opened
        files = loads_object(read_foreign(manifest_path)[0]).get("files") or {}
        return {os.path.join(path0, shown): digest for shown, digest in files.items()
                if isinstance(shown, str) and isinstance(digest, str)
                and "\x00" not in shown}  # no path holds one: reading the manifest says so
    except (OSError, ForeignFileError, ValueError, AttributeError):  # JSONTextError: ValueError
        return {}


class Application:
    """One application: ``target`` as given, whether it is a module (``-m``), its absolute
    ``path`` (the current directory for a module) and its ``manifest_path``. Immutable."""

    __slots__ = ("manifest_path", "module", "path", "target")

    target: str
    module: bool
    path: str
    manifest_path: str

    def __init__(self, target: str, module: bool, path: str, manifest_path: str) -> None:
        for name, value in (("target", target), ("module", module), ("path", path),
                            ("manifest_path", manifest_path)):
            object.__setattr__(self, name, value)

    @classmethod
    def resolve(cls, target: str, module: bool = False, root: str | None = None) -> Application:
        """The application ``target`` names (a path, or a module name when ``module``, whose
        manifest lives in the store at ``root``: see :func:`app_manifest_path`)."""
        path = os.getcwd() if module else os.path.abspath(target)
        return cls(target, module, path, app_manifest_path(target, module, root))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Application is immutable")

    def __repr__(self) -> str:
        if self.module:
            return f"Application.resolve({self.target!r}, module=True)"
        return f"Application.resolve({self.path!r})"

    def _key(self) -> tuple[str, bool, str, str]:
        return (self.target if self.module else "", self.module, self.path, self.manifest_path)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Application) and other._key() == self._key()

    def __hash__(self) -> int:
        return hash(self._key())

    @property
    def pyproject(self) -> str:
        """The ``pyproject.toml`` beside the manifest (may set ``[tool.siglink] policy``)."""
        return os.path.join(os.path.dirname(self.manifest_path), "pyproject.toml")

    def run_spec(self, entry: str | None) -> dict[str, str]:
        """How to start the application whose manifest records ``entry``:
        ``{"kind", "target", "path0"}``.

        - a script or a directory with ``__main__.py``: ``path`` (run as ``python APP``),
          ``path0`` the script's real directory (the directory itself for a directory app);
        - ``-m MODULE``: ``module`` (``runpy.run_module``), ``path0`` the current directory;
        - a project directory whose entry is ``func:pkg.mod:main``: ``func``, ``path0`` the
          project's ``src/`` when the package lives there, else the project directory.
        """
        if self.module:
            return {"kind": "module", "target": self.target, "path0": self.path}
        path = self.path
        if os.path.isdir(path) and not os.path.exists(os.path.join(path, "__main__.py")):
            if entry and entry.startswith("func:"):
                target = entry[len("func:"):]
                top = target.split(":", 1)[0].split(".", 1)[0]
                src = os.path.join(path, "src")
                path0 = src if os.path.exists(os.path.join(src, top)) else path
                return {"kind": "func", "target": target, "path0": path0}
            if entry and entry.startswith("module:"):
                return {"kind": "module", "target": entry[len("module:"):], "path0": path}
        if os.path.isdir(path):
            return {"kind": "path", "target": path, "path0": path}
        # python puts the script's real directory first on sys.path (symlinks resolved)
        return {"kind": "path", "target": path, "path0": os.path.dirname(os.path.realpath(path))}

    def own_modules(self, entry: str | None) -> set[str]:
        """The top-level modules that are the application's own (THE answer for build and
        run): those its ``path0`` directory provides, which Python finds first, and the
        package of a module or ``func:`` entry."""
        from pathlib import Path

        from siglink.python.usage import local_modules

        spec = self.run_spec(entry)
        path0 = spec["path0"]
        names = local_modules(Path(path0))
        if spec["kind"] in ("module", "func"):  # a package of directories only, say
            top = spec["target"].split(":", 1)[0].split(".", 1)[0]
            if os.path.isdir(os.path.join(path0, top)) or os.path.isfile(
                    os.path.join(path0, top + ".py")):
                names.add(top)
        return names


class PlanRequest:
    """What a plan is asked for, beyond the application: the ``policy`` given on the command
    line (None: the app's pyproject or ``$SIGLINK_POLICY`` decides), pre-releases, yanked
    versions, the running environment's distributions. Immutable."""

    __slots__ = ("allow_yanked", "environment", "policy", "pre")

    policy: Policy | None
    pre: bool
    allow_yanked: bool
    environment: bool

    def __init__(self, policy: Policy | None = None, *, pre: bool = False,
                 allow_yanked: bool = False, environment: bool = False) -> None:
        if policy is not None and policy not in POLICIES:
            raise ValueError(f"unknown policy {policy!r} (one of {', '.join(POLICIES)})")
        for name, value in (("policy", policy), ("pre", pre), ("allow_yanked", allow_yanked),
                            ("environment", environment)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("PlanRequest is immutable")

    def __repr__(self) -> str:
        return (f"PlanRequest({self.policy!r}, pre={self.pre}, allow_yanked={self.allow_yanked}"
                f", environment={self.environment})")

    def _key(self) -> tuple[str, bool, bool, bool]:
        return (self.policy or "", self.pre, self.allow_yanked, self.environment)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PlanRequest) and other._key() == self._key()

    def __hash__(self) -> int:
        return hash(self._key())

    @property
    def flags(self) -> str:
        """The flags part of a plan's cache key, e.g. ``"pre,allow-yanked"``."""
        names = (("pre", self.pre), ("allow-yanked", self.allow_yanked),
                 ("environment", self.environment))
        return ",".join(name for name, on in names if on)
