"""The store commands through ``siglink.cli.main.main``, and every refusal leaving the store
byte-for-byte unchanged."""

from __future__ import annotations

import json
import os
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from siglink.cli.main import main

WheelMaker = Callable[..., Path]
Snapshot = Callable[[Path], dict[str, object]]


@pytest.fixture
def store(tmp_path: Path, make_wheel: WheelMaker) -> Path:
    """A store holding textkit 1.0.0, used by app ``/apps/report.py``."""
    from siglink.store import Store

    root = tmp_path / "store"
    s = Store(root)
    s.install([str(make_wheel("textkit", "1.0.0"))])
    manifest = tmp_path / "apps" / "report.siglink.json"  # a deleted app's would be pruned
    manifest.parent.mkdir()
    manifest.write_text("{}")
    s.register_app("/apps/report.py", manifest_path=str(manifest),
                   links={"textkit": "1.0.0"})
    s.close()
    return root


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_install_list_show(tmp_path: Path, make_wheel: WheelMaker,
                           capsys: pytest.CaptureFixture[str]) -> None:
    root = str(tmp_path / "s")
    wheel = make_wheel("textkit", "1.0.1", requires_python=">=3.9")
    assert run(capsys, "install", str(wheel), "--store", root) == (
        0, "installed textkit==1.0.1\n", "")
    assert run(capsys, "--store", root, "install", str(wheel)) == (
        0, "textkit==1.0.1 already present\n", "")
    code, out, _ = run(capsys, "--store", root, "install", str(make_wheel("textkit", "1.0.0")),
                       "--json")
    assert code == 0
    assert json.loads(out) == {
        "install": [{"name": "textkit", "version": "1.0.0", "status": "installed"}],
        "relinked": [], "warnings": []}
    assert run(capsys, "list", "--store", root) == (
        0, "NAME     VERSIONS\ntextkit  1.0.1, 1.0.0\n", "")
    code, out, _ = run(capsys, "yank", "textkit==1.0.0", "--reason", "CVE-1", "--store", root)
    assert (code, out) == (0, "yanked textkit==1.0.0: CVE-1\n")
    assert run(capsys, "list", "--store", root)[1] == (
        "NAME     VERSIONS\ntextkit  1.0.1, 1.0.0 (yanked)\n")
    code, out, _ = run(capsys, "list", "--json", "--store", root)
    assert json.loads(out) == [{"name": "textkit", "versions": [
        {"version": "1.0.1", "yanked": None, "source": "store"},
        {"version": "1.0.0", "yanked": "CVE-1", "source": "store"},
    ]}]
    code, out, _ = run(capsys, "show", "textkit", "--store", root)
    assert out.splitlines() == [
        "textkit",
        "VERSION  REQUIRES-PYTHON  YANKED  USED BY",
        "1.0.1    >=3.9                    0",
        "1.0.0                     CVE-1   0",
    ]
    code, out, _ = run(capsys, "show", "textkit==1.0.1", "--store", root)
    assert code == 0
    assert out.splitlines() == [
        "name:            textkit",
        "version:         1.0.1",
        f"path:            {root}/libs/textkit/1.0.1",
        "top-level:       textkit",
        "requires:        -",
        "requires-python: >=3.9",
        "yanked:          no",
        "exports:         2 (1 attribute, 1 function)",
        "imports:         -",
        "used by:         -",
    ]
    code, out, _ = run(capsys, "show", "textkit==1.0.1", "--json", "--store", root)
    data = json.loads(out)
    assert data["exports"] == {"attribute": 1, "function": 1} and data["export_paths"] == [
        "textkit.__version__", "textkit.greet"]
    assert run(capsys, "unyank", "textkit==1.0.0", "--store", root) == (
        0, "unyanked textkit==1.0.0 (was yanked: CVE-1)\n", "")
    assert run(capsys, "remove", "textkit==1.0.0", "--store", root) == (
        0, "removed textkit==1.0.0\n", "")
    assert run(capsys, "list", "--store", root)[1] == "NAME     VERSIONS\ntextkit  1.0.1\n"


def test_who_uses(store: Path, make_wheel: WheelMaker,
                  capsys: pytest.CaptureFixture[str]) -> None:
    """The application itself (here a script, derived from its manifest's path) in APP; the
    manifest under its own key."""
    report = store.parent / "apps" / "report.py"
    manifest = str(store.parent / "apps" / "report.siglink.json")
    _, out, _ = run(capsys, "who-uses", "textkit", "--store", str(store))
    assert out.split() == ["APP", "VERSION", str(report), "1.0.0"]
    _, out, _ = run(capsys, "who-uses", "TextKit==1.0.0", "--json", "--store", str(store))
    assert json.loads(out) == [{"app": str(report), "manifest": manifest,
                                "version": "1.0.0", "status": "linked", "reason": None}]
    # In the store, linked by nobody: said, exit 0. Not in the store: bad input, exit 2.
    assert run(capsys, "install", str(make_wheel("other", "1.0")), "--store", str(store))[0] == 0
    assert run(capsys, "who-uses", "other", "--store", str(store)) == (
        0, "no registered application links other\n", "")
    assert run(capsys, "who-uses", "other", "--json", "--store", str(store)) == (0, "[]\n", "")
    assert run(capsys, "who-uses", "nosuchlib", "--store", str(store)) == (
        2, "", "siglink: error: nosuchlib is not in the store\n")
    assert run(capsys, "who-uses", "textkit==2.0", "--store", str(store)) == (
        2, "", "siglink: error: textkit==2.0 is not in the store (it has 1.0.0)\n")


def test_every_command_has_help_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("install", "list", "show", "remove", "yank", "unyank", "who-uses",
                    "build", "plan", "run"):
        assert main([command, "--help"]) == 0
        out = capsys.readouterr().out
        assert "examples:" in out and f"siglink {command}" in out and "--store" in out


def test_empty_store_lists_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "none"
    assert run(capsys, "list", "--store", str(root)) == (0, f"no store at {root}\n", "")
    assert run(capsys, "list", "--json", "--store", str(root)) == (0, "[]\n", "")
    assert not root.exists()


# -- refusals: exit code, one line naming the thing, nothing changed --------------------------


def _zip(path: Path, members: dict[str, bytes], *, symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            if name == symlink:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, data)
    return path


Refused = Callable[..., None]


@pytest.fixture
def refused(store: Path, snapshot: Snapshot, capsys: pytest.CaptureFixture[str]) -> Refused:
    """``refused(argv, code, message)``: the command fails with ``code`` and the one-line
    ``message``, and the store is byte-for-byte what it was."""

    def check(argv: list[str], code: int, message: str) -> None:
        before = snapshot(store)
        assert run(capsys, *argv, "--store", str(store)) == (
            code, "", f"siglink: error: {message}\n"
        )
        assert snapshot(store) == before

    return check


def test_truncated_wheel(refused: Refused, make_wheel: WheelMaker) -> None:
    wheel = make_wheel("textkit", "2.0.0")
    data = wheel.read_bytes()
    wheel.write_bytes(data[: len(data) // 2])
    refused(["install", str(wheel)], 2,
             "textkit-2.0.0-py3-none-any.whl: not a valid wheel: not a zip file, or truncated")


def test_garbage_wheel(refused: Refused, tmp_path: Path) -> None:
    wheel = tmp_path / "textkit-2.0.0-py3-none-any.whl"
    wheel.write_bytes(b"this is not a zip\n" * 10)
    refused(["install", str(wheel)], 2,
             "textkit-2.0.0-py3-none-any.whl: not a valid wheel: not a zip file, or truncated")


def test_corrupt_member(store: Path, make_wheel: WheelMaker, snapshot: Snapshot,
                        capsys: pytest.CaptureFixture[str]) -> None:
    """A flipped byte in a compressed member: the zip opens, the member does not read."""
    wheel = make_wheel("textkit", "2.0.0", {"textkit/__init__.py": "x = 1\n" * 2000})
    data = bytearray(wheel.read_bytes())
    offset = data.index(b"textkit/__init__.py") + len(b"textkit/__init__.py") + 10
    data[offset] ^= 0xFF
    wheel.write_bytes(bytes(data))
    before = snapshot(store)
    code, out, err = run(capsys, "install", str(wheel), "--store", str(store))
    assert (code, out) == (2, "")
    assert err.startswith(
        "siglink: error: textkit-2.0.0-py3-none-any.whl: member 'textkit/__init__.py' "
    )
    assert err.count("\n") == 1
    assert snapshot(store) == before


def test_tampered_wheel(refused: Refused, make_wheel: WheelMaker) -> None:
    wheel = make_wheel("textkit", "2.0.0",
                       tamper={"textkit/__init__.py": b"import os; os.system('rm -rf ~')\n"})
    refused(["install", str(wheel)], 2,
             "textkit-2.0.0-py3-none-any.whl: member 'textkit/__init__.py' does not match its "
             "RECORD hash (tampered or corrupt wheel); refused")


def test_member_not_in_record(refused: Refused, make_wheel: WheelMaker) -> None:
    wheel = make_wheel("textkit", "2.0.0")
    with zipfile.ZipFile(wheel, "a") as archive:
        archive.writestr("textkit/backdoor.py", "import os\n")
    refused(["install", str(wheel)], 2,
             "textkit-2.0.0-py3-none-any.whl: member 'textkit/backdoor.py' is not listed in "
             "RECORD")


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        ("../evil.py", "escapes the wheel directory ('..')"),
        ("textkit/../../evil.py", "escapes the wheel directory ('..')"),
        ("/etc/evil.py", "is an absolute path"),
    ],
)
def test_escaping_paths(store: Path, make_wheel: WheelMaker, refused: Refused, member: str,
                        reason: str) -> None:
    wheel = make_wheel("textkit", "2.0.0", extra_members={member: b"print('owned')\n"})
    refused(["install", str(wheel)], 2,
             f"textkit-2.0.0-py3-none-any.whl: member {member!r} {reason}; refused")
    assert not (store.parent / "evil.py").exists()


def test_symlink_member(refused: Refused, tmp_path: Path) -> None:
    wheel = _zip(tmp_path / "textkit-2.0.0-py3-none-any.whl",
                 {"textkit/link.py": b"/etc/passwd"}, symlink="textkit/link.py")
    refused(["install", str(wheel)], 2,
             "textkit-2.0.0-py3-none-any.whl: member 'textkit/link.py' is a symbolic link; "
             "refused")


def test_no_dist_info(refused: Refused, tmp_path: Path) -> None:
    wheel = _zip(tmp_path / "textkit-2.0.0-py3-none-any.whl", {"textkit/__init__.py": b""})
    refused(["install", str(wheel)], 2,
             "textkit-2.0.0-py3-none-any.whl: not a valid wheel: no .dist-info directory")


def test_two_dist_infos(refused: Refused, tmp_path: Path) -> None:
    wheel = _zip(tmp_path / "textkit-2.0.0-py3-none-any.whl",
                 {"a-1.dist-info/METADATA": b"", "textkit-2.0.0.dist-info/METADATA": b""})
    refused(["install", str(wheel)], 2,
             "textkit-2.0.0-py3-none-any.whl: not a valid wheel: 2 .dist-info directories "
             "(a-1.dist-info, textkit-2.0.0.dist-info)")


def test_missing_record(refused: Refused, tmp_path: Path) -> None:
    wheel = _zip(tmp_path / "textkit-2.0.0-py3-none-any.whl",
                 {"textkit-2.0.0.dist-info/METADATA": b"Name: textkit\nVersion: 2.0.0\n",
                  "textkit-2.0.0.dist-info/WHEEL": b"Wheel-Version: 1.0\n"})
    refused(["install", str(wheel)], 2,
             "textkit-2.0.0-py3-none-any.whl: not a valid wheel: "
             "textkit-2.0.0.dist-info/RECORD is missing")


@pytest.mark.parametrize(
    "tag", ["cp311-cp311-win_amd64", "cp27-cp27mu-manylinux1_x86_64", "py2-none-any"]
)
def test_foreign_platform_or_python(refused: Refused, make_wheel: WheelMaker, tag: str) -> None:
    wheel = make_wheel("textkit", "2.0.0", tag=tag)
    refused(["install", str(wheel)], 2,
             f"{wheel.name}: wheel tag {tag} is not supported by this interpreter")


def test_wheel_tag_lies_about_its_file_name(refused: Refused, make_wheel: WheelMaker) -> None:
    wheel = make_wheel("textkit", "2.0.0", tag="cp27-cp27m-win_amd64",
                       filename="textkit-2.0.0-py3-none-any.whl")
    refused(["install", str(wheel)], 2,
             "textkit-2.0.0-py3-none-any.whl: wheel tag cp27-cp27m-win_amd64 is not supported "
             "by this interpreter")


def test_metadata_disagrees_with_file_name(refused: Refused, make_wheel: WheelMaker) -> None:
    wheel = make_wheel("textkit", "2.0.0", filename="textkit-2.0.1-py3-none-any.whl")
    refused(["install", str(wheel)], 2,
             "textkit-2.0.1-py3-none-any.whl: textkit-2.0.0.dist-info/METADATA: version "
             "'2.0.0' does not match the file name's 2.0.1")


def test_same_version_other_contents(refused: Refused, store: Path, make_wheel: WheelMaker) -> None:
    wheel = make_wheel("textkit", "1.0.0", {"textkit/__init__.py": "X = 2\n"})
    refused(["install", str(wheel)], 3,
             "textkit==1.0.0 is already in the store with different contents (from "
             "textkit-1.0.0-py3-none-any.whl); versions never overwrite each other: "
             "remove it first")


def test_missing_file_and_bad_spec(refused: Refused, tmp_path: Path, store: Path,
                                   snapshot: Snapshot, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope-1.0-py3-none-any.whl"
    refused(["install", str(missing)], 2,
             f"{missing}: no such file or directory")
    before = snapshot(store)
    code, out, err = run(capsys, "install", "not a requirement!!", "--store", str(store))
    assert (code, out) == (2, "")
    assert err.startswith("siglink: error: not a requirement!!: neither an existing file or "
                          "directory nor a requirement (")
    assert snapshot(store) == before


def test_corrupt_index(refused: Refused, store: Path, make_wheel: WheelMaker) -> None:
    index = store / "index.sqlite"
    index.write_bytes(os.urandom(64) + b"garbage" * 500)
    message = (f"{index}: corrupt store index (file is not a database); nothing was changed: "
               "run 'siglink store repair' to rebuild it from libs/")
    refused(["list"], 3, message)
    refused(["show", "textkit"], 3, message)
    refused(["install", str(make_wheel("textkit", "2.0.0"))], 3,
             message)
    refused(["yank", "textkit==1.0.0", "--reason", "x"], 3, message)


def test_newer_index_schema(refused: Refused, store: Path) -> None:
    import sqlite3

    db = sqlite3.connect(store / "index.sqlite")
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    refused(["list"], 3,
             f"{store / 'index.sqlite'}: store index schema 99 is newer than this siglink "
             "reads (3); upgrade siglink")


def test_missing_library(refused: Refused, store: Path) -> None:
    refused(["show", "nosuch"], 2, "nosuch is not in the store")
    refused(["show", "textkit==9.0"], 2,
             "textkit==9.0 is not in the store (it has 1.0.0)")
    refused(["remove", "nosuch==1.0"], 2,
             "nosuch==1.0 is not in the store")
    refused(["yank", "nosuch==1.0", "--reason", "x"], 2,
             "nosuch==1.0 is not in the store")
    refused(["unyank", "textkit==2.0"], 2,
             "textkit==2.0 is not in the store (it has 1.0.0)")
    refused(["remove", "textkit"], 2,
             "textkit: expected NAME==VERSION")


def test_remove_linked_version(tmp_path: Path, make_wheel: WheelMaker, snapshot: Snapshot,
                               capsys: pytest.CaptureFixture[str]) -> None:
    """Refused while an application links it now (checked on a fresh link); with --force the
    application is linked again at once, and its registration says why it links nothing."""
    root = tmp_path / "store"
    assert run(capsys, "install", str(make_wheel("textkit", "1.0.0")), "--store", str(root))[0] == 0
    app = tmp_path / "report.py"
    app.write_text("import textkit\ntextkit.greet('x')\n")
    code, _, err = run(capsys, "build", str(app), "--store", str(root))
    assert code == 0, err
    before = snapshot(root)
    assert run(capsys, "remove", "textkit==1.0.0", "--store", str(root)) == (
        3, "", f"siglink: error: textkit==1.0.0 is linked by 1 registered application ({app}); "
        "use --force to remove it anyway\n")
    assert snapshot(root) == before  # the fresh link changed nothing: nothing written
    code, out, err = run(capsys, "remove", "textkit==1.0.0", "--force", "--store", str(root))
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "removed textkit==1.0.0"
    assert out.splitlines()[1].startswith(f"  {app}: 1.0.0 -> refused (")
    assert len(out.splitlines()) == 2
    assert not (root / "libs" / "textkit").exists()
    _, out, _ = run(capsys, "who-uses", "textkit", "--json", "--store", str(root))
    [row] = json.loads(out)
    assert (row["app"], row["manifest"], row["version"], row["status"]) == (
        str(app), str(tmp_path / "report.siglink.json"), None, "refused")
    assert "textkit" in row["reason"]


def test_refusal_does_not_create_a_store(tmp_path: Path, make_wheel: WheelMaker,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "fresh"
    wheel = make_wheel("textkit", "2.0.0", tag="cp311-cp311-win_amd64")
    code, _, _ = run(capsys, "install", str(wheel), "--store", str(root))
    assert code == 2
    assert not root.exists()


def test_dry_runs_predict_and_write_nothing(tmp_path: Path, make_wheel: WheelMaker,
                                            snapshot: Snapshot,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """``install --dry-run`` and ``yank --dry-run`` say what each application would do."""
    root = tmp_path / "store"
    old = make_wheel("textkit", "1.0.0", {"textkit/__init__.py": "def greet(who):\n    pass\n"})
    fix = make_wheel("textkit", "1.0.1",
                     {"textkit/__init__.py": "def greet(who, loud=False):\n    pass\n"})
    breaking = make_wheel("textkit", "2.0.0",
                          {"textkit/__init__.py": "def greet(who, how):\n    pass\n"})
    app = tmp_path / "app.py"
    app.write_text("import textkit\ntextkit.greet('x')\n")
    assert run(capsys, "install", str(old), "--store", str(root))[0] == 0
    code, _, err = run(capsys, "build", str(app), "--store", str(root))
    assert code == 0, err
    before = snapshot(root)

    code, out, _ = run(capsys, "install", str(fix), str(breaking), "--dry-run", "--json",
                       "--store", str(root))
    assert code == 0
    data = json.loads(out)
    assert data["install"] == [{"name": "textkit", "version": "1.0.1"},
                               {"name": "textkit", "version": "2.0.0"}]
    [impact] = data["impact"]
    assert (impact["status"], impact["before"], impact["after"]) == (
        "move", {"textkit": "1.0.0"}, {"textkit": "1.0.1"})

    code, out, _ = run(capsys, "yank", "textkit==1.0.0", "--reason", "CVE", "--dry-run",
                       "--store", str(root))
    assert code == 0
    assert out.splitlines()[0].split() == ["APP", "STATUS", "REASON"]
    assert out.splitlines()[1].split()[:2] == [str(tmp_path / "app.py"), "stop"]
    assert snapshot(root) == before
