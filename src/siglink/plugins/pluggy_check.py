"""Checking pluggy plugins statically against a project's hookspecs, with full types.

pluggy checks only a hookimpl's argument *names*, at registration, after importing the plugin.
This reads the project (``pytest``), its hookspecs, its built-in plugins and every plugin
installed behind its entry-point group (``pytest11``) with griffe, imports none of them, and
checks each hookimpl under pluggy's convention:

pluggy's own checks are findings of the contract's rules, so one vocabulary covers both:

- P3: an implementation argument (one without a default, ``self`` aside) that the spec lacks:
  pluggy passes only the spec's arguments, by keyword (in any order);
- P11 / P13: each spec argument's type must be assignable to the implementation's annotation,
  and the implementation's return to the spec's (``| None`` always allowed: pluggy never
  collects a None result), by the contract checker;
- ``wrapper=True``: a generator function (R6 otherwise) receiving the hook's result (the
  spec's return type without None, in a list unless the spec is ``firstresult``) and returning
  it: its ``Generator[Y, S, R]`` annotation needs result <: S (P11 at ``hook_result``) and
  R <: result (P13); ``hookwrapper=True``: a generator function; both at once, or either on
  a ``historic`` hook: R6;
- P1: a function named like a hook (the project's prefix, ``pytest_``) or marked with the
  project's ``hookimpl``, for which no spec exists anywhere (project or plugins), and not
  marked ``optionalhook=True``: pluggy refuses it when the plugin is registered.

Hookspecs are the functions of the modules that use the project's ``HookspecMarker`` (or are
passed to ``add_hookspecs``): pytest's own and the plugins' (xdist's ``newhooks``). The
entry-point group is read from the project's ``load_setuptools_entrypoints("GROUP")``.

>>> from siglink.contracts.verdict import Verdict
>>> hook = HookCheck("pytest_configure", "p.pytest_configure", "p.py:3", (), Verdict())
>>> PluginCheck("p", "1.0", "entry point p = p", "p", (hook,)).ok
True
"""

from __future__ import annotations

import ast
import os
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import griffe

from siglink.contracts.compat import check
from siglink.contracts.signature import Param, ParamKind, Signature
from siglink.contracts.types import ClassGraph, TypeRef, parse_type
from siglink.contracts.verdict import Problem, Severity, Verdict
from siglink.errors import BadInputError

__all__ = ["HookCheck", "PluggyReport", "PluginCheck", "pluggy_check"]

_SPEC_MARKERS: Final = frozenset({"pluggy.HookspecMarker", "pluggy._hooks.HookspecMarker"})
_IMPL_MARKERS: Final = frozenset({"pluggy.HookimplMarker", "pluggy._hooks.HookimplMarker"})
_GENERATORS: Final = frozenset({"collections.abc.Generator", "typing.Generator"})
_LOOKUP: Final = (griffe.GriffeError, KeyError, ValueError, AttributeError)


def __dir__() -> list[str]:
    return list(__all__)


@dataclass(frozen=True)
class HookCheck:
    """One hookimpl: where it is, its options, and the verdict."""

    hook: str
    function: str
    location: str
    options: tuple[str, ...]
    verdict: Verdict

    def to_json(self) -> dict[str, object]:
        return {"hook": self.hook, "function": self.function, "location": self.location,
                "options": list(self.options), "verdict": self.verdict.to_json()}


@dataclass(frozen=True)
class PluginCheck:
    """One plugin (a built-in module of the project, or an entry point's module)."""

    name: str
    version: str
    source: str
    module: str
    hooks: tuple[HookCheck, ...] = ()
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None and all(h.verdict.ok for h in self.hooks)

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"name": self.name, "version": self.version,
                                   "source": self.source, "module": self.module, "ok": self.ok,
                                   "hooks": [h.to_json() for h in self.hooks]}
        if self.problem is not None:
            data["problem"] = self.problem
        return data


@dataclass(frozen=True)
class PluggyReport:
    project: str
    version: str
    group: str
    specs: int
    plugins: tuple[PluginCheck, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.plugins)

    def to_json(self) -> dict[str, object]:
        return {"project": self.project, "version": self.version, "group": self.group,
                "specs": self.specs, "ok": self.ok,
                "plugins": [p.to_json() for p in self.plugins]}


@dataclass(frozen=True)
class _Spec:
    name: str
    params: tuple[str, ...]
    signature: Signature
    firstresult: bool
    historic: bool
    module: str


# -- finding the project and its plugins ------------------------------------------------------


def _distribution(name: str, paths: Sequence[str]) -> Any:
    from importlib.metadata import distributions

    wanted = re.sub(r"[-_.]+", "-", name).lower()
    for dist in distributions(path=list(paths)):
        found = re.sub(r"[-_.]+", "-", dist.metadata["Name"] or "").lower()
        if found == wanted:
            return dist
    raise BadInputError(f"{name}: no such distribution installed on the search path "
                        f"({len(paths)} directories; add one with --path)")


def _top_levels(dist: Any) -> tuple[list[str], Path]:
    """The distribution's top-level modules and the directory that holds them."""
    tops: set[str] = set()
    for file in dist.files or ():
        parts = Path(str(file)).parts
        if not parts or parts[0].endswith((".dist-info", ".data")) or parts[0] == "..":
            continue
        if len(parts) == 1:
            if parts[0].endswith(".py"):
                tops.add(parts[0][:-3])
        elif parts[0].isidentifier() and parts[0] != "__pycache__":
            tops.add(parts[0])
    base = Path(str(dist.locate_file(""))).resolve()
    return sorted(tops), base


def _sources(dist: Any) -> Iterator[Path]:
    for file in dist.files or ():
        if str(file).endswith(".py") and not str(file).startswith(".."):
            yield Path(str(dist.locate_file(file)))


def _group_and_project(dist: Any) -> tuple[str | None, str | None]:
    """The entry-point group the project loads and its marker name (``HookspecMarker("x")``)."""
    group = project = None
    for path in _sources(dist):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if group is None:
            found = re.search(r"load_setuptools_entrypoints\(\s*['\"]([^'\"]+)['\"]", text)
            group = found.group(1) if found else None
        if project is None:
            found = re.search(r"HookspecMarker\(\s*['\"]([^'\"]+)['\"]", text)
            project = found.group(1) if found else None
        if group and project:
            break
    return group, project


# -- the model ---------------------------------------------------------------------------------


class _Model:
    """Everything griffe read: spec and impl markers, the public names, the class graph."""

    def __init__(self, search: list[str], modules: list[str], public_tops: list[str]) -> None:
        from siglink.python.static import AliasTable, Builder

        self.loader = griffe.GriffeLoader(search_paths=search, allow_inspection=False,
                                          store_source=False)
        self.modules: dict[str, griffe.Module] = {}
        with _quiet():
            for name in modules:
                try:
                    obj = self.loader.load(name, try_relative_path=False)
                except (griffe.LoadingError, ImportError, OSError, ValueError):
                    continue
                if isinstance(obj, griffe.Module):
                    self.modules[name] = obj
        self.all = [m for top in self.modules.values() for m in _walk(top)]
        public: dict[str, str] = {}
        self.table = AliasTable(public)
        for module in self.all:
            self.table.add_module(module)
        self._public(public_tops, public)
        self.builder = Builder(self.table)
        self.spec_markers = self._markers(_SPEC_MARKERS)
        self.impl_markers = self._markers(_IMPL_MARKERS)
        self._trees: dict[str, dict[int, ast.AST]] = {}

    def final(self, path: str) -> str:
        """Follow aliases to the object's defining path (the path itself when unresolvable)."""
        for _ in range(16):
            try:
                obj = self.loader.modules_collection.get_member(path)
            except _LOOKUP:
                return path
            if isinstance(obj, griffe.Alias):
                path = obj.target_path
                continue
            return str(obj.path)
        return path

    def _public(self, tops: list[str], public: dict[str, str]) -> None:
        """Name objects by the project's public re-exports (``pytest.Config``), however they
        are reached (``_pytest.config.Config``, an alias in another module)."""
        exported: dict[str, str] = {}
        for top in tops:
            module = self.modules.get(top)
            if module is None:
                continue
            for name, member in module.members.items():
                if isinstance(member, griffe.Alias) and not name.startswith("_"):
                    exported.setdefault(self.final(member.target_path), f"{top}.{name}")
        public.update(exported)
        # Every other re-export is named by what it re-exports (``xdist.scheduler.Scheduling``
        # is ``xdist.scheduler.protocol.Scheduling``), so both sides of a check agree.
        for module in self.all:
            for member in module.members.values():
                if isinstance(member, griffe.Alias):
                    final = self.final(member.target_path)
                    named = exported.get(final, final)
                    public.setdefault(member.path, named)
                    public.setdefault(member.target_path, named)

    def _markers(self, factories: frozenset[str]) -> set[str]:
        found: set[str] = set()
        for module in self.all:
            for member in module.members.values():
                if isinstance(member, griffe.Attribute) and isinstance(
                        member.value, griffe.ExprCall) and _canonical(
                        member.value.function) in factories:
                    found.add(member.path)
        return found

    def decorator(self, func: griffe.Function, markers: set[str]) -> dict[str, str] | None:
        """The options of a decorator that is one of ``markers`` (``{}`` without a call)."""
        for decorator in func.decorators:
            value = decorator.value
            call = value if isinstance(value, griffe.ExprCall) else None
            head = call.function if call is not None else value
            if self.final(_canonical(head)) not in markers:
                continue
            options: dict[str, str] = {}
            for argument in call.arguments if call is not None else ():
                if isinstance(argument, griffe.ExprKeyword):
                    options[argument.name] = str(argument.value)
            return options
        return None

    def type_of(self, expr: Any, module: griffe.Module) -> TypeRef | None:
        return self.builder.type_of(expr, module)

    def signature(self, func: griffe.Function, drop_first: bool) -> Signature:
        return self.builder.signature(func, drop_first=drop_first)

    def classes(self) -> ClassGraph:
        from siglink.python.static import render

        bases: dict[str, tuple[str, ...]] = dict(_ENUM_BASES)
        for module in self.all:
            for member in module.members.values():
                if not isinstance(member, griffe.Class):
                    continue
                rendered = []
                for base in member.bases:
                    try:
                        rendered.append(str(parse_type(render(base, self.table))))
                    except BadInputError:
                        continue
                names = rendered or ["object"]
                bases[member.path] = tuple(names)
                public = self.table.public.get(member.path)
                if public is not None:
                    bases.setdefault(public, tuple(names))
        return ClassGraph(bases)

    def generator(self, func: griffe.Function) -> bool | None:
        """Whether the function's body yields (``None`` when its source cannot be read)."""
        module = func.module
        filepath = module.filepath
        if isinstance(filepath, list):
            return None
        key = str(filepath)
        nodes: dict[int, ast.AST] | None = self._trees.get(key)
        if nodes is None:
            try:
                tree = ast.parse(Path(filepath).read_bytes())
            except (OSError, SyntaxError, ValueError):
                return None
            nodes = {}
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    nodes[node.lineno] = node
                    for d in node.decorator_list:
                        nodes.setdefault(d.lineno, node)
            self._trees[key] = nodes
        found = nodes.get(func.lineno or 0)
        return None if found is None else _yields(found)


def _yields(node: ast.AST) -> bool:
    stack = list(ast.iter_child_nodes(node))
    while stack:
        child = stack.pop()
        if isinstance(child, (ast.Yield, ast.YieldFrom)):
            return True
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        stack.extend(ast.iter_child_nodes(child))
    return False


def _canonical(expr: Any) -> str:
    if isinstance(expr, griffe.Expr):
        try:
            return expr.canonical_path
        except _LOOKUP:
            return str(expr)
    return str(expr)


def _walk(module: griffe.Module) -> Iterator[griffe.Module]:
    yield module
    for member in module.members.values():
        if isinstance(member, griffe.Module):
            yield from _walk(member)


class _quiet:
    def __enter__(self) -> None:
        import warnings

        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("ignore")
        self._logger = griffe.logger.disable()
        self._logger.__enter__()

    def __exit__(self, *exc: object) -> None:
        self._logger.__exit__(None, None, None)
        self._warnings.__exit__(None, None, None)


# -- specs and impls ----------------------------------------------------------------------------


def _functions(module: griffe.Module) -> Iterator[griffe.Function]:
    for member in module.members.values():
        if isinstance(member, griffe.Function):
            yield member


def _specs(model: _Model, prefix: str, spec_modules: set[str]) -> dict[str, _Spec]:
    specs: dict[str, _Spec] = {}
    for module in model.all:
        functions = list(_functions(module))
        marked = {f.name: model.decorator(f, model.spec_markers) for f in functions}
        if module.path not in spec_modules and not any(v is not None for v in marked.values()):
            continue
        for func in functions:
            options = marked.get(func.name)
            if options is None and not func.name.startswith(prefix):
                continue
            options = options or {}
            sig = model.signature(func, drop_first=False)
            names = tuple(p.name for p in sig.params if not p.kind.variadic)
            specs.setdefault(func.name, _Spec(
                func.name, names, sig, options.get("firstresult") == "True",
                options.get("historic") == "True", module.path))
    return specs


def _spec_modules(model: _Model) -> set[str]:
    """Modules passed to ``add_hookspecs(...)`` anywhere (``self.add_hookspecs(_pytest.hookspec)``,
    ``pluginmanager.add_hookspecs(newhooks)``)."""
    found: set[str] = set()
    for module in model.all:
        filepath = module.filepath
        if isinstance(filepath, list):
            continue
        try:
            text = Path(filepath).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for match in re.finditer(r"add_hookspecs\(\s*([A-Za-z_][\w.]*)\s*[,)]", text):
            name = match.group(1)
            head, _, rest = name.partition(".")
            member = module.members.get(head)
            if isinstance(member, griffe.Alias):
                path = member.target_path + (f".{rest}" if rest else "")
            elif isinstance(member, griffe.Module):
                path = member.path + (f".{rest}" if rest else "")
            else:
                path = name
            found.add(model.final(path))
    return found


def _impls(model: _Model, module: griffe.Module, prefix: str,
           specs: dict[str, _Spec]) -> Iterator[tuple[griffe.Function, dict[str, str], bool]]:
    """``(function, options, is_method)`` of every hookimpl in ``module``: module-level
    functions named like hooks or marked; methods of classes that have any (plugins registered
    as instances)."""
    for func in _functions(module):
        options = model.decorator(func, model.impl_markers)
        if options is not None or (func.name.startswith(prefix) and
                                   func.name != f"{prefix}plugins"):
            yield func, options or {}, False
    for member in module.members.values():
        if not isinstance(member, griffe.Class):
            continue
        methods = [m for m in member.members.values() if isinstance(m, griffe.Function)]
        chosen = []
        for method in methods:
            options = model.decorator(method, model.impl_markers)
            if options is not None or method.name in specs:
                chosen.append((method, options or {}, True))
        if any(model.decorator(m, model.impl_markers) is not None for m, _, _ in chosen) or (
                any(m.name.startswith(prefix) for m, _, _ in chosen)):
            yield from chosen


def _check_impl(model: _Model, func: griffe.Function, options: dict[str, str], *,
                is_method: bool, specs: dict[str, _Spec], prefix: str,
                classes: ClassGraph) -> HookCheck | None:
    hook = options.get("specname", "").strip("'\"") or func.name
    shown = [k for k, v in options.items() if v == "True"]
    location = f"{_module_file(func.module)}:{func.lineno}"
    where = func.path
    spec = specs.get(hook)
    problems: list[Problem] = []
    unverified: list[str] = []
    if spec is None:
        if options.get("optionalhook") == "True":
            return HookCheck(hook, where, location, tuple(shown),
                             Verdict(unverified=("optional hook: no spec installed",)))
        if not hook.startswith(prefix) and not options:
            return None
        problems.append(Problem("P1", "", f"a hookspec named {hook}", "none", _BREAK,
                                "unknown hook: pluggy refuses it when the plugin registers"))
        return HookCheck(hook, where, location, tuple(shown), Verdict(tuple(problems)))
    try:
        sig = model.signature(func, drop_first=is_method)
    except (BadInputError, *_LOOKUP) as e:
        return HookCheck(hook, where, location, tuple(shown),
                         Verdict(unverified=(f"signature: cannot be read ({e})",)))
    required = [p for p in sig.params if not p.kind.variadic and p.default is None]
    extra = [p.name for p in required if p.name not in spec.params]
    if extra:
        problems.append(Problem(
            "P3", f"param {', '.join(extra)}", f"a subset of ({', '.join(spec.params)})",
            f"({', '.join(p.name for p in required)})", _BREAK,
            "declared in the hookimpl but not in the hookspec: pluggy cannot pass it"))
    wrapper = options.get("wrapper") == "True"
    old_wrapper = options.get("hookwrapper") == "True"
    if wrapper and old_wrapper:
        problems.append(Problem("R6", "", "wrapper or hookwrapper", "both", _BREAK,
                                "wrapper and hookwrapper are mutually exclusive"))
    if (wrapper or old_wrapper) and spec.historic:
        problems.append(Problem("R6", "", "a plain implementation", "a wrapper", _BREAK,
                                "a historic hook cannot be wrapped"))
    if wrapper or old_wrapper:
        yields = model.generator(func)
        if yields is False:
            problems.append(Problem("R6", "", "a generator function", "a plain function",
                                    _BREAK, "a wrapper must yield once"))
        elif yields is None:
            unverified.append("wrapper: the body could not be read")
    spec_types = {p.name: p.annotation for p in spec.signature.params}
    names = [p for p in required if p.name in spec.params]
    expected = [Param(p.name, ParamKind.KEYWORD_ONLY, spec_types.get(p.name)) for p in names]
    provided = [Param(p.name, ParamKind.KEYWORD_ONLY, p.annotation) for p in names]
    spec_return = spec.signature.returns
    impl_return = sig.returns
    if spec_return is not None and not spec_return.is_none:
        # pluggy never collects a None result (firstresult or not): None is "no answer".
        spec_return = parse_type(f"{spec_return} | None")
    if old_wrapper:
        spec_return = impl_return = None  # it yields to a Result object: nothing typed flows
    elif wrapper:
        spec_return, impl_return = _wrapper_result(spec, sig, expected, provided, unverified)
    verdict = check(Signature(expected, spec_return), Signature(provided, impl_return),
                    classes=classes)
    kept = tuple(_invariance_to_review(p) for p in verdict.problems
                 if p.severity is not Severity.HARMLESS)
    merged = Verdict((*problems, *kept), (*unverified, *verdict.unverified))
    return HookCheck(hook, where, location, tuple(shown), merged)


_BREAK: Final = Severity.INCOMPATIBLE
# The numeric and text enums are their value types (``ExitCode`` is passed where ``int`` is).
_ENUM_BASES: Final = {
    "enum.IntEnum": ("int", "enum.Enum"), "enum.IntFlag": ("int", "enum.Flag"),
    "enum.StrEnum": ("str", "enum.Enum"), "enum.Flag": ("enum.Enum",),
}
_NONE: Final = parse_type("None")


def _without_none(t: TypeRef) -> TypeRef:
    if t.is_union:
        kept = [m for m in t.members if not m.is_none]
        return parse_type(" | ".join(map(str, kept))) if kept else t
    return t


def _invariance_to_review(problem: Problem) -> Problem:
    """A user generic class's parameters are compared invariantly (their variance is not
    recorded): ``ExceptionInfo[BaseException]`` for ``ExceptionInfo[KeyboardInterrupt]`` is
    then unknown, not a break."""
    if problem.rule not in ("P11", "P13"):
        return problem
    try:
        expected, found = parse_type(problem.expected), parse_type(problem.found)
    except BadInputError:
        return problem
    pairs = [(e, f) for e in expected.members for f in found.members
             if e.name == f.name and e.args and "." in e.name
             and not e.name.startswith(("typing.", "collections.", "builtins."))]
    if not pairs:
        return problem
    return Problem(problem.rule, problem.path, problem.expected, problem.found, Severity.REVIEW,
                   f"{pairs[0][0].name}'s type parameters are compared invariantly "
                   "(their variance is not recorded)")


def _wrapper_result(spec: _Spec, sig: Signature, expected: list[Param], provided: list[Param],
                    unverified: list[str]) -> tuple[TypeRef | None, TypeRef | None]:
    """A new-style wrapper receives the hook's result at its ``yield`` and returns it: the
    spec's return (without None: a firstresult hook's result is the first non-None answer), in
    a list unless the spec is firstresult. A hook returning None has no result to type."""
    returns = spec.signature.returns
    if returns is None or returns.is_none:
        return None, None
    if sig.returns is None or sig.returns.name not in _GENERATORS or len(sig.returns.args) != 3:
        unverified.append("wrapper: the result it receives and returns is not annotated")
        return None, None
    _, sent, returned = sig.returns.args
    if sent.is_none and returned.is_none:  # ``Generator[None]``: the result is not typed
        unverified.append("wrapper: Generator[None] does not type the hook's result")
        return None, None
    inner = _without_none(returns)
    result = inner if spec.firstresult else parse_type(f"list[{inner}]")
    expected.append(Param("hook_result", ParamKind.KEYWORD_ONLY, result))
    provided.append(Param("hook_result", ParamKind.KEYWORD_ONLY, sent))
    return result, returned


def _module_file(module: griffe.Module) -> str:
    from siglink.python.static import module_file

    return module_file(module) or module.path


# -- the check ----------------------------------------------------------------------------------


def pluggy_check(
    project: str, *, paths: Sequence[str] = (), group: str | None = None,
    builtins: bool = True,
) -> PluggyReport:
    """Check every plugin installed for ``project`` (its built-in plugins with ``builtins``,
    and every entry point of its group found on ``paths`` + ``sys.path``), statically.

    :raises BadInputError: the project is not installed, or has no hookspecs.
    """
    from importlib.metadata import distributions

    search = [os.path.abspath(p) for p in paths] + [p for p in sys.path if p]
    dist = _distribution(project, search)
    tops, base = _top_levels(dist)
    found_group, marker = _group_and_project(dist)
    group = group or found_group
    if group is None or marker is None:
        raise BadInputError(f"{project}: not a pluggy-based project (no HookspecMarker and no "
                            "load_setuptools_entrypoints(GROUP) in its source); give --group")
    prefix = f"{marker}_"
    entries: list[tuple[Any, Any]] = []
    seen: set[str] = set()
    plugin_tops: list[str] = []
    plugin_bases: list[str] = []
    for other in distributions(path=search):
        try:
            name = other.metadata["Name"] or "?"
            points = [ep for ep in other.entry_points if ep.group == group]
        except UnicodeDecodeError as e:  # importlib.metadata reads them as UTF-8
            where = getattr(other, "_path", "a distribution on the search path")
            raise BadInputError(f"{where}: metadata or entry points not UTF-8 text (byte "
                                f"0x{e.object[e.start]:02x})") from None
        if name.lower() in seen:
            continue
        if not points:
            continue
        seen.add(name.lower())
        other_tops, other_base = _top_levels(other)
        plugin_tops.extend(other_tops)
        plugin_bases.append(str(other_base))
        entries.extend((other, ep) for ep in points)
    search_paths = list(dict.fromkeys([str(base), *plugin_bases, *search]))
    model = _Model(search_paths, list(dict.fromkeys([*tops, *plugin_tops])), tops)
    specs = _specs(model, prefix, _spec_modules(model))
    if not specs:
        raise BadInputError(f"{project}: no hookspecs found (functions marked with "
                            f"HookspecMarker({marker!r}) or named {prefix}*)")
    classes = model.classes()
    ctx = _Context(model, specs, prefix, classes, {s.module for s in specs.values()})
    checks: list[PluginCheck] = []
    if builtins:
        for module in model.all:
            if module.path.split(".")[0] not in tops or module.path in ctx.spec_modules:
                continue
            hooks = ctx.module_hooks(module, module)
            if hooks:
                checks.append(PluginCheck(module.path, dist.version, "builtin", module.path,
                                          tuple(hooks)))
    checks.extend(ctx.entry_point(other, ep) for other, ep in entries)
    return PluggyReport(project, dist.version, group, len(specs), tuple(checks))


@dataclass(frozen=True)
class _Context:
    model: _Model
    specs: dict[str, _Spec]
    prefix: str
    classes: ClassGraph
    spec_modules: set[str]

    def check(self, func: griffe.Function, options: dict[str, str],
              is_method: bool) -> HookCheck | None:
        return _check_impl(self.model, func, options, is_method=is_method, specs=self.specs,
                           prefix=self.prefix, classes=self.classes)

    def module_hooks(self, sub: griffe.Module, plugin: griffe.Module) -> list[HookCheck]:
        """The hookimpls of ``sub``: all of them for the plugin module itself, only its
        plugin classes' for another module of the plugin's package."""
        hooks = []
        for func, options, is_method in _impls(self.model, sub, self.prefix, self.specs):
            if sub is not plugin and not is_method:
                continue
            hook = self.check(func, options, is_method)
            if hook is not None:
                hooks.append(hook)
        return hooks

    def entry_point(self, dist: Any, ep: Any) -> PluginCheck:
        model = self.model
        name = dist.metadata["Name"] or "?"
        target = ep.value.replace(" ", "")
        module_name, _, attr = target.partition(":")
        label = f"entry point {ep.name} = {ep.value}"
        module = _module(model, module_name)
        if module is None:
            return PluginCheck(name, dist.version, label, target, (),
                               f"{target}: module {module_name} cannot be read")
        if attr:
            obj = _member(module, attr)
            if isinstance(obj, griffe.Class):
                hooks = []
                for func in obj.members.values():
                    if not isinstance(func, griffe.Function):
                        continue
                    options = model.decorator(func, model.impl_markers)
                    if options is None and not func.name.startswith(self.prefix):
                        continue
                    hook = self.check(func, options or {}, True)
                    if hook is not None:
                        hooks.append(hook)
                return PluginCheck(name, dist.version, label, target, tuple(hooks))
            if not isinstance(obj, griffe.Module):
                return PluginCheck(name, dist.version, label, target, (), (
                    f"{target}: {module_name} has no module or class {attr} to read "
                    "hookimpls from"))
            module = obj
        top = module.path.split(".")[0]
        found: list[HookCheck] = []
        for sub in model.all:
            if sub is module or (sub.path.split(".")[0] == top and sub.path not in
                                 self.spec_modules and _has_marked(model, sub)):
                found.extend(self.module_hooks(sub, module))
        return PluginCheck(name, dist.version, label, module.path, tuple(found))


def _has_marked(model: _Model, module: griffe.Module) -> bool:
    for member in module.members.values():
        if isinstance(member, griffe.Class):
            for method in member.members.values():
                if isinstance(method, griffe.Function) and model.decorator(
                        method, model.impl_markers) is not None:
                    return True
    return False


def _module(model: _Model, dotted: str) -> griffe.Module | None:
    try:
        obj = model.loader.modules_collection.get_member(dotted)
    except _LOOKUP:
        return None
    return obj if isinstance(obj, griffe.Module) else None


def _member(module: griffe.Module, attr: str) -> object:
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = obj.members[part]
            if isinstance(obj, griffe.Alias):
                obj = obj.final_target
        except (KeyError, *_LOOKUP):
            return None
    return obj
