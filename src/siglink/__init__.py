"""siglink: link Python code and C-ABI shared libraries by signature, not by bare name.

>>> import siglink
>>> old, new = "(a: int, b: str = ...) -> None", "(a: float, b: str = ..., *, c: int = ...) -> None"
>>> siglink.check(old, new).ok
True
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: importing typing would cost the warm path

__version__ = "0.1.0"

__all__ = [
    "Application",
    "Export",
    "LinkError",
    "LinkPlan",
    "Manifest",
    "Param",
    "ParamKind",
    "PlanRequest",
    "Problem",
    "Severity",
    "SiglinkError",
    "Signature",
    "Store",
    "TypeRef",
    "Verdict",
    "__version__",
    "check",
    "check_export",
    "extension_point",
    "implements",
    "plan",
    "plugins",
    "run",
]

# Imported lazily so that ``import siglink`` stays cheap on the warm link-and-run path.
_LAZY = {
    "Export": "siglink.contracts.manifest",
    "Manifest": "siglink.contracts.manifest",
    "Param": "siglink.contracts.signature",
    "ParamKind": "siglink.contracts.signature",
    "Signature": "siglink.contracts.signature",
    "TypeRef": "siglink.contracts.types",
    "Problem": "siglink.contracts.verdict",
    "Severity": "siglink.contracts.verdict",
    "Verdict": "siglink.contracts.verdict",
    "check": "siglink.contracts.compat",
    "check_export": "siglink.contracts.compat",
    "SiglinkError": "siglink.errors",
    "LinkError": "siglink.errors",
    # driving the linker from code: the store, the application, its plan, running it
    "Store": "siglink.store",
    "Application": "siglink.link.app",
    "PlanRequest": "siglink.link.app",
    "LinkPlan": "siglink.link.plan",
    "plan": "siglink.link.api",
    "run": "siglink.link.api",
    "extension_point": "siglink.plugins.spec",
    "implements": "siglink.plugins.spec",
    "plugins": "siglink.plugins",  # the package itself, callable: siglink.plugins("GROUP")
}

if TYPE_CHECKING:
    from siglink.contracts.compat import check, check_export
    from siglink.contracts.manifest import Export, Manifest
    from siglink.contracts.signature import Param, ParamKind, Signature
    from siglink.contracts.types import TypeRef
    from siglink.contracts.verdict import Problem, Severity, Verdict
    from siglink.errors import LinkError, SiglinkError
    from siglink.link.api import plan, run
    from siglink.link.app import Application, PlanRequest
    from siglink.link.plan import LinkPlan
    from siglink.plugins.host import plugins  # the package is callable: see siglink.plugins
    from siglink.plugins.spec import extension_point, implements
    from siglink.store import Store


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'siglink' has no attribute {name!r}")
    from importlib import import_module

    imported = import_module(module)
    value = imported if module == f"siglink.{name}" else getattr(imported, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__all__)
