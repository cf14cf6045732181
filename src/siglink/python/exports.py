"""The export table of a Python library, read statically with griffe (docs/design.md §4).

Use::

    manifest = extract("itsdangerous-2.1.2-py3-none-any.whl")
    manifest.exports["itsdangerous.Signer"].kind   # ExportKind.CLASS

The library's code is never imported into this process: Python sources are parsed by griffe,
compiled modules without stubs are inspected by a separate interpreter (:mod:`._compiled`).

"Public" means ``__all__`` where a module defines one (``__all__ += [...]`` included); otherwise
every name bound in the module that does not start with an underscore and is not a module.
Without ``__all__``, a package's ``__init__`` exports the names imported into it from its own
library and from other distributions, but not those it imports from the standard library
(``from typing import Any`` is the module's own tooling, not the library's API); any other
module exports the names it imports from its own library (re-exports keep their target's
signature) but not those it imports from elsewhere. A name listed in ``__all__`` is exported
whatever its origin. Private modules (a ``_``-prefixed component) are read but only count
through names re-exported into public modules. A name re-exported from another distribution
(the standard library included, as ``python``) is recorded as a reference to it,
``Export(reference="dist:module.name")``.

Each export's ``location`` is its file as it sits in the wheel and the line
(``textkit/__init__.py:12``), never a path of the machine that read it.
"""

from __future__ import annotations

import ast
import functools
import os
import re
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import griffe

from siglink._gc import fewer_collections
from siglink.contracts.manifest import Diagnostic, Export, ExportKind, Manifest, Unit
from siglink.python._annotations import LOOKUP_ERRORS, AliasTable
from siglink.python._bindings import Bindings
from siglink.python._builder import Builder, builtin_callable, module_file, relocate
from siglink.python._combine import combine
from siglink.python._compiled import inspect_compiled
from siglink.python._dunder_all import evaluate_statements
from siglink.python._extension_points import mark_extension_point
from siglink.python._module_getattr import served_names
from siglink.python._sources import Source, open_target, wheel_source

__all__ = ["extract", "extract_tree"]


def __dir__() -> list[str]:
    return list(__all__)


def extract(
    target: str | os.PathLike[str], *, name: str | None = None, version: str | None = None
) -> Manifest:
    """The manifest of a library: a wheel, an sdist, a source tree, an installed distribution's
    name, or a manifest file (``siglink.json``), which is just loaded.

    :raises ExtractionError: the target is missing, or not a readable library or archive.
    :raises ManifestError: a manifest file that is corrupt or of a newer format.
    """
    with open_target(target) as source:
        if isinstance(source, Manifest):
            return source
        return _extract_source(source, name=name, version=version)


def _extract_source(source: Source, *, name: str | None, version: str | None) -> Manifest:
    return extract_tree(
        source.root,
        source.packages,
        name=name or source.name,
        version=version or source.version,
        requires=source.requires,
        requires_python=source.requires_python,
        top_level=source.top_level,
        files=source.files,
    )


def extract_tree(
    root: Path,
    packages: Sequence[str] | None = None,
    *,
    name: str | None = None,
    version: str | None = None,
    requires: Sequence[str] = (),
    requires_python: str | None = None,
    top_level: Sequence[str] | None = None,
    files: dict[str, str] | None = None,
) -> Manifest:
    """The manifest of the top-level modules ``packages`` found under ``root`` (an unpacked
    wheel, a ``src`` directory).

    Without ``packages``, ``name`` or ``version``, they are read from the ``*.dist-info`` in
    ``root`` (as in an unpacked wheel).

    >>> import shutil, tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = (root / "greet.py").write_text("def hello(name: str, *, loud: bool = False) -> str:"
    ...                                    " return name")
    >>> manifest = extract_tree(root, ["greet"], name="greet", version="1.0")
    >>> hello = manifest.exports["greet.hello"]
    >>> hello.kind, str(hello.signature)
    (<ExportKind.FUNCTION: 'function'>, '(name: str, *, loud: bool = ...) -> str')
    >>> shutil.rmtree(root)
    """
    root = Path(root)
    if packages is None or name is None or version is None:
        source = wheel_source(root, label=str(root))
        packages = source.packages if packages is None else packages
        name = name or source.name
        version = version or source.version
        requires = requires or source.requires
        requires_python = requires_python or source.requires_python
        top_level = source.top_level if top_level is None else top_level
    reader = _Reader(root, tuple(packages), requires_python, requires)
    with fewer_collections():
        exports = reader.read()
    return Manifest(
        unit=Unit(name, version),
        exports=exports,
        files=dict(files or {}),
        requires=tuple(requires),
        requires_python=requires_python,
        top_level=tuple(top_level if top_level is not None else packages),
        diagnostics=tuple(reader.diagnostics),
        protocols=reader.protocols,
    )


class _ModuleImports(griffe.Extension):
    """Remembers which names a module binds with ``import x`` (module objects, never exports)."""

    def __init__(self) -> None:
        super().__init__()
        self.modules: set[str] = set()

    def on_alias_instance(self, *, alias: griffe.Alias, node: Any, **kwargs: Any) -> None:
        if isinstance(node, ast.Import):
            self.modules.add(alias.path)


class _Loader(griffe.GriffeLoader):
    """griffe's loader, reading PEP 420 namespace packages inside a package too.

    griffe skips a directory without ``__init__.py`` below a regular package, taking it for a
    folder of scripts; Python imports it all the same (``flask/sansio/`` in Flask 3), and a
    class defined there is as real as any other. Directories whose name is not an identifier
    cannot be imported and stay skipped.
    """

    def _get_or_create_parent_module(
        self, module: griffe.Module, subparts: tuple[str, ...], subpath: Path
    ) -> griffe.Module:
        parent = module
        parents = list(subpath.parents)
        if subpath.stem == "__init__":
            parents.pop(0)
        for offset, part in enumerate(subparts[:-1], 2):
            if not part.isidentifier():
                raise griffe.UnimportableModuleError(f"Skip {subpath}, it is not importable")
            directory = parents[len(subparts) - offset]
            found = parent.members.get(part)
            if isinstance(found, griffe.Module):
                if found.is_namespace_package or found.is_namespace_subpackage:
                    paths = found.filepath
                    if isinstance(paths, list) and directory not in paths:
                        paths.append(directory)
                parent = found
                continue
            created = self._create_module(part, [directory])
            parent.set_member(part, created)
            parent = created
        return parent


class _Choice:
    """A name bound by alternative imports (``try: from ._speedups import f`` / ``except
    ImportError: from ._native import f``): ``chosen`` is what griffe resolved it to."""

    __slots__ = ("alternatives", "chosen", "path")

    def __init__(self, path: str, alternatives: tuple[str, ...], chosen: object) -> None:
        self.path = path
        self.alternatives = alternatives
        self.chosen = chosen


def _is_private(path: str) -> bool:
    return any(part.startswith("_") for part in path.split("."))


class _Reader:
    """One extraction: load with griffe, find public names, build exports."""

    def __init__(
        self,
        root: Path,
        packages: tuple[str, ...],
        requires_python: str | None,
        requires: Sequence[str] = (),
    ) -> None:
        self.root = root
        self.packages = packages
        self.requires_python = requires_python
        self.diagnostics: list[Diagnostic] = []
        self.imports = _ModuleImports()
        self.bindings = Bindings()
        self.loader = _Loader(
            search_paths=[str(root)],
            allow_inspection=False,
            store_source=False,
            extensions=griffe.load_extensions(self.imports, self.bindings),
        )
        self.compiled: dict[str, Export] = {}
        # Protocol classes, exported or not: path -> member -> type text (Manifest.protocols).
        self.protocols: dict[str, dict[str, str]] = {}
        self._all_cache: dict[str, tuple[str, ...] | None] = {}
        # Compiled alternatives of names bound by alternative imports, inspected even when a
        # stub describes them: the stub says what the author meant, the module what runs.
        self.runtime: dict[str, Export] = {}
        self.extensions: set[str] = set()
        self.dists: dict[str, str] = {}
        for requirement in requires:
            match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
            if match:
                self.dists[_normalize(match.group(1))] = _normalize(match.group(1))

    # -- loading ------------------------------------------------------------------------------

    def read(self) -> dict[str, Export]:
        modules = self._load()
        files = _module_files(self.root, self.packages, self.extensions)
        loaded = {m.path for top in modules for m in _walk(top)}
        for module_path, (rel, kind) in files.items():
            if module_path in loaded:
                continue
            if kind == "compiled":
                continue
            self.diagnostics.append(_diagnose(self.root / rel, rel, self.requires_python))
        compiled = [m for m, (_, kind) in files.items() if kind == "compiled" and m not in loaded]
        runtime = sorted({
            alternative.rpartition(".")[0]
            for alternatives in self.bindings.alternatives.values()
            for alternative in alternatives
        } & self.extensions - set(compiled))
        if compiled or runtime:
            found, problems = inspect_compiled(self.root, [*compiled, *runtime])
            self.diagnostics.extend(problems)
            for path, export in found.items():
                inspected = self.runtime if path.rpartition(".")[0] in runtime else self.compiled
                inspected[path] = export
        for module_path, line in sorted(self.bindings.dynamic.items()):
            module = self.loader.modules_collection.members.get(module_path)
            self.diagnostics.append(Diagnostic(
                "names bound through globals() are not read statically",
                module_file(module) if isinstance(module, griffe.Module) else None, line))
        return self._exports(modules)

    def _load(self) -> list[griffe.Module]:
        modules: list[griffe.Module] = []
        with _quiet():
            for package in self.packages:
                try:
                    obj = self.loader.load(package, try_relative_path=False)
                except (griffe.LoadingError, ImportError, OSError, ValueError):
                    continue  # the module files scan names the file and the reason
                if isinstance(obj, griffe.Module):
                    modules.append(obj)
        return modules

    # -- public names -------------------------------------------------------------------------

    def _declared(self, module: griffe.Module) -> tuple[str, ...] | None:
        """The module's ``__all__`` as Python would build it, or ``None`` where it defines
        none or computes it in a way not followed statically (then every public name counts,
        and a diagnostic says so: an export is never dropped silently)."""
        if module.path in self._all_cache:
            return self._all_cache[module.path]
        self._all_cache[module.path] = None  # a cycle of __all__ references reads as none
        statements = self.bindings.all_statements.get(module.path)
        declared: tuple[str, ...] | None = None
        if statements is None:  # not read from source (a stub or compiled module): griffe's
            exports = module.exports
            declared = None if exports is None else tuple(
                e for e in exports if isinstance(e, str))
        else:
            result = evaluate_statements(
                statements, lambda local: self._other_all(module, local))
            declared = result.names
            if result.unreadable_line is not None:
                self.diagnostics.append(Diagnostic(
                    "__all__ is computed in a way siglink does not follow; every public "
                    "name of the module is exported instead",
                    module_file(module), result.unreadable_line))
        self._all_cache[module.path] = declared
        return declared

    def _other_all(self, module: griffe.Module, local: str) -> tuple[str, ...] | None:
        """The public names of the module a local dotted name refers to."""
        head, _, rest = local.partition(".")
        member = module.members.get(head)
        if isinstance(member, griffe.Alias):
            base = member.target_path
        elif isinstance(member, griffe.Module):
            base = member.path
        else:
            return None
        path = f"{base}.{rest}" if rest else base
        try:
            other = self.loader.modules_collection[path]
        except (KeyError, ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError):
            return None
        if not isinstance(other, griffe.Module):
            return None
        declared = self._declared(other)
        if declared is not None:
            return declared
        return tuple(n for n in other.members if not n.startswith("_"))

    def _public(self, module: griffe.Module) -> Iterator[tuple[str, object]]:
        """(name, target) of each public name of a public module; target is a griffe object, a
        compiled :class:`Export`, or the path of an object outside the library."""
        declared = self._declared(module)
        if declared is not None:
            names = list(declared)
        else:
            names = [n for n in module.members if not n.startswith("_")]
        is_init = module.is_init_module or module.is_package
        for name in dict.fromkeys(names):
            member = module.members.get(name)
            if member is None:
                compiled = self.compiled.get(f"{module.path}.{name}")
                if compiled is not None:
                    yield name, compiled
                elif not (name.startswith("__") and name.endswith("__")):
                    self.diagnostics.append(Diagnostic(
                        f"{module.path}.__all__ lists {name!r}, which is not defined statically",
                        module_file(module), None))
                continue
            if isinstance(member, griffe.Module) or self._typing_only(module, name, member):
                continue
            if isinstance(member, griffe.Attribute) and member.annotation is None and (
                isinstance(member.value, (griffe.ExprName, griffe.ExprAttribute))
            ):
                # `s = attributes = attrs`: another name for a function or class of the library
                named = self._resolve(_value_path(member.value, module))
                if isinstance(named, (griffe.Function, griffe.Class, Export)) or (
                    isinstance(named, griffe.Attribute) and builtin_callable(named)
                ):
                    yield name, named
                    continue
            if isinstance(member, griffe.Alias):
                if member.path in self.imports.modules or member.target_path.startswith(
                    "__future__."
                ):
                    continue
                if declared is None and not member.runtime:
                    continue  # imported under `if TYPE_CHECKING:`
                target = self._resolve(member.target_path)
                alternatives = self.bindings.alternatives.get(member.path)
                if alternatives is not None:
                    target = _Choice(member.path, alternatives, target)
                if isinstance(target, _Choice) and isinstance(target.chosen, (str, griffe.Module)):
                    target = target.chosen  # another library's object (or a module): as before
                if isinstance(target, griffe.Module):
                    continue
                if isinstance(target, str) and declared is None and (
                    not is_init or _is_stdlib(target)
                ):
                    # A plain module's imports from other libraries are not its API, nor is
                    # what a package's __init__ imports from the standard library for itself.
                    continue
                if target is None:
                    self.diagnostics.append(Diagnostic(
                        f"{module.path}.{name}: re-export of {member.target_path}, "
                        "which could not be read", module_file(module),
                        member.alias_lineno))
                    continue
                if _stub_only(target):
                    continue
                yield name, target
            elif not _stub_only(member):
                yield name, member

    def _typing_only(self, module: griffe.Module, name: str, member: griffe.Object | griffe.Alias
                     ) -> bool:
        """A name the module binds only under ``if TYPE_CHECKING:`` (or only its stub
        declares): importing it at run time fails, so it is no export. A consumer's own
        ``if TYPE_CHECKING:`` import of it is optional and never decides a link."""
        if member.runtime:
            return False
        bound = self.bindings.runtime_bound.get(module.path)
        if bound is None or name in bound:
            return False
        if "__getattr__" in bound:  # PEP 562: what it serves is there too
            filepath = module.filepath
            if isinstance(filepath, list):
                return False
            try:
                served = served_names(filepath.read_bytes())
            except OSError:
                return False
            return not served.open and name not in served.names
        return True

    def _served(self, module: griffe.Module) -> dict[str, Export]:
        """Module attributes outside the public names that still reach consumers: dunders the
        module binds (``__version__``) and names its ``__getattr__`` serves (PEP 562; see
        :mod:`._module_getattr`), each an attribute export."""
        out: dict[str, Export] = {}
        where = module_file(module)
        # Parsing the source again is the costly part: only for a module binding dunders.
        runtime = _runtime_names(module) if any(
            _is_dunder(n) and n not in _IMPLICIT for n in module.members) else None
        for name, member in module.members.items():
            # ``__version__ = ...``, ``from .x import __version__``, even where a submodule has
            # the same name (requests: ``from .__version__ import __version__``).
            if _is_dunder(name) and name not in _IMPLICIT and ((isinstance(
                member, (griffe.Attribute, griffe.Alias)) and (runtime is None or name in runtime)
                and not _stub_only(_target(member)))
                or (isinstance(member, griffe.Module) and runtime is not None and name in runtime)
            ):
                line = member.alias_lineno if isinstance(member, griffe.Alias) else (
                    member.lineno)  # an alias's own lineno resolves its target
                out[name] = Export(path=f"{module.path}.{name}", kind=ExportKind.ATTRIBUTE,
                                   module=module.path,
                                   location=f"{where}:{line}" if where else None)
        hook = module.members.get("__getattr__")
        filepath = module.filepath
        if not isinstance(hook, griffe.Function) or isinstance(filepath, list) or (
            filepath.suffix != ".py"
        ):
            return out
        try:
            served = served_names(filepath.read_bytes())
        except OSError:
            return out
        location = f"{where}:{served.line}" if where and served.line else where
        for name, deprecated in served.names.items():
            if name.isidentifier() and not (name in module.members and not _is_dunder(name)):
                out[name] = Export(path=f"{module.path}.{name}", kind=ExportKind.ATTRIBUTE,
                                   module=module.path, location=location,
                                   deprecated=deprecated)
        if served.open:
            self.diagnostics.append(Diagnostic(
                f"{module.path}.__getattr__ may serve names not read statically; uses of "
                "names it may serve are unverified", where, served.line))
        return out

    def _resolve(self, path: str, *, choices: bool = True) -> object:
        """Follow an alias chain: griffe object, compiled export, outside path, a
        :class:`_Choice` (unless not ``choices``), or None."""
        for _ in range(32):
            alternatives = self.bindings.alternatives.get(path) if choices else None
            if alternatives is not None:
                return _Choice(path, alternatives, self._resolve(path, choices=False))
            compiled = self.compiled.get(path)
            if compiled is not None:
                return compiled
            if path.partition(".")[0] not in self.packages:
                return path
            try:
                obj = self.loader.modules_collection.get_member(path)
            except LOOKUP_ERRORS:
                return None
            if isinstance(obj, griffe.Alias):
                path = obj.target_path
                continue
            return obj
        return None

    # -- exports ------------------------------------------------------------------------------

    def _exports(self, tops: list[griffe.Module]) -> dict[str, Export]:
        sites: list[tuple[str, object]] = []
        public: dict[str, str] = {}
        table = AliasTable(public)
        for top in tops:
            for module in _walk(top):
                table.add_module(module)
                if _is_private(module.path):
                    continue
                served = self._served(module)
                for name, target in self._public(module):
                    path = f"{module.path}.{name}"
                    sites.append((path, target))
                    served.pop(name, None)
                    defined = _defined_path(target)
                    # An object is named where it is defined when that is public, else by its
                    # shortest public path.
                    if defined is not None and public.get(defined) != defined and (
                        path == defined or defined not in public
                        or len(path) < len(public[defined])
                    ):
                        public[defined] = path
                for name, export in served.items():
                    sites.append((f"{module.path}.{name}", export))
        for path, export in self.compiled.items():
            module_path = path.rpartition(".")[0]
            if not _is_private(module_path):
                sites.append((path, export))
        builder = Builder(table)
        builder.compiled = self.compiled
        builder.packages = frozenset(self.packages)
        builder.uncertain = self.bindings.uncertain
        builder.patched = self.bindings.patched
        exports: dict[str, Export] = {}
        for path, target in sites:
            built = self._build(path, target, builder)
            if built is not None:
                exports[path] = relocate(built, path)
        for top in tops:
            for module in _walk(top):
                for member in module.members.values():
                    if isinstance(member, griffe.Class) and not isinstance(member, griffe.Alias):
                        found = builder.protocol_members(member)
                        if found is not None:
                            self.protocols[table.public.get(member.path, member.path)] = found
        for cls, base in sorted(builder.unread.items()):
            self.diagnostics.append(Diagnostic(
                f"{cls}: base class {base} could not be read; the members it provides are "
                "unverified"))
        return exports

    def _build(self, path: str, target: object, builder: Builder) -> Export | None:
        if isinstance(target, Export):
            return target
        if isinstance(target, str):
            return Export(path=path, kind=ExportKind.ATTRIBUTE, module=target.rpartition(".")[0],
                          reference=f"{self._distribution(target)}:{target}")
        if isinstance(target, _Choice):
            return self._choose(path, target, builder)
        if not isinstance(target, griffe.Object):
            return None
        try:
            return mark_extension_point(builder.export(target), target)
        except (griffe.AliasResolutionError, griffe.CyclicAliasError) as e:
            self.diagnostics.append(Diagnostic(f"{path}: {e}", None, None))
            return None

    def _choose(self, path: str, choice: _Choice, builder: Builder) -> Export | None:
        """The export of a name bound by alternative imports: what every alternative accepts
        (see :mod:`._combine`); a compiled alternative counts as it runs, not as its stub."""
        views: list[Export] = []
        for alternative in choice.alternatives:
            target = self._resolve(alternative, choices=False)
            if isinstance(target, str):  # another library's: what griffe chose, as before
                return self._build(path, choice.chosen, builder)
            built = self._build(path, target, builder) if target is not None else None
            if built is not None:
                views.append(built)
            runtime = self.runtime.get(alternative)
            if runtime is not None:
                views.append(runtime)
            elif built is None or not built.compiled:
                self._unseen(path, alternative)
        if len(views) < 2:
            return views[0] if views else self._build(path, choice.chosen, builder)
        export, combined = combine(views)
        if not combined:
            preferred = next((v for v in views if v.compiled), views[0])
            shown = "" if preferred.signature is None else str(preferred.signature)
            self.diagnostics.append(Diagnostic(
                f"{path}: the alternatives {', '.join(choice.alternatives)} accept different "
                f"calls; recorded {preferred.path}{shown}, which runs when it imports"))
            return preferred
        return export

    def _unseen(self, path: str, alternative: str) -> None:
        """Say so when a compiled alternative could not be inspected, or exists only as source
        (an sdist): what it accepts at run time is unknown."""
        module = alternative.rpartition(".")[0]
        if module in self.extensions:
            why = "could not be inspected"
        elif any(self.root.joinpath(*module.split(".")).with_suffix(suffix).is_file()
                 for suffix in (".c", ".pyx", ".cpp")):
            why = "is not built (source only)"
        else:
            return
        self.diagnostics.append(Diagnostic(
            f"{path}: the compiled alternative {alternative} {why}; recorded what the other "
            "alternatives accept"))

    def _distribution(self, path: str) -> str:
        """The distribution providing the top-level module of ``path``: ``python`` for the
        standard library, else the Requires-Dist entry of that name, else the module's name.

        Deliberately not what happens to be installed here: the manifest must not depend on
        the machine that computed it.
        """
        if _is_stdlib(path):
            return "python"
        key = _normalize(path.partition(".")[0])
        return self.dists.get(key, key)


# Attributes every module has whatever its source says: never exports of their own.
_IMPLICIT: Final = frozenset({
    "__all__", "__builtins__", "__cached__", "__dict__", "__doc__", "__file__", "__loader__",
    "__name__", "__package__", "__path__", "__spec__", "__annotations__", "__getattr__",
    "__dir__", "__class__",
})


def _runtime_names(module: griffe.Module) -> frozenset[str] | None:
    """The names the module's ``.py`` source binds (a stub beside it may declare dunders the
    module no longer has: attrs 24.1's ``__author__``); None when that cannot be told."""
    filepath = module.filepath
    if isinstance(filepath, list):
        return None
    return _py_bound(filepath.with_suffix(".py"))


@functools.lru_cache(maxsize=256)
def _py_bound(source: Path) -> frozenset[str] | None:
    from siglink.python.usage import bound_names

    try:
        return bound_names(source.read_bytes())
    except OSError:
        return None


def _target(member: object) -> object:
    """An alias's final target (None when it cannot be resolved), else the member itself."""
    if not isinstance(member, griffe.Alias):
        return member
    try:
        return member.final_target
    except LOOKUP_ERRORS:
        return None


def _stub_only(obj: object) -> bool:
    """A module dunder that a stub declares and the module's ``.py`` does not bind."""
    if not (isinstance(obj, griffe.Attribute) and _is_dunder(obj.name)
            and isinstance(obj.parent, griffe.Module)):
        return False
    runtime = _runtime_names(obj.parent)
    return runtime is not None and obj.name not in runtime


def _is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def _is_stdlib(path: str) -> bool:
    top = path.partition(".")[0]
    return top in sys.stdlib_module_names or top == "builtins"


def _value_path(value: griffe.ExprName | griffe.ExprAttribute, module: griffe.Module) -> str:
    """What a name on the right of ``=`` refers to, looked up in the module first (griffe
    cannot resolve names used in a stub merged into its module)."""
    if isinstance(value, griffe.ExprName):
        bound = module.members.get(value.name)
        if isinstance(bound, griffe.Alias):
            return bound.target_path
        if bound is not None:
            return bound.path
    return value.canonical_path


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _defined_path(target: object) -> str | None:
    if isinstance(target, _Choice):
        return _defined_path(target.chosen)
    if isinstance(target, griffe.Object):
        return target.path
    if isinstance(target, Export):
        return target.path
    return None


def _walk(module: griffe.Module) -> Iterator[griffe.Module]:
    yield module
    for member in module.members.values():
        if isinstance(member, griffe.Module):
            yield from _walk(member)


def _stubs_reach_alias_targets() -> None:
    """Make griffe merge a stub class into the class a module imports under that name.

    ``attr/__init__.pyi`` declares ``class Attribute`` with its fields; ``attr/__init__.py``
    imports ``Attribute`` from ``attr._make``. griffe merges the stub into the alias, whose
    ``members`` is a fresh dict on every access, so the stub's members are silently lost.
    Merging into the alias's final target keeps both: the constructor that runs (the
    ``.py``) and the members the stub types. Installed once, at import, so that readers in
    several threads all see it (griffe is pinned: this is its private merge step).
    """
    from griffe._internal import merger

    original = getattr(merger, "_merge_class_stubs", None)
    if original is None or getattr(original, "_siglink", False):
        return

    def merge(class_: Any, stubs: Any, *, psd: bool = False) -> None:
        if isinstance(class_, griffe.Alias):
            try:
                class_ = class_.final_target
            except LOOKUP_ERRORS:
                return
        original(class_, stubs, psd=psd)

    merge._siglink = True  # type: ignore[attr-defined]
    merger._merge_class_stubs = merge


_stubs_reach_alias_targets()


@contextmanager
def _quiet() -> Iterator[None]:
    """griffe logs (and old libraries' escape sequences warn) to stderr; we report instead."""
    with warnings.catch_warnings(), griffe.logger.disable():
        warnings.simplefilter("ignore")
        yield


# -- modules that could not be read ----------------------------------------------------------

_EXTENSION = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[^.]+)*\.(so|pyd)$")


def _module_files(
    root: Path, packages: tuple[str, ...], extensions: set[str] | None = None
) -> dict[str, tuple[str, str]]:
    """Every importable module under ``root`` for ``packages``: dotted path -> (relative file,
    ``source`` or ``compiled``). A ``.py``/``.pyi`` wins over an extension of the same name;
    ``extensions`` collects every module that has an extension file, stub or not."""
    found: dict[str, tuple[str, str]] = {}
    extensions = set() if extensions is None else extensions

    def add(module: str, rel: str, kind: str) -> None:
        extensions.add(module)
        if kind == "compiled" and module in found:
            return
        found[module] = (rel, kind)

    def scan(directory: Path, prefix: str) -> None:
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            rel = Path(entry.path).relative_to(root).as_posix()
            if entry.is_dir():
                if entry.name.isidentifier() and entry.name != "__pycache__":
                    # a PEP 420 namespace package below the package is importable too
                    scan(Path(entry.path), f"{prefix}.{entry.name}")
                continue
            stem, _, suffix = entry.name.partition(".")
            if not stem.isidentifier():
                continue
            module = prefix if stem == "__init__" else f"{prefix}.{stem}"
            if suffix in ("py", "pyi"):
                if suffix == "pyi" or module not in found or found[module][1] == "compiled":
                    found[module] = (rel, "source")
            elif _EXTENSION.match(entry.name):
                add(module, rel, "compiled")

    for package in packages:
        base = root / package
        if base.is_dir():
            scan(base, package)
        else:
            for candidate in sorted(root.glob(f"{package}.*")):
                if candidate.suffix in (".py", ".pyi"):
                    found[package] = (candidate.name, "source")
                elif _EXTENSION.match(candidate.name):
                    add(package, candidate.name, "compiled")
    return found


_PYTHON_FEATURES = (
    (re.compile(r"^\s*type\s+[A-Za-z_]\w*\s*(\[.*\])?\s*="), (3, 12),
     "the type statement (PEP 695)"),
    (re.compile(r"^\s*(async\s+)?def\s+\w+\s*\["), (3, 12), "type parameter syntax (PEP 695)"),
    (re.compile(r"^\s*class\s+\w+\s*\["), (3, 12), "type parameter syntax (PEP 695)"),
    (re.compile(r"^\s*except\s*\*"), (3, 11), "except* (PEP 654)"),
    (re.compile(r"^\s*match\s+.+:\s*$"), (3, 10), "the match statement (PEP 634)"),
    (re.compile(r"^\s*case\s+.+:\s*$"), (3, 10), "the match statement (PEP 634)"),
)


def _diagnose(path: Path, rel: str, requires_python: str | None) -> Diagnostic:
    """Why a module could not be read: a syntax error (or newer-Python syntax), bad text."""
    try:
        data = path.read_bytes()
    except OSError as e:
        return Diagnostic(f"cannot read module: {e.strerror}", rel, None)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return Diagnostic(f"not UTF-8 text ({e.reason} at byte {e.start}); module skipped",
                          rel, data.count(b"\n", 0, e.start) + 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, rel, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as e:
        reason = e.msg
        newer = _newer_python(e, data, requires_python)
        if newer:
            return Diagnostic(f"{newer} ({reason}); module skipped", rel, e.lineno)
        return Diagnostic(f"syntax error: {reason}; module skipped", rel, e.lineno)
    except ValueError as e:
        return Diagnostic(f"cannot parse module: {e}; module skipped", rel, None)
    return Diagnostic("module could not be read; skipped", rel, None)


def _newer_python(error: SyntaxError, data: bytes, requires_python: str | None) -> str | None:
    running = sys.version_info[:2]
    here = f"{running[0]}.{running[1]}"
    line = error.text
    if line is None and error.lineno:
        lines = data.decode("utf-8", "replace").splitlines()
        line = lines[error.lineno - 1] if 0 < error.lineno <= len(lines) else ""
    for pattern, needed, feature in _PYTHON_FEATURES:
        if needed > running and pattern.match(line or ""):
            return (f"needs Python {needed[0]}.{needed[1]}+: uses {feature}, "
                    f"but this is Python {here}")
    if requires_python:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        try:
            spec = SpecifierSet(requires_python)
        except InvalidSpecifier:
            return None
        newer = (f"{running[0]}.{minor}" for minor in range(running[1] + 1, running[1] + 100))
        if not spec.contains(f"{here}.{sys.version_info[2]}", prereleases=True) and any(
            spec.contains(v, prereleases=True) for v in newer
        ):
            return f"needs a newer Python: Requires-Python {requires_python}, this is Python {here}"
    return None
