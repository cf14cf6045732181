"""The plan cache, the warm command-line parser and the import hook, in process."""

from __future__ import annotations

import hashlib
import hmac
import importlib.metadata
import json
import marshal
import os
import sqlite3
import sys
import zipfile
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siglink._layout import store_root
from siglink.contracts.verdict import Verdict
from siglink.link import _cache, _record, hook, warm
from siglink.link.app import Application, PlanRequest, app_manifest_path
from siglink.link.plan import LinkedLib, LinkPlan


def _plan(manifest_path: Path, lib: Path, version: str = "1.0.0") -> LinkPlan:
    linked = LinkedLib("demo-lib", version, str(lib), str(lib / f"demo_lib-{version}.dist-info"),
                       ("demo_lib",), "store", Verdict())
    return LinkPlan(str(manifest_path), str(manifest_path), "script:app.py", "signature",
                    {"demo-lib": linked}, {}, ("a warning",),
                    considered=frozenset({"demo-lib", "other-lib"}))


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
    with closing(sqlite3.connect(root / "index.sqlite")) as index:  # a store has its index
        index.execute("CREATE TABLE units (name TEXT)")
    app = tmp_path / "app.py"
    app.write_text("import demo_lib\n")
    application = Application.resolve(str(app))
    manifest = tmp_path / "app.siglink.json"
    manifest.write_text("{}")
    record = _record.cache_record(_plan(manifest, _lib_dir(root)), application, root=str(root))
    path = _cache.plan_file(str(root), str(manifest), "", "")
    _record.write_plan(path, record)
    return {"root": str(root), "manifest": manifest, "path": path, "record": record, "app": app,
            "application": application}


def _valid(cached: dict[str, Any], request: PlanRequest | None = None) -> dict[str, Any] | None:
    return _cache.read_valid_plan(cached["path"], cached["root"], cached["application"], request)


def _rewrite(cached: dict[str, Any], **changes: Any) -> None:
    """Write the cached record with ``changes``, authenticated with the plan owner's key (what
    only the owner can do)."""
    _record.write_plan(cached["path"], {**cached["record"], **changes})


def test_store_root_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SIGLINK_STORE", str(tmp_path / "env"))
    assert store_root(str(tmp_path / "arg")) == str(tmp_path / "arg")
    assert store_root() == str(tmp_path / "env")
    monkeypatch.delenv("SIGLINK_STORE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert store_root() == str(tmp_path / "xdg" / "siglink")
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert store_root() == str(tmp_path / "home" / ".local" / "share" / "siglink")


def test_app_manifest_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tool").mkdir()
    assert app_manifest_path("app.py") == str(tmp_path / "app.siglink.json")
    assert app_manifest_path("script") == str(tmp_path / "script.siglink.json")
    assert app_manifest_path("tool") == str(tmp_path / "tool" / "siglink.json")
    # -m: in the store's own area, never in the current directory
    root = str(tmp_path / "store")
    module = os.path.join(root, "apps", "modules", str(tmp_path).replace("/", "%2F"))
    assert app_manifest_path("pkg.mod", True, root) == os.path.join(module, "pkg.mod.siglink.json")
    app = Application.resolve("app.py")
    assert (app.target, app.module, app.path, app.manifest_path) == (
        "app.py", False, str(tmp_path / "app.py"), str(tmp_path / "app.siglink.json"))
    assert app == Application.resolve(str(tmp_path / "app.py").replace("app.py", "./app.py"))
    with pytest.raises(AttributeError):
        app.path = "/elsewhere"
    assert Application.resolve("pkg.mod", True, root).run_spec(None) == {
        "kind": "module", "target": "pkg.mod", "path0": str(tmp_path)}


def test_generation(tmp_path: Path) -> None:
    assert _cache.read_generations(str(tmp_path)) == (0, {"*": 0})
    (tmp_path / "generation").write_text("12\n")
    assert _cache.read_generations(str(tmp_path)) == (12, {"*": 12})
    (tmp_path / "generation").write_text("12\ntextkit 9\n* 11\nmarkupsafe 2\n")
    assert _cache.read_generations(str(tmp_path)) == (
        12, {"textkit": 9, "*": 11, "markupsafe": 2})
    (tmp_path / "generation").write_text("garbage")
    assert _cache.read_generation(str(tmp_path)) == -1


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
    assert PlanRequest(pre=True, allow_yanked=True, environment=True).flags == (
        "pre,allow-yanked,environment")
    assert PlanRequest().flags == ""
    with pytest.raises(ValueError, match="unknown policy 'lax'"):
        PlanRequest("lax")  # type: ignore[arg-type]


def test_record_round_trip(cached: dict[str, Any]) -> None:
    data = _valid(cached)
    assert data is not None
    assert data == cached["record"]
    assert data["generation"] == 3
    assert data["run"] == {"kind": "path", "target": str(cached["app"]),
                           "path0": str(cached["app"].parent)}
    assert data["links"]["demo-lib"]["top_level"] == ["demo_lib"]
    assert data["warnings"] == ["a warning"]
    assert os.path.exists(cached["path"][:-5] + ".warm")
    key = Path(cached["root"], "plans", ".key")
    assert key.stat().st_mode & 0o777 == 0o600 and len(key.read_bytes()) == 32


def test_a_script_plan_carries_its_code_compiled_from_the_source(
        cached: dict[str, Any]) -> None:
    """The script's code object travels in the authenticated record with the digest of its
    source; the JSON copy shows the digest and size, not the bytes."""
    source = cached["app"].read_bytes()
    code = cached["record"]["code"]
    assert code["path"] == str(cached["app"]) and code["optimize"] == sys.flags.optimize
    assert code["sha256"] == hashlib.sha256(source).digest()
    assert marshal.loads(code["data"]).co_filename == str(cached["app"])
    shown = json.loads(Path(cached["path"]).read_text())["code"]
    assert shown == {"path": str(cached["app"]), "sha256": hashlib.sha256(source).hexdigest(),
                     "optimize": sys.flags.optimize, "size": len(code["data"])}


def test_the_cached_code_runs_only_for_the_source_it_was_compiled_from(
        cached: dict[str, Any]) -> None:
    app = str(cached["app"])
    source = b"RESULT = 'from the source'\n"
    other = compile("RESULT = 'from the cache'\n", app, "exec")
    entry = {"path": app, "sha256": hashlib.sha256(source).digest(),
             "optimize": sys.flags.optimize, "data": marshal.dumps(other)}
    assert warm._cached_code(entry, app, source) is not None
    assert warm._cached_code(entry, app, source + b"\n") is None  # another source
    assert warm._cached_code(entry, app + "x", source) is None  # another script
    assert warm._cached_code({**entry, "optimize": sys.flags.optimize + 1}, app, source) is None
    for data in (b"", b"garbage", marshal.dumps("not code")):
        assert warm._cached_code({**entry, "data": data}, app, source) is None
    assert warm._cached_code(None, app, source) is None
    main = sys.modules["__main__"]
    try:
        cached["app"].write_bytes(source)
        warm._run_source(app, entry)
        assert sys.modules["__main__"].RESULT == "from the cache"
        cached["app"].write_bytes(b"RESULT = 'edited'\n")
        warm._run_source(app, entry)
        assert sys.modules["__main__"].RESULT == "edited"
    finally:
        sys.modules["__main__"] = main


def test_a_directory_or_module_application_has_no_cached_code(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__main__.py").write_text("print(1)\n")
    (tmp_path / "bad.py").write_text("def (\n")
    with zipfile.ZipFile(tmp_path / "app.pyz", "w") as zf:
        zf.writestr("__main__.py", "print(1)\n")
    for run in ({"kind": "path", "target": str(tmp_path / "pkg"), "path0": str(tmp_path)},
                {"kind": "module", "target": "pkg", "path0": str(tmp_path)},
                {"kind": "path", "target": str(tmp_path / "bad.py"), "path0": str(tmp_path)},
                {"kind": "path", "target": str(tmp_path / "app.pyz"), "path0": str(tmp_path)},
                {"kind": "path", "target": str(tmp_path / "gone.py"), "path0": str(tmp_path)}):
        assert _record._script_code(run) is None, run


def test_the_json_copy_is_never_read(cached: dict[str, Any]) -> None:
    text = Path(cached["path"]).read_text().replace('"policy": "signature"', '"policy": "strict"')
    Path(cached["path"]).write_text(text)
    data = _cache.read_plan(cached["path"])
    assert data is not None and data["policy"] == "signature"
    os.unlink(cached["path"][:-5] + ".warm")
    assert _cache.read_plan(cached["path"]) is None


@given(key=st.binary(max_size=200), data=st.binary(max_size=300))
def test_mac_is_hmac_sha256(key: bytes, data: bytes) -> None:
    """The builtin-sha256 HMAC agrees with the standard library's ``hmac`` (RFC 2104)."""
    assert _cache.mac(key, data) == hmac.new(key, data, "sha256").digest()


def _escape(cached: dict[str, Any], tmp: Path) -> dict[str, Any]:
    evil = tmp / "evil"
    (evil / "demo_lib").mkdir(parents=True)
    link = cached["record"]["links"]["demo-lib"]
    outside = os.path.join(cached["root"], "libs", "..", "..", "evil")
    return {"links": {"demo-lib": {**link, "path": outside, "dist_info": ""}}}


@pytest.mark.parametrize("change", [
    "generation", "manifest", "pyproject", "library", "python", "corrupt", "unsigned",
    "outside", "symlink", "yanked", "script", "flags", "types"])
def test_stale_records(cached: dict[str, Any], change: str, tmp_path: Path) -> None:
    """Anything a plan depends on that changed, and any plan its owner did not write or that
    would load code from outside the store, a yanked version or another script: not used."""
    root, manifest = cached["root"], cached["manifest"]
    record = cached["record"]
    lib = record["links"]["demo-lib"]
    if change == "generation":
        Path(root, "generation").write_text("4\n")
    elif change == "manifest":
        manifest.write_text('{"changed": 1}')
    elif change == "pyproject":
        (manifest.parent / "pyproject.toml").write_text("[tool.siglink]\npolicy = 'semver'\n")
    elif change == "library":
        os.rename(lib["path"], manifest.parent / "moved")
    elif change == "python":
        _rewrite(cached, python={**record["python"], "version": "2.7"})
    elif change == "corrupt":
        Path(cached["path"][:-5] + ".warm").write_bytes(b"\x00garbage")
    elif change == "unsigned":  # a valid record, authenticated with another key
        body = marshal.dumps({**record, "warnings": []})
        Path(cached["path"][:-5] + ".warm").write_bytes(_cache.mac(os.urandom(32), body) + body)
    elif change == "outside":
        _rewrite(cached, **_escape(cached, tmp_path))
    elif change == "symlink":  # libs/demo-lib/6.6.6 -> a directory outside the store
        evil = tmp_path / "evil" / "6.6.6"
        (evil / "demo_lib").mkdir(parents=True)
        link = Path(root, "libs", "demo-lib", "6.6.6")
        link.symlink_to(evil)
        _rewrite(cached, links={"demo-lib": {**lib, "version": "6.6.6", "path": str(link),
                                             "dist_info": ""}})
    elif change == "yanked":
        Path(lib["path"], _cache.YANK_MARKER).write_text("CVE-1\n")
    elif change == "script":
        other = tmp_path / "other.py"
        other.write_text("print('not the app')\n")
        _rewrite(cached, run={**record["run"], "target": str(other)})
    elif change == "flags":
        assert _valid(cached, PlanRequest(pre=True)) is None
        return
    else:
        _rewrite(cached, links={"demo-lib": {**lib, "top_level": ["os.path"]}})
    assert _valid(cached) is None


def test_a_yanked_version_is_linked_when_the_plan_allows_it(cached: dict[str, Any]) -> None:
    request = PlanRequest(allow_yanked=True)
    _rewrite(cached, flags=request.flags)
    Path(cached["record"]["links"]["demo-lib"]["path"], _cache.YANK_MARKER).write_text("x\n")
    assert _valid(cached, request) is not None
    assert _valid(cached) is None


def test_per_library_generations(cached: dict[str, Any]) -> None:
    """A plan records the generation of every library it linked or examined, and of the set
    of libraries (``*``); a change to any other library leaves it valid."""
    root = Path(cached["root"])
    (root / "generation").write_text("3\ndemo-lib 2\nother-lib 1\nunrelated 3\n* 1\n")
    _rewrite(cached, generations={"*": 1, "demo-lib": 2, "other-lib": 1})
    assert _valid(cached) is not None
    (root / "generation").write_text("4\ndemo-lib 2\nother-lib 1\nunrelated 4\n* 1\n")
    assert _valid(cached) is not None  # an unrelated library changed
    for changed in ("5\ndemo-lib 5\nother-lib 1\nunrelated 4\n* 1\n",
                    "5\ndemo-lib 2\nother-lib 5\nunrelated 4\n* 1\n",
                    "5\ndemo-lib 2\nother-lib 1\nunrelated 4\n* 5\n",
                    "5\nother-lib 1\nunrelated 4\n* 1\n",  # absent: changed at 5
                    "5\n", "garbage\n"):
        (root / "generation").write_text(changed)
        assert _valid(cached) is None, changed
    _rewrite(cached, generations={"*": -1})  # unknown: only the global generation it was made at
    (root / "generation").write_text("3\n")
    assert _valid(cached) is not None
    (root / "generation").write_text("4\ndemo-lib 2\nother-lib 1\n* 1\n")
    assert _valid(cached) is None
    _rewrite(cached, generations={})  # read nothing from the store: valid across any change
    assert _valid(cached) is not None


_text = st.text(max_size=8) | st.text(st.characters(exclude_categories=()), max_size=8) | (
    st.binary(max_size=8).map(lambda b: b.decode("utf-8", "surrogateescape")))
"""Any text, lone surrogates too (st.text() never draws one): paths that are not UTF-8."""
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=12)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(["format", "generation", "generations", "siglink", "flags",
                              "python", "manifest", "pyproject", "environment", "policy",
                              "entry", "run", "sources", "links", "warnings", "code", None]),
       value=_json)
def test_fuzzed_authentic_records_are_stale_not_tracebacks(
        cached: dict[str, Any], field: str | None, value: object) -> None:
    """An authenticated plan of the wrong shape is stale (recomputed), never a traceback."""
    record = {**cached["record"]}
    if field is None:
        record = value  # type: ignore[assignment]
    else:
        record[field] = value
    body = marshal.dumps(record)
    key = Path(cached["root"], "plans", ".key").read_bytes()
    Path(cached["path"][:-5] + ".warm").write_bytes(_cache.mac(key, body) + body)
    data = _valid(cached)
    assert data is None or data == record


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blob=st.binary(max_size=400))
def test_fuzzed_plan_files_are_stale(cached: dict[str, Any], blob: bytes) -> None:
    Path(cached["path"][:-5] + ".warm").write_bytes(blob)
    assert _valid(cached) is None


@pytest.mark.parametrize("what", ["plans", "key", "root", "libs", "bootstrap"])
def test_loose_modes_are_refused(cached: dict[str, Any], what: str) -> None:
    root = Path(cached["root"])
    boot = Path(hook.write_bootstrap(str(root / "bootstrap")))
    path = {"plans": root / "plans", "key": root / "plans" / ".key", "root": root,
            "libs": root / "libs", "bootstrap": boot / "sitecustomize.py"}[what]
    assert _cache.trust_problem(str(root), str(root / "plans"), str(boot)) is None
    path.chmod(path.stat().st_mode | 0o002)
    problem = _cache.trust_problem(str(root), str(root / "plans"), str(boot))
    assert problem == f"{path}: writable by others; refused (chmod go-w {path})"
    if what == "key":
        assert _valid(cached) is None


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to give the store to another user")
def test_a_store_of_another_user_keeps_plans_in_the_user_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "shared"
    root.mkdir()
    assert _cache.plan_dir(str(root)) == str(root / "plans")
    os.chown(root, 65534, 65534)
    plans = _cache.plan_dir(str(root))
    assert plans.startswith(str(tmp_path / "cache" / "siglink" / "plans") + os.sep)
    assert _cache.bootstrap_dir(str(root)) == str(tmp_path / "cache" / "siglink" / "bootstrap")


def test_parse_run_argv() -> None:
    assert warm.parse_run_argv(["run", "app.py", "--", "-v", "x"]) == {
        "store": None, "policy": "", "pre": False, "allow_yanked": False,
        "environment": False, "module": False, "app": "app.py", "args": ["-v", "x"],
        "trust_owner": False}
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


def test_the_warm_path_knows_the_policies() -> None:
    from siglink.contracts.policy import POLICIES
    from siglink.link.app import POLICIES as WARM_POLICIES

    assert WARM_POLICIES == POLICIES
