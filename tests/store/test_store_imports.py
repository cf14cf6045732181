"""A third-party wheel's imports, computed at install from its own code (docs/design.md §4)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from siglink.contracts.manifest import CallShape, Import, Manifest
from siglink.store import Store

WheelMaker = Callable[..., Path]

LIBA = '''\
"""Uses libb in every way a library does."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

import libb
from libb import f
from liba.helpers import local

try:
    from libb import fast
except ImportError:
    fast = None

if TYPE_CHECKING:
    from libb import OnlyForTypes


def run(x: libb.Annotated) -> OnlyForTypes:
    local()
    json.dumps(x)
    return f(1, 2, key=3) + libb.sub.g(x) + libb.Thing(x).method()


def maybe() -> None:
    if hasattr(libb, "newer"):
        libb.newer()
    getattr(libb, "perhaps", None)
    if fast is not None:
        fast(1)


def optional_extra() -> None:
    import libx
    import liby

    libx.h()
    liby.h()
'''


def imports_of(store: Store, name: str, version: str) -> dict[str, dict[str, Import]]:
    manifest = store.manifest(name, version)
    return {lib: {i.path: i for i in items} for lib, items in manifest.imports.items()}


def test_install_records_what_a_library_uses(make_wheel: WheelMaker, tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    wheel = make_wheel("liba", "1.0", {"liba/__init__.py": LIBA,
                                       "liba/helpers.py": "def local(): ...\n"},
                       requires=("libb>=1", 'libx ; extra == "x"',
                                 'liby ; sys_platform == "nonesuch"'))
    store.install([str(wheel)])
    found = imports_of(store, "liba", "1.0")
    # Only libb: libx is an extra's, liby's marker is false here, json is the standard
    # library's and liba.helpers the library's own.
    assert set(found) == {"libb"}
    libb = found["libb"]
    call = libb["libb.f"]
    assert (call.expected, call.built_against, call.optional) == (None, None, False)
    assert call.calls == (CallShape(2, ("key",)),) and call.calls_complete
    assert call.location == "liba/__init__.py:23"
    assert libb["libb.sub.g"].calls == (CallShape(1),)
    # A call on what the library returned is not a use of libb.
    assert libb["libb.Thing"].calls == (CallShape(1),)
    assert not any(path.endswith("method") for path in libb)
    # Guarded, type-checking, annotation, hasattr and getattr-with-default uses: optional.
    optional = {p for p, i in libb.items() if i.optional}
    assert optional == {"libb.fast", "libb.OnlyForTypes", "libb.Annotated", "libb.newer",
                        "libb.perhaps"}
    # The manifest in the version's directory says the same (and survives a round trip).
    version = store.get("liba", "1.0")
    shipped = Manifest.loads((version.dist_info / "siglink.json").read_bytes())
    assert shipped.imports == store.manifest("liba", "1.0").imports


def test_a_module_is_attributed_to_the_distribution_providing_it(
    make_wheel: WheelMaker, tmp_path: Path
) -> None:
    store = Store(tmp_path / "store")
    # py-thing provides module ``thing``: known from the store, or from the same install.
    provider = make_wheel("py-thing", "1.0", {"thing/__init__.py": "def f(x): ...\n"})
    uses = "import thing\nimport foo_bar\nimport other\n\ndef go():\n" \
           "    thing.f(1)\n    foo_bar.g()\n    other.h()\n"
    first = make_wheel("user-one", "1.0", {"user_one/__init__.py": uses},
                       requires=("py-thing", "Foo.Bar"))
    second = make_wheel("user-two", "1.0", {"user_two/__init__.py": uses},
                        requires=("py-thing", "Foo.Bar"))
    store.install([str(first), str(provider)])
    store.install([str(second)])
    for name in ("user-one", "user-two"):
        found = imports_of(store, name, "1.0")
        # foo_bar is not installed: its module is guessed from the name (Foo.Bar -> foo_bar);
        # ``other`` belongs to no requirement and is not recorded.
        assert {lib: sorted(items) for lib, items in found.items()} == {
            "foo-bar": ["foo_bar.g"], "py-thing": ["thing.f"]}


def test_nothing_is_computed_for_a_wheel_without_requirements_or_with_a_manifest(
    make_wheel: WheelMaker, tmp_path: Path
) -> None:
    store = Store(tmp_path / "store")
    plain = make_wheel("plain", "1.0", {"plain/__init__.py": "import libb\nlibb.f()\n"})
    manifest = ('{"format": 1, "unit": {"name": "built", "version": "1.0"}, "imports": '
                '{"libb": [{"path": "libb.declared", "built_against": "1.0"}]}}')
    built = make_wheel("built", "1.0", {"built/__init__.py": "import libb\nlibb.f()\n"},
                       requires=("libb",),
                       extra_members={"built-1.0.dist-info/siglink.json": manifest.encode()})
    store.install([str(plain), str(built)])
    assert store.manifest("plain", "1.0").imports == {}
    # A library built with siglink says what it imports: that is kept, not recomputed.
    assert imports_of(store, "built", "1.0") == {
        "libb": {"libb.declared": Import("libb.declared", built_against="1.0")}}


def test_a_module_that_does_not_parse_is_skipped(make_wheel: WheelMaker,
                                                 tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    wheel = make_wheel("broken", "1.0", {"broken/__init__.py": "import libb\nlibb.f(1)\n",
                                         "broken/py2.py": "import libb\nprint libb.g\n"},
                       requires=("libb",))
    store.install([str(wheel)])
    assert list(imports_of(store, "broken", "1.0")["libb"]) == ["libb.f"]


@pytest.mark.network
def test_werkzeug_records_its_use_of_markupsafe(pypi: Any, tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    store.install([str(pypi.fetch("werkzeug==3.0.1")), str(pypi.fetch("markupsafe==2.1.5"))])
    found = imports_of(store, "werkzeug", "3.0.1")
    assert set(found) == {"markupsafe"}  # watchdog is the extra "watchdog"'s
    markupsafe = found["markupsafe"]
    assert {"markupsafe.escape", "markupsafe.Markup"} <= set(markupsafe)
    assert markupsafe["markupsafe.escape"].calls == (CallShape(1),)
    assert not any(i.optional for i in markupsafe.values())


REQUESTS_CLOSURE = ("requests==2.32.3", "urllib3==2.2.3", "idna==3.7", "certifi==2024.7.4",
                    "charset-normalizer==3.3.2")


@pytest.mark.network
def test_requests_links_with_only_its_hard_dependencies(pypi: Any, tmp_path: Path) -> None:
    """requests imports pyOpenSSL, cryptography and simplejson only where it can do without
    them (a guarded try's ``else:``, ``if has_simplejson:``): an application whose code
    includes requests 2.32.3's (vendored beside it) links and runs with requests' required
    distributions alone in the store (it used to be refused, exit 127, naming all three)."""
    store = tmp_path / "store"
    Store(store).install([str(pypi.fetch(spec)) for spec in REQUESTS_CLOSURE[1:]])
    app = tmp_path / "app"
    with zipfile.ZipFile(pypi.fetch(REQUESTS_CLOSURE[0])) as wheel:
        for name in wheel.namelist():
            if name.startswith("requests/"):
                wheel.extract(name, app)
    (app / "__main__.py").write_text("import requests\nprint('requests', requests.__version__)\n")
    done = subprocess.run([sys.executable, "-m", "siglink", "run", "--store", str(store),
                           str(app)], capture_output=True, text=True, timeout=300, check=False)
    assert (done.returncode, done.stdout) == (0, "requests 2.32.3\n"), done.stderr
    assert "simplejson" not in done.stderr and "OpenSSL" not in done.stderr
