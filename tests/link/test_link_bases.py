"""A lost base class (P13) refuses a version only for an application that relies on it: one
that names the base (or a lost ancestor of it) for identity (``except``, ``isinstance``,
``issubclass``, annotations), or passes instances where the library annotates the base. Each
case builds, plans and really runs the application on the version linked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from linkfixtures import (
    build_app,
    install,
    make_app,
    make_wheel,
    plan_json,
    refusals,
    run,
    versions,
)

from siglink.contracts.compat import check_export, class_graph
from siglink.contracts.manifest import RELIES_ON, Export, ExportKind

# -- the contract rule, given the ancestors relied on -----------------------------------------

def _class(path: str, *bases: str) -> Export:
    return Export(path, ExportKind.CLASS, module=path.rpartition(".")[0], bases=bases)


# 1.0: Refused(Timeout, PoolError), PoolError(Error), Timeout(Error); 2.0: Refused(Timeout, Error)
OLD = [_class("lib.Error", "Exception"), _class("lib.PoolError", "lib.Error"),
       _class("lib.Timeout", "lib.Error"), _class("lib.Refused", "lib.Timeout", "lib.PoolError")]
NEW = [_class("lib.Error", "Exception"), _class("lib.PoolError", "lib.Error"),
       _class("lib.Timeout", "lib.Error"), _class("lib.Refused", "lib.Timeout", "lib.Error")]


@pytest.mark.parametrize(("members", "expected"), [
    pytest.param((), [], id="relies-on-none"),
    pytest.param((f"{RELIES_ON}lib.Timeout", f"{RELIES_ON}lib.Error"), [], id="kept-ancestors"),
    pytest.param((f"{RELIES_ON}lib.PoolError",), [("P13", "bases", "lib.PoolError")],
                 id="the-lost-base"),
    pytest.param(("__bases__",), [("P13", "bases", "lib.PoolError")], id="reads-bases"),
    pytest.param(None, [("P13", "bases", "lib.PoolError")], id="no-usage-recorded"),
])
def test_a_lost_base_matters_only_when_relied_on(
    members: tuple[str, ...] | None, expected: list[tuple[str, str, str]]
) -> None:
    verdict = check_export(OLD[-1], NEW[-1], members=members, classes=class_graph(NEW))
    assert [(p.rule, p.path, p.expected) for p in verdict.problems
            if p.severity.value == "incompatible"] == expected


def test_a_lost_ancestor_behind_an_unchanged_base_is_found() -> None:
    """Relying on an ancestor two steps up: lost when the base in between no longer derives
    from it, though the class's own bases are unchanged."""
    old = [_class("lib.A"), _class("lib.B", "lib.A"), _class("lib.C", "lib.B", "lib.D"),
           _class("lib.D")]
    new = [_class("lib.A"), _class("lib.B"), _class("lib.C", "lib.B"), _class("lib.D")]
    found = check_export(old[2], new[2], members=(f"{RELIES_ON}lib.A",),
                         classes=class_graph(new))
    assert [(p.rule, p.expected) for p in found.problems] == [("P13", "lib.A")]
    kept = check_export(old[2], new[2], members=(f"{RELIES_ON}lib.B",),
                        classes=class_graph(new))
    assert kept.ok
    # C itself unchanged (equal digests): B's lost ancestor A is still found
    same = _class("lib.C", "lib.B")
    found = check_export(same, same, members=(f"{RELIES_ON}lib.A",), classes=class_graph(new))
    assert [(p.rule, p.expected) for p in found.problems] == [("P13", "lib.A")]
    assert check_export(same, same, members=(f"{RELIES_ON}lib.B",),
                        classes=class_graph(new)).identical


# -- what build records -----------------------------------------------------------------------

ERRORS_1 = '''
class Error(Exception):
    pass


class PoolError(Error):
    def __init__(self, pool, message):
        self.pool = pool
        super().__init__(message)


class ClosedPoolError(PoolError):
    pass


class Timeout(Error):
    pass


class Refused(Timeout, PoolError):
    pass


def describe(error: PoolError) -> str:
    return f"pool {error.pool}"


class Reporter:
    def describe(self, error: PoolError) -> str:
        return f"pool {error.pool}"
'''
# 2.0: Refused no longer a PoolError (urllib3 2.0 did this to NewConnectionError)
REFUSED_2 = '''class Refused(Timeout):
    def __init__(self, pool, message):
        self.pool = pool
        super().__init__(message)'''
ERRORS_2 = ERRORS_1.replace("class Refused(Timeout, PoolError):\n    pass", REFUSED_2).replace(
    "describe(error: PoolError)", "describe(error: PoolError | Timeout)").replace(
    "describe(self, error: PoolError)", "describe(self, error: PoolError | Timeout)")


@pytest.fixture
def errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    store = tmp_path / "store"
    install(capsys, store,
            make_wheel(tmp_path, "errs", "1.0", {"errs/__init__.py": ERRORS_1}),
            make_wheel(tmp_path, "errs", "2.0", {"errs/__init__.py": ERRORS_2}))
    return store


SIBLING = """
from errs import ClosedPoolError, Refused, Timeout

def outcome(error):
    try:
        raise error
    except ClosedPoolError:
        return "closed"
    except Timeout as e:
        return "refused" if isinstance(e, Refused) else "timeout"

print(outcome(Refused(None, "x")), outcome(ClosedPoolError(None, "y")))
"""


@pytest.mark.parametrize(("source", "version", "refused", "out"), [
    pytest.param(SIBLING, "2.0", {}, "refused closed\n", id="sibling-and-kept-base"),
    pytest.param(SIBLING.replace("except Timeout as e:", "except PoolError:\n"
                                 "        return 'pool'\n    except Timeout as e:").replace(
                     "import ClosedPoolError,", "import ClosedPoolError, PoolError,"),
                 "1.0", {"2.0": [("P13", "errs.Refused bases")]}, "pool closed\n",
                 id="except-the-lost-base"),
    pytest.param(SIBLING.replace("print(", "from errs import describe\n"
                                 "print(describe(Refused(1, 'z')))\nprint("),
                 "1.0", {"2.0": [("P13", "errs.Refused bases")]}, "pool 1\nrefused closed\n",
                 id="passed-where-the-base-is-annotated"),
    pytest.param(SIBLING.replace("print(", "from errs import Reporter\n"
                                 "print(Reporter().describe(Refused(1, 'z')))\nprint("),
                 "1.0", {"2.0": [("P13", "errs.Refused bases")]}, "pool 1\nrefused closed\n",
                 id="passed-to-a-method-where-the-base-is-annotated"),
])
def test_a_lost_base_refuses_only_the_apps_relying_on_it(
    tmp_path: Path, errors: Path, capsys: pytest.CaptureFixture[str], *,
    source: str, version: str, refused: dict[str, list[tuple[str, str]]], out: str,
) -> None:
    app = make_app(tmp_path, source)
    build_app(capsys, errors, app, "--against", "errs==1.0")
    plan = plan_json(capsys, errors, app)
    assert versions(plan) == {"errs": version}
    assert refusals(plan, "errs") == refused
    ran = run(errors, app)
    assert (ran.returncode, ran.stdout) == (0, out), ran.stderr


CHAIN_1 = """
class Error(Exception):
    pass


class PoolError(Error):
    pass


class Closed(PoolError):
    pass
"""
# 2.0: PoolError no longer an Error; Closed itself is unchanged
CHAIN_2 = CHAIN_1.replace("class PoolError(Error):", "class PoolError(Exception):")


@pytest.mark.parametrize(("handler", "version", "refused", "out"), [
    pytest.param("Error", "1.0", {"2.0": [("P13", "chain.Closed bases")]}, "caught\n",
                 id="names-the-lost-ancestor"),
    pytest.param("PoolError", "2.0", {}, "caught\n", id="names-the-kept-base"),
])
def test_an_ancestor_lost_behind_an_unchanged_class(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], *,
    handler: str, version: str, refused: dict[str, list[tuple[str, str]]], out: str,
) -> None:
    store = tmp_path / "store"
    install(capsys, store,
            make_wheel(tmp_path, "chain", "1.0", {"chain/__init__.py": CHAIN_1}),
            make_wheel(tmp_path, "chain", "2.0", {"chain/__init__.py": CHAIN_2}))
    app = make_app(tmp_path, f"""
        from chain import Closed, {handler}
        try:
            raise Closed()
        except {handler}:
            print("caught")
        """)
    build_app(capsys, store, app, "--against", "chain==1.0")
    plan = plan_json(capsys, store, app)
    assert versions(plan) == {"chain": version}
    assert refusals(plan, "chain") == refused
    ran = run(store, app)
    assert (ran.returncode, ran.stdout) == (0, out), ran.stderr


# -- real releases: urllib3 2.0 dropped PoolError from NewConnectionError's bases -------------

URLLIB3_APP = """
import importlib.metadata
from urllib3.exceptions import ClosedPoolError, ConnectTimeoutError, NewConnectionError

def outcome(error):  # as Requests' HTTPAdapter.send tells them apart
    try:
        raise error
    except ClosedPoolError:
        return "closed"
    except Exception as e:
        if isinstance(e, ConnectTimeoutError):
            return "refused" if isinstance(e, NewConnectionError) else "timeout"
        return "other"

print(importlib.metadata.version("urllib3"), outcome(NewConnectionError(None, "refused")),
      outcome(ClosedPoolError(None, "closed")))
"""


@pytest.mark.network
@pytest.mark.slow
@pytest.mark.parametrize(("source", "version", "out"), [
    pytest.param(URLLIB3_APP, "2.2.3", "2.2.3 refused closed\n", id="requests-like"),
    pytest.param(URLLIB3_APP.replace("    except Exception as e:", "    except PoolError:\n"
                                     "        return 'pool'\n    except Exception as e:").replace(
                     "import ClosedPoolError,", "import ClosedPoolError, PoolError,"),
                 "1.26.18", "1.26.18 pool closed\n", id="catches-pool-error"),
])
def test_urllib3_new_connection_error_lost_pool_error(
    tmp_path: Path, pypi: Any, capsys: pytest.CaptureFixture[str], *,
    source: str, version: str, out: str,
) -> None:
    store = tmp_path / "store"
    install(capsys, store, pypi.fetch("urllib3==1.26.18"), pypi.fetch("urllib3==2.2.3"))
    app = make_app(tmp_path, source)
    build_app(capsys, store, app, "--against", "urllib3==1.26.18")
    plan = plan_json(capsys, store, app)
    assert versions(plan) == {"urllib3": version}
    if version == "1.26.18":
        assert refusals(plan, "urllib3") == {
            "2.2.3": [("P13", "urllib3.exceptions.NewConnectionError bases")]}
    ran = run(store, app)
    assert (ran.returncode, ran.stdout) == (0, out), ran.stderr
