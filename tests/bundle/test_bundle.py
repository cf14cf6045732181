"""Bundles: one file with exactly the linked versions, run by a plain interpreter.

Every bundle here is built from real wheels in a real store and run by a real ``python`` in a
separate process; nothing of siglink is imported by the bundle at run time.
"""

from __future__ import annotations

import json
import marshal
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from siglink.cli.main import main
from siglink.demo import wheels

TEXTKIT_1_0 = {
    "textkit/__init__.py": ("from textkit.wrap import shout, whisper\n"
                            "__all__ = ['shout', 'whisper']\n"),
    "textkit/wrap.py": textwrap.dedent("""
        def shout(text: str) -> str:
            return text.upper() + "!"

        def whisper(text: str) -> str:
            return text.lower() + "..."
        """),
    "textkit/fill.py": "def fill(text: str, width: int = 70) -> str:\n    return text\n",
    "textkit/words.txt": "alpha\nbeta\n",
}
# 1.1.0: a fix in shout; whisper removed
TEXTKIT_1_1 = {
    "textkit/__init__.py": "from textkit.wrap import shout\n__all__ = ['shout']\n",
    "textkit/wrap.py": "def shout(text: str) -> str:\n    return text.upper() + '!!'\n",
    "textkit/fill.py": TEXTKIT_1_0["textkit/fill.py"],
    "textkit/words.txt": TEXTKIT_1_0["textkit/words.txt"],
}

APP = """\
import importlib.metadata
import sys

from textkit import shout

data = sys.stdin.read()
print(shout("hello"), importlib.metadata.version("textkit"), repr(data), sys.argv[1:])
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
"""


def siglink(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    root = tmp_path / "store"
    wheel = wheels.make_wheel(tmp_path / "wheels", "textkit", "1.0.0", TEXTKIT_1_0)
    code, _, err = siglink(capsys, "install", "--store", str(root), str(wheel))
    assert code == 0, err
    return root


def make_app(tmp_path: Path, source: str = APP, name: str = "app.py") -> Path:
    folder = tmp_path / "apps"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(source, encoding="utf-8")
    return path


def bundle(capsys: pytest.CaptureFixture[str], store: Path, app: Path, out: Path,
           *extra: str) -> dict[str, object]:
    code, stdout, err = siglink(capsys, "bundle", "--store", str(store), str(app), "-o",
                                str(out), "--json", *extra)
    assert code == 0, err
    data: dict[str, object] = json.loads(stdout)
    return data


def run(bundle_path: Path, *args: str, stdin: str = "", python: str = sys.executable,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "SIGLINK"))}
    env["XDG_CACHE_HOME"] = str(bundle_path.parent / "cache")
    return subprocess.run([python, str(bundle_path), *args], input=stdin, capture_output=True,
                          text=True, env=env, cwd=cwd or bundle_path.parent, check=False,
                          timeout=120)


def test_bundle_runs_like_the_application(tmp_path: Path, store: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app(tmp_path)
    out = tmp_path / "app.pyz"
    result = bundle(capsys, store, app, out)
    assert result["libs"] == {"textkit": "1.0.0"}
    done = run(out, "3", "x y", stdin="piped")
    assert (done.returncode, done.stdout, done.stderr) == (
        3, "HELLO! 1.0.0 'piped' ['3', 'x y']\n", "")
    # ./APP.pyz: executable, with a shebang for the interpreter it was built for
    assert os.access(out, os.X_OK)
    assert out.read_bytes().startswith(
        f"#!/usr/bin/env python{sys.version_info[0]}.{sys.version_info[1]}\n".encode())


def test_bundle_is_executable_through_its_shebang(tmp_path: Path, store: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    wanted = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    found = shutil.which(wanted)
    probe = subprocess.run([found, "-c", "print(1)"], capture_output=True, check=False) \
        if found else None
    if probe is None or probe.returncode != 0:
        pytest.skip(f"no working {wanted} on PATH for the shebang to find")
    out = tmp_path / "app.pyz"
    bundle(capsys, store, make_app(tmp_path), out)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "SIGLINK"))}
    done = subprocess.run([str(out), "0"], capture_output=True, text=True, env=env, input="",
                          check=False, timeout=120)
    assert done.stdout.startswith("HELLO! 1.0.0"), done.stderr


def test_two_builds_are_byte_identical(tmp_path: Path, store: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app(tmp_path)
    first, second = tmp_path / "one.pyz", tmp_path / "two.pyz"
    bundle(capsys, store, app, first)
    os.utime(app, (1_000_000_000, 1_000_000_000))  # a different mtime changes nothing
    bundle(capsys, store, app, second)
    assert first.read_bytes() == second.read_bytes()


def test_inspect_lists_the_exact_versions_and_verdicts(
        tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "app.pyz"
    bundle(capsys, store, make_app(tmp_path), out)
    code, stdout, _ = siglink(capsys, "inspect", str(out), "--json")
    data = json.loads(stdout)
    assert code == 0 and data["intact"] is True and data["problems"] == []
    assert [(lib["name"], lib["version"]) for lib in data["libs"]] == [("textkit", "1.0.0")]
    lib = data["libs"][0]
    assert lib["verdict"]["status"] == "identical"
    assert set(lib["files"]) >= {"textkit/__init__.py", "textkit/wrap.py",
                                 "textkit-1.0.0.dist-info/METADATA"}
    assert data["app"]["name"] == "app" and data["python"] == "{}.{}".format(*sys.version_info)
    with zipfile.ZipFile(out) as archive:  # the plan and every manifest are inside
        names = set(archive.namelist())
    assert {".siglink/manifests/app.siglink.json",
            ".siglink/manifests/textkit-1.0.0.siglink.json"} <= names


def _rewrite(src: Path, dest: Path, member: str, change: object) -> None:
    """Copy the bundle ``src`` to ``dest`` with ``member`` replaced by ``change(data)``."""
    data = src.read_bytes()
    head = data[: data.index(b"PK\x03\x04")]
    with zipfile.ZipFile(src) as old, open(dest, "wb") as f:
        f.write(head)
        with zipfile.ZipFile(f, "w") as new:
            for info in old.infolist():
                content = old.read(info)
                if info.filename == member:
                    content = change(content)  # type: ignore[operator]
                new.writestr(info, content)


def test_a_modified_member_refuses_to_start(tmp_path: Path, store: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "app.pyz"
    bundle(capsys, store, make_app(tmp_path), out)
    bad = tmp_path / "bad.pyz"
    member = "libs/textkit-1.0.0/textkit/wrap.py"
    _rewrite(out, bad, member, lambda data: data + b"\nprint('injected')\n")
    done = run(bad)
    assert done.returncode == 127
    assert "injected" not in done.stdout
    assert done.stderr == (f"{bad}: member {member} was modified after the bundle was built; "
                           "refusing to start (siglink inspect bad.pyz lists every change)\n")
    code, stdout, _ = siglink(capsys, "inspect", str(bad))
    assert code == 1
    assert f"MODIFIED: member {member} was modified" in stdout


def test_a_bundle_for_another_python_says_so(tmp_path: Path, store: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "app.pyz"
    bundle(capsys, store, make_app(tmp_path), out)
    other = tmp_path / "other.pyz"

    def retarget(data: bytes) -> bytes:
        boot = marshal.loads(data)
        boot["python"] = (3, 99)
        return marshal.dumps(boot)

    _rewrite(out, other, ".siglink/boot.marshal", retarget)
    done = run(other)
    assert done.returncode == 127
    assert done.stderr.startswith(f"{other}: this bundle was built for Python 3.99; this is "
                                  f"Python {sys.version.split()[0]}")


def test_relink_takes_a_fix_without_the_sources(tmp_path: Path, store: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app(tmp_path)
    out = tmp_path / "app.pyz"
    bundle(capsys, store, app, out)
    app.unlink()  # the application's sources are gone; the bundle is all there is
    fix = wheels.make_wheel(tmp_path / "wheels", "textkit", "1.1.0", TEXTKIT_1_1)
    assert siglink(capsys, "install", "--store", str(store), str(fix))[0] == 0
    code, stdout, _ = siglink(capsys, "relink", "--store", str(store), str(out), "--dry-run",
                              "--json")
    assert code == 0
    assert json.loads(stdout)["moved"] == {"textkit": {"from": "1.0.0", "to": "1.1.0"}}
    assert run(out).stdout.startswith("HELLO! 1.0.0")  # --dry-run wrote nothing
    fixed = tmp_path / "fixed.pyz"
    code, stdout, _ = siglink(capsys, "relink", "--store", str(store), str(out), "-o", str(fixed))
    assert code == 0 and "moved textkit 1.0.0 -> 1.1.0" in stdout
    assert run(fixed).stdout.startswith("HELLO!! 1.1.0")


def test_relink_keeps_a_version_whose_successor_removed_a_used_name(
        tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app(tmp_path, "from textkit import whisper\nprint(whisper('HI'))\n")
    out = tmp_path / "app.pyz"
    bundle(capsys, store, app, out)
    fix = wheels.make_wheel(tmp_path / "wheels", "textkit", "1.1.0", TEXTKIT_1_1)
    assert siglink(capsys, "install", "--store", str(store), str(fix))[0] == 0
    code, stdout, _ = siglink(capsys, "relink", "--store", str(store), str(out))
    assert code == 0
    assert "textkit stays on 1.0.0: 1.1.0 refused: P1" in stdout
    assert "whisper" in stdout
    assert run(out).stdout == "hi...\n"


def test_relink_of_something_else_is_one_line(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    code, stdout, err = siglink(capsys, "relink", str(notes))
    assert (code, stdout, err) == (
        2, "", f"siglink: error: {notes}: not a siglink bundle (not a zip archive)\n")
    plain = tmp_path / "plain.zip"
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("__main__.py", "print(1)")
    code, _, err = siglink(capsys, "inspect", str(plain))
    assert (code, err) == (
        2, f"siglink: error: {plain}: not a siglink bundle (no .siglink/bundle.json)\n")


def test_a_refused_link_refuses_the_bundle(tmp_path: Path, store: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app(tmp_path, "from textkit import shout\nshout('a', 'b', 'c')\n")
    manifest_app = make_app(tmp_path, "from textkit import nothing_here\n", name="other.py")
    out = tmp_path / "other.pyz"
    code, _, err = siglink(capsys, "bundle", "--store", str(store), str(manifest_app), "-o",
                           str(out))
    assert code == 127
    assert "nothing_here" in err
    assert not out.exists()
    del app


def test_prune_keeps_the_import_closure_and_package_data(
        tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pruned.pyz"
    result = bundle(capsys, store, make_app(tmp_path), out, "--prune")
    assert result["kept_whole"] == {}
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
    assert "libs/textkit-1.0.0/textkit/wrap.py" in names
    assert "libs/textkit-1.0.0/textkit/words.txt" in names  # data of a kept package
    assert "libs/textkit-1.0.0/textkit/fill.py" not in names  # never imported
    assert run(out).stdout.startswith("HELLO! 1.0.0")


def test_prune_keeps_a_library_reached_dynamically_whole(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "store"
    files = {
        "plugs/__init__.py": "import importlib\n\ndef load(name):\n"
                             "    return importlib.import_module('plugs.' + name)\n",
        "plugs/alpha.py": "VALUE = 'alpha'\n",
    }
    wheel = wheels.make_wheel(tmp_path / "wheels", "plugs", "1.0.0", files)
    assert siglink(capsys, "install", "--store", str(root), str(wheel))[0] == 0
    app = make_app(tmp_path, "from plugs import load\nprint(load('alpha').VALUE)\n")
    out = tmp_path / "app.pyz"
    result = bundle(capsys, root, app, out, "--prune")
    assert result["kept_whole"] == {"plugs": "plugs/__init__.py imports by computed name"}
    assert run(out).stdout == "alpha\n"


def test_multiprocessing_and_subprocess_children_inherit_the_link(
        tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = textwrap.dedent("""
        import multiprocessing, subprocess, sys

        def version(queue):
            import importlib.metadata, textkit
            queue.put((importlib.metadata.version("textkit"), textkit.shout("x")))

        if __name__ == "__main__":
            for method in ("spawn", "forkserver", "fork"):
                context = multiprocessing.get_context(method)
                queue = context.Queue()
                child = context.Process(target=version, args=(queue,))
                child.start()
                print(method, *queue.get())
                child.join()
            code = "import importlib.metadata as m; print('subprocess', m.version('textkit'))"
            print(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                 text=True).stdout.strip())
        """)
    out = tmp_path / "mp.pyz"
    bundle(capsys, store, make_app(tmp_path, source, name="mp.py"), out)
    done = run(out)
    assert done.stdout.splitlines() == [
        "spawn 1.0.0 X!", "forkserver 1.0.0 X!", "fork 1.0.0 X!", "subprocess 1.0.0"], done.stderr


def _other_python() -> tuple[str, str] | None:
    """Another working interpreter: (X.Y, its directory), from PATH or a pyenv install."""
    import glob

    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    for version in ("3.12", "3.13", "3.10"):
        if version == here:
            continue
        candidates = [shutil.which(f"python{version}") or "", *sorted(glob.glob(
            os.path.expanduser(f"~/.pyenv/versions/{version}*/bin/python{version}")))]
        for found in filter(None, candidates):
            if subprocess.run([found, "-c", "1"], capture_output=True,
                              check=False).returncode == 0:
                return version, os.path.dirname(found)
    return None


def test_python_version_compiles_for_another_interpreter(
        tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    other = _other_python()
    if other is None:
        pytest.skip("no second Python interpreter (3.12, 3.13 or 3.10) on PATH or in pyenv")
    version, directory = other
    monkeypatch.setenv("PATH", directory + os.pathsep + os.environ["PATH"])
    out = tmp_path / "other.pyz"
    bundle(capsys, store, make_app(tmp_path), out, "--python-version", version)
    done = run(out, python=os.path.join(directory, f"python{version}"))
    assert done.stdout.startswith("HELLO! 1.0.0"), done.stderr
    here = run(out)
    assert here.returncode == 127 and f"built for Python {version}" in here.stderr


def test_a_missing_interpreter_version_is_one_line(tmp_path: Path, store: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = siglink(capsys, "bundle", "--store", str(store), str(make_app(tmp_path)),
                           "-o", str(tmp_path / "x.pyz"), "--python-version", "2.99")
    assert (code, err) == (2, "siglink: error: --python-version 2.99: no working python2.99 on "
                              "PATH to compile the bundle's bytecode with\n")


SHARED_HOOK_APP = """\
import subprocess, sys

import textkit

finder = sys.meta_path[0]
print(type(finder).__module__, type(finder).__name__, "siglink" in sys.modules)
code = ("import sys, textkit; f = sys.meta_path[0]; "
        "print(type(f).__module__, type(f).__name__, textkit.shout('child'))")
print(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout, end="")
"""


def test_the_bundle_links_with_siglink_s_own_import_hook(
        tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "app.pyz"
    bundle(capsys, store, make_app(tmp_path, SHARED_HOOK_APP), out)
    with zipfile.ZipFile(out) as archive:
        carried = archive.read("_siglink_hook.py")
    from siglink.link import hook

    assert carried == Path(hook.__file__).read_bytes()
    done = run(out)
    # the finder first on sys.meta_path, in the application and in a child it starts, is
    # hook.py's LinkFinder loaded from the archive; siglink itself is never imported
    assert done.stdout.splitlines() == ["_siglink_hook LinkFinder False",
                                        "_siglink_hook LinkFinder CHILD!"], done.stderr


@pytest.mark.parametrize("member", ["_siglink_hook.py", "_siglink_hook.pyc"])
def test_a_tampered_import_hook_refuses_to_start(
        tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str], member: str) -> None:
    out = tmp_path / "app.pyz"
    bundle(capsys, store, make_app(tmp_path), out)
    bad = tmp_path / "bad.pyz"
    _rewrite(out, bad, member, lambda data: data + b"\nprint('injected')\n")
    done = run(bad)
    assert (done.returncode, done.stdout) == (127, "")
    assert done.stderr == (f"{bad}: member {member} was modified after the bundle was built; "
                           "refusing to start (siglink inspect bad.pyz lists every change)\n")


def test_a_bundle_without_the_import_hook_is_refused_in_one_line(
        tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A bundle whose member table was made without ``_siglink_hook.py`` (as an earlier
    siglink made them) cannot be linked by this bootstrap: it says so instead of failing."""
    out = tmp_path / "app.pyz"
    bundle(capsys, store, make_app(tmp_path), out)
    old = tmp_path / "old.pyz"
    gone = {"_siglink_hook.py", "_siglink_hook.pyc"}
    data = out.read_bytes()
    with zipfile.ZipFile(out) as src, open(old, "wb") as f:
        f.write(data[: data.index(b"PK\x03\x04")])
        with zipfile.ZipFile(f, "w") as new:
            for info in src.infolist():
                content = src.read(info)
                if info.filename in gone:
                    continue
                if info.filename == ".siglink/boot.marshal":
                    boot = marshal.loads(content)
                    boot["members"] = {k: v for k, v in boot["members"].items() if k not in gone}
                    content = marshal.dumps(boot)
                new.writestr(info, content)
    done = run(old)
    assert (done.returncode, done.stdout) == (127, "")
    assert done.stderr == (
        f"{old}: member _siglink_hook.py is missing (a bundle made by an earlier siglink, "
        "started by a later one's bootstrap); refusing to start (siglink relink old.pyz "
        "rebuilds it)\n")


def test_a_child_runs_the_sitecustomize_the_bundle_s_shadows(
        tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    user = tmp_path / "user-site"
    user.mkdir()
    (user / "sitecustomize.py").write_text("import builtins\nbuiltins.USER_SITECUSTOMIZE = 1\n")
    source = textwrap.dedent("""
        import subprocess, sys
        import textkit
        code = ("import builtins, importlib.metadata as m; "
                "print(getattr(builtins, 'USER_SITECUSTOMIZE', None), m.version('textkit'))")
        print(subprocess.run([sys.executable, "-c", code], capture_output=True,
                             text=True).stdout, end="")
        """)
    out = tmp_path / "app.pyz"
    bundle(capsys, store, make_app(tmp_path, source), out)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "SIGLINK"))}
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), PYTHONPATH=str(user))
    done = subprocess.run([sys.executable, str(out)], capture_output=True, text=True, env=env,
                          cwd=tmp_path, check=False, timeout=120)
    assert done.stdout == "1 1.0.0\n", done.stderr


def test_the_bootstrap_inside_siglink_uses_siglink_s_hook() -> None:
    from siglink.bundle import _boot
    from siglink.link import hook

    assert _boot._hook(None, "unused.pyz") is hook
    assert "_siglink_hook" not in sys.modules
