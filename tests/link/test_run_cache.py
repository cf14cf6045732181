"""The plan cache, the warm command-line parser and the import hook, in process."""

from __future__ import annotations

import importlib.metadata
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from siglink.link import _cache, hook, warm


class _Lib:
    def __init__(self, path: Path, version: str = "1.0.0") -> None:
        self.version = version
        self.path = str(path)
        self.dist_info = str(path / f"demo_lib-{version}.dist-info")
        self.top_level = ("demo_lib",)
        self.source = "store"


class _Plan:
    """The attributes :func:`_cache.cache_record` reads from a ``LinkPlan``."""

    def __init__(self, manifest_path: Path, lib: _Lib) -> None:
        self.manifest_path = str(manifest_path)
        self.entry = "script:app.py"
        self.policy = "signature"
        self.links = {"demo-lib": lib}
        self.warnings = ("a warning",)


def _lib_dir(tmp_path: Path, version: str = "1.0.0") -> Path:
    root = tmp_path / "libs" / "demo-lib" / version
    (root / "demo_lib").mkdir(parents=True)
    (root / "demo_lib" / "__init__.py").write_text(f"VERSION = {version!r}\ndef f(): return 1\n")
    (root / "demo_lib" / "sub.py").write_text("X = 2\n")
    info = root / f"demo_lib-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: demo-lib\nVersion: {version}\n")
    return root


@pytest.fixture
def cached(tmp_path: Path) -> dict[str, Any]:
    root = tmp_path / "store"
    root.mkdir()
    (root / "generation").write_text("3\n")
    app = tmp_path / "app.py"
    app.write_text("import demo_lib\n")
    manifest = tmp_path / "app.siglink.json"
    manifest.write_text("{}")
    plan = _Plan(manifest, _Lib(_lib_dir(root)))
    record = _cache.cache_record(plan, root=str(root), app=str(app))
    path = _cache.plan_file(str(root), str(manifest), "", "")
    _cache.write_plan(path, record)
    return {"root": str(root), "manifest": manifest, "path": path, "record": record, "app": app}


def test_store_root_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SIGLINK_STORE", str(tmp_path / "env"))
    assert _cache.store_root(str(tmp_path / "arg")) == str(tmp_path / "arg")
    assert _cache.store_root() == str(tmp_path / "env")
    monkeypatch.delenv("SIGLINK_STORE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert _cache.store_root() == str(tmp_path / "xdg" / "siglink")
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _cache.store_root() == str(tmp_path / "home" / ".local" / "share" / "siglink")


def test_app_manifest_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tool").mkdir()
    assert _cache.app_manifest_path("app.py") == str(tmp_path / "app.siglink.json")
    assert _cache.app_manifest_path("script") == str(tmp_path / "script.siglink.json")
    assert _cache.app_manifest_path("tool") == str(tmp_path / "tool" / "siglink.json")
    # -m: in the store's own area, never in the current directory
    root = str(tmp_path / "store")
    assert _cache.app_manifest_path("pkg.mod", True, root) == os.path.join(
        root, "apps", "modules", str(tmp_path).replace("/", "%2F"), "pkg.mod.siglink.json")


def test_generation(tmp_path: Path) -> None:
    assert _cache.read_generation(str(tmp_path)) == 0
    (tmp_path / "generation").write_text("12\n")
    assert _cache.read_generation(str(tmp_path)) == 12
    (tmp_path / "generation").write_text("garbage")
    assert _cache.read_generation(str(tmp_path)) == 0


def test_plan_file_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SIGLINK_POLICY", raising=False)
    base = _cache.plan_file(str(tmp_path), "/a/app.siglink.json", "", "")
    assert base.startswith(str(tmp_path / "plans") + os.sep) and base.endswith(".json")
    others = {
        _cache.plan_file(str(tmp_path), "/b/app.siglink.json", "", ""),
        _cache.plan_file(str(tmp_path), "/a/app.siglink.json", "semver", ""),
        _cache.plan_file(str(tmp_path), "/a/app.siglink.json", "", "pre"),
    }
    monkeypatch.setenv("SIGLINK_POLICY", "strict")
    others.add(_cache.plan_file(str(tmp_path), "/a/app.siglink.json", "", ""))
    assert base not in others and len(others) == 4
    assert _cache.flags_text(pre=True, allow_yanked=True, environment=True) == (
        "pre,allow-yanked,environment")
    assert _cache.flags_text() == ""


def test_record_round_trip(cached: dict[str, Any]) -> None:
    data = _cache.read_valid_plan(cached["path"], cached["root"], str(cached["manifest"]))
    assert data is not None
    data.pop("json_size")  # only in the marshal sidecar
    assert data == cached["record"]
    assert data["generation"] == 3
    assert data["run"] == {"kind": "path", "target": str(cached["app"]),
                           "path0": str(cached["app"].parent)}
    assert data["links"]["demo-lib"]["top_level"] == ["demo_lib"]
    assert data["warnings"] == ["a warning"]
    assert os.path.exists(cached["path"][:-5] + ".warm")


def test_json_is_read_without_the_sidecar(cached: dict[str, Any]) -> None:
    os.unlink(cached["path"][:-5] + ".warm")
    data = _cache.read_valid_plan(cached["path"], cached["root"], str(cached["manifest"]))
    assert data == cached["record"]


def test_a_rewritten_json_file_wins_over_the_sidecar(cached: dict[str, Any]) -> None:
    text = Path(cached["path"]).read_text().replace('"policy": "signature"', '"policy": "strict"')
    Path(cached["path"]).write_text(text)
    data = _cache.read_plan(cached["path"])
    assert data is not None and data["policy"] == "strict"


@pytest.mark.parametrize("change", ["generation", "manifest", "pyproject", "library", "python",
                                    "corrupt"])
def test_stale_records(cached: dict[str, Any], change: str) -> None:
    root, manifest = cached["root"], cached["manifest"]
    if change == "generation":
        Path(root, "generation").write_text("4\n")
    elif change == "manifest":
        manifest.write_text('{"changed": 1}')
    elif change == "pyproject":
        (manifest.parent / "pyproject.toml").write_text("[tool.siglink]\npolicy = 'semver'\n")
    elif change == "library":
        os.rename(cached["record"]["links"]["demo-lib"]["path"], manifest.parent / "moved")
    elif change == "python":
        record = dict(cached["record"], python={**cached["record"]["python"], "version": "2.7"})
        _cache.write_plan(cached["path"], record)
    else:
        Path(cached["path"][:-5] + ".warm").write_bytes(b"\x00garbage")
        Path(cached["path"]).write_text("{not json")
    assert _cache.read_valid_plan(cached["path"], root, str(manifest)) is None


def test_parse_run_argv() -> None:
    assert warm.parse_run_argv(["run", "app.py", "--", "-v", "x"]) == {
        "store": None, "policy": "", "pre": False, "allow_yanked": False,
        "environment": False, "module": False, "app": "app.py", "args": ["-v", "x"]}
    opts = warm.parse_run_argv(["--store", "S", "run", "--policy=semver", "--pre",
                                "--allow-yanked", "--environment", "-m", "pkg.mod", "a", "--"])
    assert opts is not None
    assert (opts["store"], opts["policy"], opts["module"], opts["app"], opts["args"]) == (
        "S", "semver", True, "pkg.mod", ["a", "--"])
    assert opts["pre"] and opts["allow_yanked"] and opts["environment"]
    # everything after APP is the application's, even what looks like siglink's options
    opts = warm.parse_run_argv(["run", "app.py", "--policy", "strict"])
    assert opts is not None and opts["policy"] == "" and opts["args"] == ["--policy", "strict"]
    for unusual in (["run", "--help"], ["run"], ["run", "--bogus", "app.py"],
                    ["--verbose", "run", "app.py"], ["plan", "app.py"]):
        assert warm.parse_run_argv(unusual) is None, unusual


def test_warm_run_returns_without_a_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.py").write_text("raise SystemExit(9)\n")
    # running the application would raise SystemExit(9); returning means "not warm"
    assert warm.warm_run(["run", "app.py"]) is None  # type: ignore[func-returns-value]
    (tmp_path / "app.siglink.json").write_text("{}")
    assert warm.warm_run(  # type: ignore[func-returns-value]
        ["run", "--store", str(tmp_path / "s"), "app.py"]) is None  # no plan
    assert not (tmp_path / "s").exists()  # and looking for a plan created no store


def test_normalize() -> None:
    assert hook.normalize("Markup_Safe") == "markup-safe"
    assert hook.normalize("zope.interface") == "zope-interface"
    assert hook.normalize("a--_.b") == "a-b"


def test_finder_maps_top_level_and_metadata(tmp_path: Path) -> None:
    old = _lib_dir(tmp_path / "one", "1.0.0")
    new = _lib_dir(tmp_path / "two", "2.0.0")
    saved_meta_path = list(sys.meta_path)
    try:
        hook.install({"demo-lib": {"path": str(old), "top_level": ["demo_lib"],
                                   "dist_info": str(old / "demo_lib-1.0.0.dist-info")}})
        finder = hook.install({"demo_lib": {"path": str(new), "top_level": ["demo_lib"],
                                            "dist_info": str(new / "demo_lib-2.0.0.dist-info")}})
        assert sys.meta_path[0] is finder
        assert sum(isinstance(f, hook.LinkFinder) for f in sys.meta_path) == 1
        import demo_lib  # type: ignore[import-not-found]
        import demo_lib.sub  # type: ignore[import-not-found]

        assert demo_lib.VERSION == "2.0.0"
        assert demo_lib.__file__ == str(new / "demo_lib" / "__init__.py")
        assert demo_lib.sub.__file__ == str(new / "demo_lib" / "sub.py")
        assert importlib.metadata.version("demo-lib") == "2.0.0"
        assert importlib.metadata.version("Demo_Lib") == "2.0.0"
        assert finder.find_spec("demo_lib.sub") is None  # submodules follow __path__
        assert finder.find_spec("json") is None
    finally:
        sys.meta_path[:] = saved_meta_path
        for name in [m for m in sys.modules if m.split(".")[0] == "demo_lib"]:
            del sys.modules[name]


def test_bootstrap_is_written_once(tmp_path: Path) -> None:
    boot = hook.write_bootstrap(str(tmp_path / "boot"))
    path = Path(boot, "sitecustomize.py")
    assert path.read_text() == hook.SITECUSTOMIZE
    before = path.stat().st_mtime_ns
    hook.write_bootstrap(boot)
    assert path.stat().st_mtime_ns == before
    compile(hook.SITECUSTOMIZE, "sitecustomize.py", "exec")
