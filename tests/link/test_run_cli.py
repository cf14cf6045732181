"""``siglink run`` end to end, through the installed console script, on small real wheels."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from linkfixtures import install, make_app, make_wheel, siglink

from siglink.link.app import app_manifest_path, module_dir

_ENTRY = shutil.which("siglink")
SIGLINK = [_ENTRY] if _ENTRY else [sys.executable, "-m", "siglink"]

FORBIDDEN = ("argparse", "rich", "sqlite3", "resolvelib", "griffe", "packaging", "_griffe",
             "siglink.contracts", "siglink.store", "siglink.cli", "siglink.python")

V1 = {"textkit/__init__.py": '''
    VERSION = "1.0.0"

    def shout(text: str) -> str:
        return text.upper() + "!"

    def whisper(text: str) -> str:
        return text.lower()
    '''}
V101 = {"textkit/__init__.py": V1["textkit/__init__.py"].replace('"1.0.0"', '"1.0.1"')}
V2 = {"textkit/__init__.py": '''
    VERSION = "2.0.0"

    def shout(text: str, volume: int) -> str:
        return text.upper() * volume

    def whisper(text: str) -> str:
        return text.lower()
    '''}

APP = """
import importlib.metadata
import json
import sys

FIRST = sorted(sys.modules)
from textkit import shout

print(json.dumps({
    "version": importlib.metadata.version("textkit"),
    "shout": shout("hi"),
    "argv": sys.argv,
    "path0": sys.path[0],
    "file": __file__,
    "name": __name__,
    "identical": shout is sys.modules["textkit"].shout,
    "defined_in": shout.__code__.co_filename,
    "modules": FIRST,
}))
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 0)
"""


def run(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """``siglink ARGS`` in a child process, with ``SIGLINK_DEBUG=1``."""
    environ = dict(os.environ, SIGLINK_DEBUG="1", **env)
    return subprocess.run([*SIGLINK, *args], capture_output=True, text=True, cwd=cwd,
                          env=environ, timeout=120, check=False)


def output(result: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert result.stdout, f"no output (exit {result.returncode}):\n{result.stderr}"
    data: dict[str, object] = json.loads(result.stdout.splitlines()[-1])
    return data


@pytest.fixture
def store(tmp_path: Path, capsys: pytest.CaptureFixture[str],
          monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "store"
    install(capsys, root, make_wheel(tmp_path, "textkit", "1.0.0", V1))
    monkeypatch.setenv("SIGLINK_STORE", str(root))
    return root


@pytest.fixture
def app(tmp_path: Path) -> Path:
    return make_app(tmp_path, APP)


def _plan_files(store: Path) -> list[Path]:
    return sorted((store / "plans").glob("*.json"))


def test_cold_then_warm(store: Path, app: Path) -> None:
    first = run("run", str(app))
    assert first.returncode == 0, first.stderr
    assert "siglink: cold plan" in first.stderr
    assert output(first)["version"] == "1.0.0"
    [plan] = _plan_files(store)
    stamp = plan.stat().st_mtime_ns
    second = run("run", str(app))
    assert second.returncode == 0, second.stderr
    assert "siglink: warm plan" in second.stderr and "textkit==1.0.0" in second.stderr
    assert output(second)["shout"] == "HI!"
    assert plan.stat().st_mtime_ns == stamp
    assert _plan_files(store) == [plan]


@pytest.mark.parametrize("warmth", ["cold", "warm"])
def test_no_siglink_dependency_is_loaded_when_the_app_starts(
    store: Path, app: Path, warmth: str
) -> None:
    if warmth == "warm":
        assert run("run", str(app)).returncode == 0
    result = run("run", str(app))
    assert f"siglink: {warmth} plan" in result.stderr
    modules = output(result)["modules"]
    assert isinstance(modules, list)
    loaded = [m for m in modules if m.split(".")[0] in FORBIDDEN or m.startswith(FORBIDDEN)]
    assert loaded == []


def test_runs_exactly_as_python_would(store: Path, app: Path, tmp_path: Path) -> None:
    """argv, sys.path[0], __file__ and __name__ match ``python APP ARGS`` (with the library on
    PYTHONPATH), and ``-- ARGS`` reach the application."""
    lib = store / "libs" / "textkit" / "1.0.0"
    assert (lib / "textkit" / "__init__.py").is_file()
    python = subprocess.run([sys.executable, "app.py", "--verbose", "x"], capture_output=True,
                            text=True, cwd=app.parent, env=dict(os.environ, PYTHONPATH=str(lib)),
                            check=False)
    for _ in ("cold", "warm"):
        linked = run("run", "app.py", "--", "--verbose", "x", cwd=app.parent)
        assert linked.returncode == python.returncode == 0, linked.stderr
        ours, theirs = output(linked), output(python)
        for key in ("argv", "path0", "file", "name", "shout", "version"):
            assert ours[key] == theirs[key], key
        assert ours["argv"] == ["app.py", "--verbose", "x"]


def test_identity_and_metadata(store: Path, app: Path) -> None:
    data = output(run("run", str(app)))
    assert data["identical"] is True
    assert str(data["defined_in"]).startswith(str(store / "libs" / "textkit" / "1.0.0"))
    assert data["version"] == "1.0.0"


def test_exit_code_passes_through(store: Path, app: Path) -> None:
    for _ in ("cold", "warm"):
        assert run("run", str(app), "--", "7").returncode == 7


def test_uncaught_exception_is_python_s_traceback(store: Path, tmp_path: Path) -> None:
    app = make_app(tmp_path, """
        import textkit

        def fail():
            raise ValueError("no " + textkit.shout("way"))

        fail()
        """, name="boom.py")
    for warmth in ("cold", "warm"):
        result = run("run", str(app))
        assert result.returncode == 1
        assert f"siglink: {warmth} plan" in result.stderr
        trace = result.stderr.split("Traceback (most recent call last):\n", 1)[1]
        assert trace.startswith(f'  File "{app}", line 6, in <module>\n')
        assert trace.endswith("ValueError: no WAY!\n")
        assert "siglink" not in trace


def test_keyboard_interrupt_exits_as_python_does(store: Path, tmp_path: Path) -> None:
    app = make_app(tmp_path, "import textkit\nraise KeyboardInterrupt\n", name="ki.py")
    python = subprocess.run([sys.executable, str(app)], capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=str(store / "libs/textkit/1.0.0")),
                            check=False)
    assert python.returncode == -2  # killed by SIGINT: 130 in a shell
    for _ in ("cold", "warm"):
        result = run("run", str(app))
        assert result.returncode == python.returncode
        assert result.stderr.endswith("KeyboardInterrupt\n")


def test_run_module(store: Path, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / "tools").mkdir(parents=True)
    (project / "tools" / "__init__.py").write_text("")
    (project / "tools" / "loud.py").write_text(
        "import sys\nfrom textkit import shout\nprint(shout(sys.argv[1]), sys.argv[0])\n")
    for warmth in ("cold", "warm"):
        result = run("run", "-m", "tools.loud", "--", "hey", cwd=project)
        assert result.returncode == 0, result.stderr
        assert f"siglink: {warmth} plan" in result.stderr
        assert result.stdout == f"HEY! {project / 'tools' / 'loud.py'}\n"
    # its manifest lives in the store's own area, never in the current directory
    assert not (project / "tools.loud.siglink.json").exists()
    assert (Path(module_dir(str(store), str(project))) / "tools.loud.siglink.json"
            ).is_file()


def test_a_fixed_version_is_used_at_the_next_start(
    store: Path, app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert output(run("run", str(app)))["version"] == "1.0.0"
    manifest = Path(app_manifest_path(str(app)))
    built = manifest.stat().st_mtime_ns
    install(capsys, store, make_wheel(tmp_path, "textkit", "1.0.1", V101))
    result = run("run", str(app))
    assert "siglink: cold plan" in result.stderr
    assert output(result)["version"] == "1.0.1"
    assert manifest.stat().st_mtime_ns == built  # no rebuild
    assert "siglink: warm plan" in run("run", str(app)).stderr


def test_yanked_versions_are_never_linked(
    store: Path, app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install(capsys, store, make_wheel(tmp_path, "textkit", "1.0.1", V101))
    assert output(run("run", str(app)))["version"] == "1.0.1"
    code, _, err = siglink(capsys, "yank", "textkit==1.0.1", "--store", str(store),
                           "--reason", "CVE-2099-0001: shout leaks memory")
    assert code == 0, err
    assert output(run("run", str(app)))["version"] == "1.0.0"
    code, _, err = siglink(capsys, "yank", "textkit==1.0.0", "--store", str(store),
                           "--reason", "CVE-2099-0002: whisper is too loud")
    assert code == 0, err
    refused = run("run", str(app))
    assert refused.returncode == 127
    assert refused.stdout == ""
    assert "CVE-2099-0002" in refused.stderr and "textkit" in refused.stderr
    allowed = run("run", "--allow-yanked", str(app))
    assert allowed.returncode == 0, allowed.stderr
    assert output(allowed)["version"] == "1.0.1"


def test_refused_link_exits_127_naming_the_problem(
    store: Path, app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("run", str(app)).returncode == 0  # built against 1.0.0
    install(capsys, store, make_wheel(tmp_path, "textkit", "2.0.0", V2))
    assert output(run("run", str(app)))["version"] == "1.0.0"  # 2.0.0 breaks shout
    code, _, err = siglink(capsys, "yank", "textkit==1.0.0", "--store", str(store),
                           "--reason", "withdrawn")
    assert code == 0, err
    refused = run("run", str(app))
    assert refused.returncode == 127
    for needle in ("textkit", "shout", "2.0.0", "P3", "withdrawn"):
        assert needle in refused.stderr, needle
    assert "Traceback" not in refused.stderr
    # in process, the same refusal through main()
    code, out, err = siglink(capsys, "run", "--store", str(store), str(app))
    assert (code, out) == (127, "")
    assert "P3" in err and "shout" in err


def test_who_uses_tells_what_each_application_links_now(
    store: Path, app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every cold link records its outcome, a refused one included; the warm path does not
    touch the index."""
    def who_uses(*target: str) -> list[dict[str, object]]:
        code, out, err = siglink(capsys, "who-uses", *target, "--json", "--store", str(store))
        assert code == 0, err
        data: list[dict[str, object]] = json.loads(out)
        return data

    assert run("run", str(app)).returncode == 0
    manifest = app_manifest_path(str(app))
    assert who_uses("textkit") == [{"app": str(app), "manifest": manifest, "version": "1.0.0",
                                    "status": "linked", "reason": None}]
    install(capsys, store, make_wheel(tmp_path, "textkit", "2.0.0", V2))
    siglink(capsys, "yank", "textkit==1.0.0", "--store", str(store), "--reason", "withdrawn")
    assert run("run", str(app)).returncode == 127
    why = ("textkit: textkit.shout (incompatible in 2.0.0, the only version not yanked); "
           "1.0.0 is yanked (otherwise compatible)")
    assert who_uses("textkit") == [{"app": str(app), "manifest": manifest, "version": None,
                                    "status": "refused", "reason": why}]
    assert who_uses("textkit==1.0.0") == []
    code, out, _ = siglink(capsys, "who-uses", "textkit", "--store", str(store))
    assert out.splitlines()[1].split(None, 3) == [str(app), "none", "(refused)", why]
    # The fix arrives: the next start links it, and the registration says so.
    install(capsys, store, make_wheel(tmp_path, "textkit", "1.0.1", V101))
    assert output(run("run", str(app)))["version"] == "1.0.1"
    assert [(u["version"], u["status"]) for u in who_uses("textkit")] == [("1.0.1", "linked")]
    # remove --force relinks the applications that linked the removed version at once.
    code, out, err = siglink(capsys, "remove", "textkit==1.0.1", "--force", "--store", str(store))
    assert code == 0, err
    assert why in out
    assert who_uses("textkit") == [{"app": str(app), "manifest": manifest, "version": None,
                                    "status": "refused", "reason": why}]
    siglink(capsys, "unyank", "textkit==1.0.0", "--store", str(store))
    # unyank relinks the applications that need textkit (siglink.link.plan.relink)
    assert [(u["version"], u["status"]) for u in who_uses("textkit")] == [("1.0.0", "linked")]
    assert output(run("run", str(app)))["version"] == "1.0.0"
    assert [(u["version"], u["status"]) for u in who_uses("textkit")] == [("1.0.0", "linked")]


def test_policy_per_application_and_global(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """textkit 2.0.0 keeps ``whisper`` unchanged: by signature it links, under semver not."""
    app = make_app(tmp_path, """
        import importlib.metadata
        from textkit import whisper
        print(importlib.metadata.version("textkit"), whisper("OK"))
        """, name="quiet.py")
    assert run("run", str(app)).stdout == "1.0.0 ok\n"  # built against 1.0.0
    install(capsys, store, make_wheel(tmp_path, "textkit", "2.0.0", V2))
    assert run("run", str(app)).stdout == "2.0.0 ok\n"
    assert run("run", "--policy", "semver", str(app)).stdout == "1.0.0 ok\n"
    assert run("run", str(app), SIGLINK_POLICY="semver").stdout == "1.0.0 ok\n"
    (app.parent / "pyproject.toml").write_text('[tool.siglink]\npolicy = "semver"\n')
    assert run("run", str(app)).stdout == "1.0.0 ok\n"
    assert run("run", "--policy", "signature", str(app)).stdout == "2.0.0 ok\n"


def test_edited_script_is_rebuilt(store: Path, tmp_path: Path) -> None:
    app = make_app(tmp_path, "from textkit import shout\nprint(shout('a'))\n", name="ed.py")
    assert run("run", str(app)).stdout == "A!\n"
    manifest = Path(app_manifest_path(str(app)))
    before = json.loads(manifest.read_text())
    app.write_text("from textkit import shout, whisper\nprint(shout('a'), whisper('B'))\n")
    os.utime(app, ns=(manifest.stat().st_mtime_ns + 10**9,) * 2)
    result = run("run", str(app))
    assert result.stdout == "A! b\n"
    assert "siglink: cold plan" in result.stderr
    assert json.loads(manifest.read_text()) != before


def test_bad_input(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.py"
    result = run("run", str(missing))
    assert result.returncode == 2
    assert str(missing) in result.stderr and "Traceback" not in result.stderr
    code, _, err = siglink(capsys, "run")
    assert code == 2 and "APP" in err


def test_directory_and_project_applications(store: Path, tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "__main__.py").write_text(
        "import sys\nfrom textkit import shout\nprint(shout('dir'), sys.argv, sys.path[0])\n")
    python = subprocess.run([sys.executable, "folder", "x"], capture_output=True, text=True,
                            cwd=tmp_path, check=False,
                            env=dict(os.environ, PYTHONPATH=str(store / "libs/textkit/1.0.0")))
    assert python.stdout == f"DIR! ['folder', 'x'] {folder}\n"
    project = tmp_path / "proj"
    (project / "src" / "loudtool").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "loudtool"\nversion = "1"\n'
        '[project.scripts]\nloudtool = "loudtool.cli:main"\n')
    (project / "src" / "loudtool" / "__init__.py").write_text("")
    (project / "src" / "loudtool" / "cli.py").write_text(
        "import sys\nfrom textkit import shout\n\n"
        "def main():\n    print(shout(sys.argv[1]))\n    return 5\n")
    for warmth in ("cold", "warm"):
        result = run("run", "folder", "--", "x", cwd=tmp_path)
        assert f"siglink: {warmth} plan" in result.stderr
        assert (result.returncode, result.stdout) == (0, python.stdout)
        result = run("run", str(project), "--", "yo")
        assert f"siglink: {warmth} plan" in result.stderr
        assert (result.returncode, result.stdout) == (5, "YO!\n")
