"""What a third-party library reaches of its dependencies' classes, recorded at install
(members through instances, with their calls) and checked by the linker: a member the
dependency removed refuses that version, naming it; the application runs on what is linked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from siglink.contracts.manifest import Arguments, Import
from siglink.store import Store

WheelMaker = Callable[..., Path]

DEP_1 = '''\
class Thing:
    def __init__(self, size: int = 0) -> None:
        self.size = size

    def gone(self) -> str:
        return "gone"

    def grow(self, by: int) -> int:
        return self.size + by

    def kept(self) -> str:
        return "kept"


def make() -> Thing:
    return Thing()
'''
# 2.0 removes Thing.gone; 3.0 keeps it but requires a second argument of grow.
DEP_2 = DEP_1.replace('''    def gone(self) -> str:
        return "gone"

''', "")
DEP_3 = DEP_1.replace("def grow(self, by: int)", "def grow(self, by: int, twice: bool)")

USER = '''\
import dep


def run() -> str:
    x = dep.Thing()
    y = dep.make()
    return f"{x.gone()} {y.grow(1)}"
'''


def siglink(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "siglink", *args], capture_output=True,
                          text=True, timeout=300, check=False,
                          env=dict(os.environ, PYTHONWARNINGS="ignore"))


def user_imports(store: Store) -> dict[str, Import]:
    return {i.path: i for i in store.manifest("user", "1.0").imports["dep"]}


def test_members_a_library_reaches_are_recorded_against_the_version_available(
    make_wheel: WheelMaker, tmp_path: Path
) -> None:
    store = Store(tmp_path / "store")
    # One install: dep is read first (install order follows Requires-Dist).
    store.install([str(make_wheel("user", "1.0", {"user/__init__.py": USER},
                                  requires=("dep>=1",))),
                   str(make_wheel("dep", "1.0", {"dep/__init__.py": DEP_1}))])
    thing = user_imports(store)["dep.Thing"]
    assert (thing.expected, thing.built_against) == (None, None)
    assert thing.members == ("gone", "grow")  # kept is never reached
    assert set(thing.arguments) == {Arguments((), (), "gone"), Arguments(("int",), (), "grow")}
    assert thing.location == "user/__init__.py:5"  # where it is first used


def test_without_a_version_of_the_dependency_only_chains_are_recorded(
    make_wheel: WheelMaker, tmp_path: Path
) -> None:
    store = Store(tmp_path / "store")
    store.install([str(make_wheel("user", "1.0", {"user/__init__.py": USER},
                                  requires=("dep>=1",)))])
    found = user_imports(store)
    assert found["dep.Thing"].members is None and not found["dep.Thing"].arguments


def test_a_version_outside_the_requirement_is_not_read(
    make_wheel: WheelMaker, tmp_path: Path
) -> None:
    store = Store(tmp_path / "store")
    store.install([str(make_wheel("dep", "1.0", {"dep/__init__.py": DEP_1}))])
    store.install([str(make_wheel("user", "1.0", {"user/__init__.py": USER},
                                  requires=("dep>=2",)))])
    assert user_imports(store)["dep.Thing"].members is None


def plan(store: Path, app: Path) -> dict[str, object]:
    done = siglink("plan", "--json", "--store", str(store), str(app))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_the_linker_refuses_a_dependency_lacking_a_member_the_library_calls(
    make_wheel: WheelMaker, tmp_path: Path
) -> None:
    root = tmp_path / "store"
    store = Store(root)
    store.install([str(make_wheel("dep", "1.0", {"dep/__init__.py": DEP_1}))])
    store.install([str(make_wheel("user", "1.0", {"user/__init__.py": USER},
                                  requires=("dep>=1",)))])  # read against dep 1.0 in the store
    store.install([str(make_wheel("dep", "2.0", {"dep/__init__.py": DEP_2})),
                   str(make_wheel("dep", "3.0", {"dep/__init__.py": DEP_3}))])
    app = tmp_path / "app.py"
    app.write_text("import user\nprint(user.run())\n")
    assert siglink("build", "--store", str(root), str(app)).returncode == 0
    found = plan(root, app)
    links = found["links"]
    assert isinstance(links, dict) and links["dep"]["version"] == "1.0"
    rejected = {r["version"]: [(p["rule"], p["path"]) for p in r["problems"]
                               if p["severity"] == "incompatible"]
                for r in found["rejected"]["dep"]}  # type: ignore[index]
    assert rejected["2.0"] == [("P1", "user==1.0 dep.Thing member gone")]
    assert rejected["3.0"] == [("P3", "user==1.0 dep.Thing member grow param twice")]
    done = siglink("run", "--store", str(root), str(app))
    assert (done.returncode, done.stdout) == (0, "gone 1\n"), done.stderr
    # The refusals are real: on 2.0 and 3.0 the library fails (imported from the store's
    # copies directly, as a link to them would).
    for version, error in (("2.0", "AttributeError"), ("3.0", "TypeError")):
        path = os.pathsep.join(str(store.get(name, v).path) for name, v in (
            ("user", "1.0"), ("dep", version)))
        direct = subprocess.run([sys.executable, "-I", "-c",
                                 f"import sys; sys.path[:0] = {path.split(os.pathsep)!r}; "
                                 "import user; print(user.run())"],
                                capture_output=True, text=True, timeout=60, check=False)
        assert direct.returncode == 1 and error in direct.stderr, (version, direct.stderr)


REQUESTS_CLOSURE = ("requests==2.32.3", "urllib3==2.2.3", "idna==3.7", "certifi==2024.7.4",
                    "charset-normalizer==3.3.2")


@pytest.mark.network
def test_requests_members_of_urllib3_and_both_major_versions_link(
    pypi: Any, tmp_path: Path
) -> None:
    """requests 2.32.3, read against urllib3 2.2.3 in the same install, records what it
    reaches of urllib3's classes (``RequestField(...).make_multipart(content_type=...)``,
    ``self.poolmanager.connection_from_url(url)``);
    neither urllib3 2.2.3 nor 1.26.20 (both within its requirement) is refused for it."""
    root = tmp_path / "store"
    store = Store(root)
    store.install([str(pypi.fetch(spec)) for spec in REQUESTS_CLOSURE])
    found = {i.path: i for i in store.manifest("requests", "2.32.3").imports["urllib3"]}
    field = found["urllib3.fields.RequestField"]
    assert field.members == ("make_multipart",)
    assert field.arguments == (Arguments((), (("content_type", ""),), "make_multipart"),)
    # self.poolmanager = PoolManager(...) in HTTPAdapter.init_poolmanager, then used in its
    # other methods; connection_from_host(**host_params, pool_kwargs=...) unpacks a mapping,
    # so it records no call shape.
    pool = found["urllib3.poolmanager.PoolManager"]
    assert pool.members == ("clear", "connection_from_host", "connection_from_url")
    assert {a.member for a in pool.arguments} == {"clear", "connection_from_url"}
    store.install([str(pypi.fetch("urllib3==1.26.20"))])
    app = tmp_path / "app.py"
    app.write_text("import requests, urllib3\nprint(requests.__version__, urllib3.__version__)\n")
    for version in ("2.2.3", "1.26.20"):
        done = siglink("run", "--store", str(root), str(app))
        assert (done.returncode, done.stdout) == (0, f"2.32.3 {version}\n"), done.stderr
        store.yank("urllib3", "2.2.3", "to link the older major version")
