"""The Store API: versions side by side, generation, yanks, removal, applications."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from siglink.errors import BadInputError, StoreError
from siglink.store import NotInStoreError, RegisteredApp, Store, StoredVersion, default_root

WheelMaker = Callable[..., Path]


def test_default_root_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SIGLINK_STORE", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_root() == tmp_path / "explicit"
    monkeypatch.delenv("SIGLINK_STORE")
    assert default_root() == tmp_path / "xdg" / "siglink"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_root() == tmp_path / "home" / ".local" / "share" / "siglink"
    assert Store().root == default_root()
    assert Store(tmp_path / "given").root == tmp_path / "given"


def test_reading_never_creates_the_store(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    assert store.names() == []
    assert store.versions("textkit") == []
    assert store.apps() == []
    assert store.providers("textkit") == []
    assert store.generation == 0
    with pytest.raises(NotInStoreError):
        store.get("textkit", "1.0.0")
    assert not (tmp_path / "store").exists()


def test_install_side_by_side(tmp_path: Path, make_wheel: WheelMaker) -> None:
    store = Store(tmp_path / "store")
    old = make_wheel("TextKit", "1.0.0", requires=("idna>=3",), requires_python=">=3.8")
    new = make_wheel("TextKit", "1.10.0")
    results = store.install([str(new), str(old)])
    assert [(r.name, r.version, r.status) for r in results] == [
        ("textkit", "1.10.0", "installed"),
        ("textkit", "1.0.0", "installed"),
    ]
    assert [v.version for v in store.versions("TEXTKIT")] == ["1.10.0", "1.0.0"]
    v = store.get("textkit", "1.0.0")
    root = tmp_path / "store"
    assert v == StoredVersion(
        name="textkit", version="1.0.0", path=root / "libs/textkit/1.0.0",
        dist_info=root / "libs/textkit/1.0.0/TextKit-1.0.0.dist-info",
        top_level=("textkit",), requires=("idna>=3",), requires_python=">=3.8", yanked=None,
    )
    # Unpacked, byte-compiled, with a siglink.json manifest beside METADATA.
    assert (v.path / "textkit" / "__init__.py").is_file()
    assert list((v.path / "textkit" / "__pycache__").glob("__init__.cpython-*.pyc"))
    sidecar = json.loads((v.dist_info / "siglink.json").read_text())
    assert sidecar["unit"] == {"name": "textkit", "version": "1.0.0", "kind": "library",
                               "language": "python"}
    assert "textkit.greet" in sidecar["exports"]
    assert store.manifest("textkit", "1.0.0").exports["textkit.greet"].kind.value == "function"
    assert store.names() == ["textkit"]
    assert store.generation == 1  # one install command, one transaction, one bump
    assert (root / "generation").read_text() == "1\n* 1\ntextkit 1\n"
    assert not list((root / ".staging").iterdir())


def test_compiled_code_names_its_final_path(tmp_path: Path, make_wheel: WheelMaker) -> None:
    store = Store(tmp_path / "store")
    store.install([str(make_wheel("textkit", "1.0.0", {"textkit/__init__.py": "X = 1\n"}))])
    import marshal

    pyc = next((store.get("textkit", "1.0.0").path / "textkit" / "__pycache__").iterdir())
    code = marshal.loads(pyc.read_bytes()[16:])
    assert code.co_filename == str(tmp_path / "store/libs/textkit/1.0.0/textkit/__init__.py")


def test_same_version_again_is_already_present(tmp_path: Path, make_wheel: WheelMaker) -> None:
    store = Store(tmp_path / "store")
    wheel = make_wheel("textkit", "1.0.0")
    store.install([str(wheel)])
    # A rebuilt wheel with the same contents (other zip timestamps) is the same version.
    again = make_wheel("textkit", "1.0.0")
    assert [r.status for r in store.install([str(again)])] == ["already-present"]
    assert store.generation == 1


def test_same_version_other_bytes_is_refused(tmp_path: Path, make_wheel: WheelMaker) -> None:
    store = Store(tmp_path / "store")
    store.install([str(make_wheel("textkit", "1.0.0"))])
    other = make_wheel("textkit", "1.0.0", {"textkit/__init__.py": "EVIL = 1\n"})
    with pytest.raises(StoreError) as info:
        store.install([str(other)])
    assert str(info.value) == (
        "textkit==1.0.0 is already in the store with different contents (from "
        "textkit-1.0.0-py3-none-any.whl); versions never overwrite each other: remove it first"
    )
    assert (store.get("textkit", "1.0.0").path / "textkit/__init__.py").read_text().startswith(
        '"""textkit 1.0.0."""'
    )


def test_install_is_all_or_nothing(tmp_path: Path, make_wheel: WheelMaker) -> None:
    store = Store(tmp_path / "store")
    good = make_wheel("textkit", "1.0.0")
    bad = make_wheel("other", "1.0.0", tag="cp27-cp27m-win_amd64")
    with pytest.raises(BadInputError, match="cp27-cp27m-win_amd64"):
        store.install([str(good), str(bad)])
    assert store.names() == []
    assert not (tmp_path / "store").exists()


def test_get_and_missing_names(tmp_path: Path, make_wheel: WheelMaker) -> None:
    store = Store(tmp_path / "store")
    store.install([str(make_wheel("textkit", "1.0.0"))])
    with pytest.raises(NotInStoreError) as info:
        store.get("textkit", "2.0")
    assert str(info.value) == "textkit==2.0 is not in the store (it has 1.0.0)"
    assert isinstance(info.value, StoreError) and isinstance(info.value, BadInputError)
    assert info.value.exit_code == 2
    assert store.get("textkit", "1.0").version == "1.0.0"  # PEP 440 equal


def test_providers_by_top_level_module(tmp_path: Path, make_wheel: WheelMaker) -> None:
    store = Store(tmp_path / "store")
    store.install([
        str(make_wheel("text-kit", "1.0.0", {"textkit/__init__.py": "", "textkit/sub.py": "",
                                            "tk_helpers.py": ""})),
        str(make_wheel("fork-of-textkit", "0.1", {"textkit/__init__.py": "A = 1\n"})),
    ], allow_module_conflict=True)  # one owner per module name, unless told otherwise
    assert store.get("text-kit", "1.0.0").top_level == ("textkit", "tk_helpers")
    assert store.providers("textkit.sub") == ["fork-of-textkit", "text-kit"]
    assert store.providers("tk_helpers") == ["text-kit"]
    assert store.providers("nothing") == []


def test_yank_and_unyank(tmp_path: Path, make_wheel: WheelMaker) -> None:
    store = Store(tmp_path / "store")
    store.install([str(make_wheel("textkit", "1.0.0")), str(make_wheel("textkit", "1.0.1"))])
    store.yank("textkit", "1.0.1", "CVE-2024-0001")
    assert store.get("textkit", "1.0.1").yanked == "CVE-2024-0001"
    assert [v.version for v in store.versions("textkit", include_yanked=False)] == ["1.0.0"]
    assert store.generation == 2
    store.yank("textkit", "1.0.1", "CVE-2024-0001")  # no change, no bump
    assert store.generation == 2
    store.unyank("textkit", "1.0.1")
    assert store.get("textkit", "1.0.1").yanked is None
    assert store.generation == 3
    with pytest.raises(BadInputError, match="reason"):
        store.yank("textkit", "1.0.1", "  ")
    with pytest.raises(NotInStoreError, match=r"textkit==3\.0 is not in the store"):
        store.yank("textkit", "3.0", "x")


@pytest.fixture
def manifests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Registered apps' manifests exist (a registration whose manifest is gone is pruned)."""
    monkeypatch.chdir(tmp_path)
    for name in ("a.json", "a2.json", "b.json", "report.siglink.json"):
        (tmp_path / name).write_text("{}")


def test_registrations_of_deleted_apps_are_pruned(
        tmp_path: Path, make_wheel: WheelMaker, manifests: None) -> None:
    store = Store(tmp_path / "store")
    store.install([str(make_wheel("textkit", "1.0.0"))])
    store.register_app("a", manifest_path=str(tmp_path / "a.json"), links={"textkit": "1.0.0"})
    store.register_app("b", manifest_path=str(tmp_path / "b.json"), links={"textkit": "1.0.0"})
    (tmp_path / "a.json").unlink()
    assert [app.app_id for app in store.apps()] == ["b"]
    assert [app.app_id for app, _ in store.users("textkit", "1.0.0")] == ["b"]
    assert store.remove("textkit", "1.0.0", force=True) == ["b"]
    (tmp_path / "a.json").write_text("{}")  # pruned for good: not listed again
    assert [app.app_id for app in Store(tmp_path / "store").apps()] == ["b"]


@pytest.mark.usefixtures("manifests")
def test_remove_refused_while_linked(tmp_path: Path, make_wheel: WheelMaker) -> None:
    store = Store(tmp_path / "store")
    store.install([str(make_wheel("textkit", "1.0.0")), str(make_wheel("textkit", "1.0.1"))])
    store.register_app("/apps/report.py", manifest_path="report.siglink.json",
                       links={"TextKit": "1.0.0"})
    assert store.apps() == [RegisteredApp("/apps/report.py", "report.siglink.json",
                                          {"textkit": "1.0.0"})]
    generation = store.generation
    with pytest.raises(StoreError) as info:
        store.remove("textkit", "1.0.0")
    assert str(info.value) == (
        "textkit==1.0.0 is linked by 1 registered application (report.py); "
        "use --force to remove it anyway"
    )
    assert store.generation == generation
    store.remove("textkit", "1.0.1")  # nobody links it
    assert not (tmp_path / "store/libs/textkit/1.0.1").exists()
    assert store.remove("textkit", "1.0.0", force=True) == ["/apps/report.py"]
    assert store.versions("textkit") == [] and store.names() == []
    assert not (tmp_path / "store/libs/textkit").exists()
    assert store.generation == generation + 2
    # The registration no longer claims the removed version, and says why.
    assert store.apps() == [RegisteredApp(
        "/apps/report.py", "report.siglink.json", {"textkit": None},
        "textkit 1.0.0 was removed; relinked at its next start")]
    assert store.users("textkit", "1.0.0") == []


@pytest.mark.usefixtures("manifests")
def test_register_app_replaces_links(tmp_path: Path, make_wheel: WheelMaker) -> None:
    store = Store(tmp_path / "store")
    store.install([str(make_wheel("textkit", "1.0.0")), str(make_wheel("textkit", "1.0.1"))])
    store.register_app("a", manifest_path="a.json", links={"textkit": "1.0.0"})
    store.register_app("b", manifest_path="b.json", links={"textkit": "1.0.1"})
    store.register_app("a", manifest_path="a2.json", links={"textkit": "1.0.1"})
    assert store.apps() == [RegisteredApp("a", "a2.json", {"textkit": "1.0.1"}),
                            RegisteredApp("b", "b.json", {"textkit": "1.0.1"})]
    assert [(app.app_id, v) for app, v in store.users("textkit")] == [("a", "1.0.1"),
                                                                       ("b", "1.0.1")]
    assert store.users("textkit", "1.0.0") == []
    assert store.generation == 1  # registration changes no application's link


@pytest.mark.usefixtures("manifests")
def test_refused_registration(tmp_path: Path, make_wheel: WheelMaker) -> None:
    store = Store(tmp_path / "store")
    store.install([str(make_wheel("textkit", "1.0.0"))])
    store.register_app("a", manifest_path="a.json", links={"textkit": None, "other": None},
                       refused="textkit: every version is yanked")
    [app] = store.apps()
    assert app == RegisteredApp("a", "a.json", {"other": None, "textkit": None},
                                "textkit: every version is yanked")
    assert store.users("textkit") == [(app, None)]
    assert store.users("textkit", "1.0.0") == []
    store.remove("textkit", "1.0.0")  # a refused application links nothing: no refusal
    store.register_app("a", manifest_path="a.json", links={"textkit": "1.0.0"})
    assert store.apps() == [RegisteredApp("a", "a.json", {"textkit": "1.0.0"}, None)]


@pytest.mark.usefixtures("manifests")
def test_schema_1_index_is_upgraded(tmp_path: Path, make_wheel: WheelMaker) -> None:
    """An index written by the first schema is read as is and upgraded by the next write."""
    import sqlite3

    root = tmp_path / "store"
    Store(root).install([str(make_wheel("textkit", "1.0.0"))])
    Store(root).register_app("a", manifest_path="a.json", links={"textkit": "1.0.0"})
    db = sqlite3.connect(root / "index.sqlite")
    db.execute("ALTER TABLE apps DROP COLUMN refused")
    db.execute("DROP TABLE garbage")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    store = Store(root)
    assert store.apps() == [RegisteredApp("a", "a.json", {"textkit": "1.0.0"})]
    store.register_app("b", manifest_path="b.json", links={"textkit": None}, refused="no")
    assert [a.refused for a in store.apps()] == [None, "no"]
    db = sqlite3.connect(root / "index.sqlite")
    assert db.execute("PRAGMA user_version").fetchone() == (3,)
    db.close()


def test_bump(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    assert store.bump() == 1
    assert store.bump() == 2
    assert Store(tmp_path / "store").generation == 2


def test_a_shipped_manifest_keeps_its_imports(tmp_path: Path, make_wheel: WheelMaker) -> None:
    shipped = {
        "format": 1,
        "unit": {"name": "tagger", "version": "0.1", "kind": "plugin", "language": "python"},
        "exports": {},
        "imports": {"textkit": [{"path": "textkit.greet", "calls": [{"positional": 1}],
                                 "calls_complete": True, "built_against": "1.0.0"}]},
        "files": {},
    }
    wheel = make_wheel(
        "tagger", "0.1", {"tagger.py": "def tag(x):\n    return x\n"},
        extra_members={"tagger-0.1.dist-info/siglink.json": json.dumps(shipped).encode()},
    )
    store = Store(tmp_path / "store")
    store.install([str(wheel)])
    manifest = store.manifest("tagger", "0.1")
    assert manifest.unit.kind == "plugin"
    assert [i.path for i in manifest.imports["textkit"]] == ["textkit.greet"]
    assert "tagger.tag" in manifest.exports  # exports are read from the code itself
    on_disk = json.loads((store.get("tagger", "0.1").dist_info / "siglink.json").read_text())
    assert on_disk["imports"]["textkit"][0]["built_against"] == "1.0.0"


def test_manifest_is_cached_per_process(tmp_path: Path, make_wheel: WheelMaker) -> None:
    store = Store(tmp_path / "store")
    store.install([str(make_wheel("textkit", "1.0.0"))])
    first = store.manifest("textkit", "1.0.0")
    assert Store(tmp_path / "store").manifest("textkit", "1.0.0") is first


def test_environment_candidates(tmp_path: Path, make_wheel: WheelMaker) -> None:
    import packaging

    store = Store(tmp_path / "store", environment=True)
    versions = store.versions("packaging")
    assert [v.version for v in versions] == [packaging.__version__]
    env = versions[0]
    assert env.source == "environment" and "packaging" in env.top_level
    assert (env.path / "packaging" / "__init__.py").is_file()
    assert "packaging" in store.names()
    assert "packaging" in store.providers("packaging.version")
    assert Store(tmp_path / "store").versions("packaging") == []  # only when asked
    # A store version of the same name sorts with the environment's, newest first.
    store.install([str(make_wheel("packaging", "0.1", {"packaging/__init__.py": ""}))])
    both = Store(tmp_path / "store", environment=True).versions("packaging")
    assert [(v.version, v.source) for v in both] == [
        (packaging.__version__, "environment"), ("0.1", "store")
    ]
    assert not (tmp_path / "store" / "libs" / "packaging" / packaging.__version__).exists()
    assert sys.modules.get("packaging") is packaging


def test_data_purelib_goes_beside_the_packages(tmp_path: Path, make_wheel: WheelMaker) -> None:
    wheel = make_wheel("textkit", "1.0.0", {
        "textkit/__init__.py": "",
        "textkit-1.0.0.data/purelib/textkit_extra.py": "Y = 2\n",
        "textkit-1.0.0.data/scripts/textkit-cli": "#!python\n",
    })
    store = Store(tmp_path / "store")
    store.install([str(wheel)])
    v = store.get("textkit", "1.0.0")
    assert (v.path / "textkit_extra.py").read_text() == "Y = 2\n"
    assert (v.path / "textkit-1.0.0.data/scripts/textkit-cli").is_file()
    assert v.top_level == ("textkit", "textkit_extra")
