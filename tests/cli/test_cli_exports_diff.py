"""``siglink exports`` and ``siglink diff`` through ``main([...])``: output, exit codes, errors."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from siglink.cli.contracts import is_downgrade, major_bump
from siglink.cli.main import main
from siglink.demo import wheels


def make_wheel(directory: Path, name: str, version: str, files: dict[str, str]) -> Path:
    """A real wheel (:func:`siglink.demo.wheels.make_wheel`) of ``files``, each dedented."""
    sources = {path: textwrap.dedent(text) for path, text in files.items()}
    return wheels.make_wheel(directory, name, version, sources)

V1 = {
    "textkit/__init__.py": '''
        def wrap(text: str, width: int = 70) -> list[str]: ...
        def shout(text: str) -> str: ...
        def gone() -> None: ...
    ''',
}
V2 = {
    "textkit/__init__.py": '''
        def wrap(text: str, width: int = 80, *, sep: str = " ") -> list[str]: ...
        def shout(text: bytes) -> str: ...
        def fresh() -> None: ...
    ''',
}
V3 = {
    "textkit/__init__.py": '''
        def wrap(text: str, width: int = 80) -> list[str]: ...
        def shout(text: str) -> str: ...
        def gone() -> None: ...
    ''',
}


@pytest.fixture
def releases(tmp_path: Path) -> dict[str, Path]:
    return {
        "1.0": make_wheel(tmp_path, "textkit", "1.0.0", V1),
        "1.1": make_wheel(tmp_path, "textkit", "1.1.0", V2),
        "2.0": make_wheel(tmp_path, "textkit", "2.0.0", V2),
        "1.0.1": make_wheel(tmp_path, "textkit", "1.0.1", V3),
    }


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


class TestExports:
    def test_table(self, releases: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
        code, out, err = run(capsys, "exports", str(releases["1.0"]))
        assert code == 0 and err == ""
        lines = out.splitlines()
        assert lines[0] == "textkit 1.0.0: 3 exports"
        assert lines[1].split() == ["path", "kind", "signature"]
        assert lines[4].split(None, 2) == [
            "textkit.wrap", "function", "(text: str, width: int = ...) -> list[str]"]

    def test_json_is_the_manifest(
        self, releases: dict[str, Path], capsys: pytest.CaptureFixture[str]
    ) -> None:
        from siglink.python.exports import extract

        code, out, _ = run(capsys, "exports", str(releases["1.0"]), "--json")
        assert code == 0
        assert json.loads(out) == extract(releases["1.0"]).to_json()

    def test_diagnostics_are_warnings(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        wheel = make_wheel(tmp_path, "half", "1.0", {
            "half/__init__.py": "def ok() -> None: ...\n",
            "half/bad.py": "def broken(:\n",
        })
        code, out, err = run(capsys, "exports", str(wheel))
        assert code == 0
        assert "half.ok" in out
        assert err == (
            "siglink: warning: half/bad.py:1: syntax error: invalid syntax; module skipped\n")

    def test_terminal_table_keeps_paths_whole(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch
    ) -> None:
        wheel = make_wheel(tmp_path, "wide", "1.0", {"wide/__init__.py": """
            def configure_everything_at_once(alpha: int, beta: str, gamma: float,
                                             delta: bytes, epsilon: list[int]) -> None: ...
        """})
        monkeypatch.delenv("NO_COLOR")
        monkeypatch.setenv("FORCE_COLOR", "1")
        monkeypatch.setenv("COLUMNS", "70")
        code, out, _ = run(capsys, "exports", str(wheel))
        plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
        assert code == 0 and "│" in plain
        assert max(len(line) for line in plain.splitlines()) <= 70
        assert {"wide.configure_everything_at_once", "function", "epsilon:"} <= set(
            plain.split())

    @pytest.mark.parametrize("command", ["exports", "diff"])
    def test_help_has_examples(self, command: str, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = run(capsys, command, "--help")
        assert code == 0
        assert "examples:" in out and f"siglink {command} " in out

    def test_bad_inputs_exit_2_with_one_line(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        broken = tmp_path / "broken-1.0-py3-none-any.whl"
        broken.write_bytes(b"PK\x03\x04 truncated")
        manifest = tmp_path / "siglink.json"
        manifest.write_text('{"format": 7, "unit": {"name": "x", "version": "1"}}')
        garbled = tmp_path / "garbled.json"
        garbled.write_text('{"format": 1, "unit": {"name": "x", "version": "1"}, '
                           '"exports": {"x.f": {"kind": "function", "signature": "(a b)"}}}')
        sdist = tmp_path / "cut-1.0.tar.gz"
        sdist.write_bytes(b"\x1f\x8b\x08\x00" + bytes(40))
        cases = {
            str(garbled): f"{garbled}: corrupt manifest: $.exports[\"x.f\"].signature: "
                          "invalid signature '(a b)': invalid syntax at column 4",
            str(sdist): f"{sdist}: not a valid source archive: zlib error: Error -3 while "
                        "decompressing data: invalid stored block lengths",
            str(tmp_path / "missing.whl"): f"{tmp_path / 'missing.whl'}: no such file or directory",
            str(broken): f"{broken}: not a valid wheel (zip archive): File is not a zip file",
            str(manifest): f"{manifest}: manifest format 7 is newer than this siglink reads "
                           "(format 1); upgrade siglink",
        }
        for target, message in cases.items():
            code, out, err = run(capsys, "exports", target)
            assert (code, out, err) == (2, "", f"siglink: error: {message}\n")
            code, out, err = run(capsys, "diff", target, target)
            assert (code, err) == (2, f"siglink: error: {message}\n")


class TestDiff:
    def test_breaking_minor_release_fails_under_semver(
        self, releases: dict[str, Path], capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, err = run(capsys, "diff", str(releases["1.0"]), str(releases["1.1"]))
        assert code == 1
        assert out.splitlines()[0] == "textkit 1.0.0 -> textkit 1.1.0 (policy semver)"
        assert "removed (P1, incompatible):" in out and "textkit.gone" in out
        assert "incompatible:" in out and "P11" in out
        assert "added:" in out and "textkit.fresh" in out
        assert err == "FAIL: 2 breaking changes without a major version bump\n"

    def test_piped_output_is_one_problem_per_line(
        self, releases: dict[str, Path], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Piped, every problem is one unpadded line: path: rule where: expected, found."""
        code, out, _ = run(capsys, "diff", str(releases["1.0"]), str(releases["1.1"]))
        assert code == 1
        assert out.splitlines() == [
            "textkit 1.0.0 -> textkit 1.1.0 (policy semver)",
            "removed (P1, incompatible):",
            "  textkit.gone: function () -> None",
            "incompatible:",
            "  textkit.shout: P11 param text: expected str, found bytes; parameter type "
            "narrowed (incompatible)",
            "compatible changes:",
            "  textkit.wrap: P9 param width: expected 70, found 80; default value changed "
            "(review)",
            "  textkit.wrap: P2 param sep: expected absent, found sep: str = ...; keyword-only "
            "parameter with a default added (harmless)",
            "added:",
            "  textkit.fresh: function () -> None",
        ]

    def test_changes_no_rule_reports_say_what_changed(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        old = make_wheel(tmp_path, "shapes", "1.0", {"shapes/__init__.py": """
            class Base: ...
            class K(Base):
                def f(self) -> int: ...
        """})
        (tmp_path / "new").mkdir()
        new = make_wheel(tmp_path / "new", "shapes", "1.1", {"shapes/__init__.py": """
            class Base: ...
            class Other: ...
            class K(Base, Other):
                def f(self) -> int: ...
                def g(self, n: int) -> str: ...
        """})
        code, out, _ = run(capsys, "diff", str(old), str(new))
        assert code == 0
        assert out.splitlines()[1:4] == [
            "compatible changes:",
            "  shapes.K: changed bases: was (shapes.Base), now (shapes.Base, shapes.Other)",
            "  shapes.K: changed member g: was absent, now method (n: int) -> str",
        ]
        code, out, _ = run(capsys, "diff", str(old), str(new), "--json")
        (entry,) = json.loads(out)["compatible"]
        assert entry["changes"] == [
            {"where": "bases", "old": "(shapes.Base)", "new": "(shapes.Base, shapes.Other)"},
            {"where": "member g", "old": "absent", "new": "method (n: int) -> str"},
        ]

    def test_terminal_tables_never_split_a_token(
        self, releases: dict[str, Path], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """On a terminal: rich tables; paths, rules, severities and locations stay whole, long
        signatures wrap at spaces."""
        monkeypatch.delenv("NO_COLOR")
        monkeypatch.setenv("FORCE_COLOR", "1")
        monkeypatch.setenv("COLUMNS", "100")
        code, out, _ = run(capsys, "diff", str(releases["1.0"]), str(releases["1.1"]))
        assert code == 1
        plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
        assert max(len(line) for line in plain.splitlines()) <= 100
        words = set(plain.split())
        assert {"textkit.shout", "textkit.wrap", "textkit.gone", "textkit.fresh", "P11", "P9",
                "review", "harmless", "width", "narrowed"} <= words
        assert "│" in plain and "  textkit.shout: P11" not in plain  # tables, not lines
        monkeypatch.setenv("COLUMNS", "60")  # too narrow for six columns: lines again
        code, out, _ = run(capsys, "diff", str(releases["1.0"]), str(releases["1.1"]))
        plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
        assert "  textkit.shout: P11 param text: expected str, found bytes; parameter type " \
            "narrowed (incompatible)" in plain.splitlines()

    def test_unverified_parts_are_summarised(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Unannotated parameters (P24) are counted on one line, listed only in --json."""
        old = make_wheel(tmp_path, "loose", "1.0", {"loose/__init__.py": "def f(a, b): ...\n"})
        new = make_wheel(tmp_path, "loose", "1.1",
                         {"loose/__init__.py": "def f(a, b, c=1): ...\n"})
        code, out, _ = run(capsys, "diff", str(old), str(new))
        assert code == 0
        assert out.splitlines()[-2:] == [
            "unverified: 3 parts of 1 changed export (Any, unknown or missing annotations; "
            "--json lists them)",
            "ok: no breaking change",
        ]
        code, out, _ = run(capsys, "diff", str(old), str(new), "--json")
        (entry,) = json.loads(out)["compatible"]
        assert entry["unverified"] == [
            "loose.f param a: no annotation", "loose.f param b: no annotation",
            "loose.f return: no annotation"]
        assert [p["path"] for p in entry["problems"]] == ["loose.f param c"]

    def test_major_bump_allows_breaking_changes_under_semver_only(
        self, releases: dict[str, Path], capsys: pytest.CaptureFixture[str]
    ) -> None:
        old, new = str(releases["1.0"]), str(releases["2.0"])
        assert run(capsys, "diff", old, new)[0] == 0
        assert run(capsys, "diff", old, new, "--policy", "signature")[0] == 1
        assert run(capsys, "diff", old, new, "--policy", "strict")[0] == 1

    def test_changed_default_fails_only_under_strict(
        self, releases: dict[str, Path], capsys: pytest.CaptureFixture[str]
    ) -> None:
        old, new = str(releases["1.0"]), str(releases["1.0.1"])
        code, out, _ = run(capsys, "diff", old, new, "--policy", "signature")
        assert code == 0 and "P9" in out
        assert run(capsys, "diff", old, new)[0] == 0
        assert run(capsys, "diff", old, new, "--policy", "strict")[0] == 1

    def test_json(self, releases: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = run(capsys, "diff", str(releases["1.0"]), str(releases["1.1"]), "--json")
        data = json.loads(out)
        assert code == 1
        assert data["old"] == {"name": "textkit", "version": "1.0.0"}
        assert data["new"] == {"name": "textkit", "version": "1.1.0"}
        assert (data["policy"], data["major_bump"], data["ok"]) == ("semver", False, False)
        assert data["removed"] == ["textkit.gone"]
        assert data["added"] == ["textkit.fresh"]
        (shout,) = data["incompatible"]
        assert shout["path"] == "textkit.shout"
        assert [p["rule"] for p in shout["problems"]] == ["P11"]
        assert [c["path"] for c in data["compatible"]] == ["textkit.wrap"]

    def test_identical_manifests(
        self, releases: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, _ = run(capsys, "exports", str(releases["1.0"]), "--json")
        saved = tmp_path / "siglink.json"
        saved.write_text(out)
        code, out, _ = run(capsys, "diff", str(saved), str(releases["1.0"]))
        assert code == 0
        assert "no changes" in out


@pytest.mark.parametrize(
    ("old", "new", "bumped"),
    [("1.4.2", "2.0.0", True), ("2.0.1", "2.1.5", False), ("0.3.1", "0.4.0", True),
     ("0.3.1", "0.3.9", False), ("0.0.3", "0.0.4", True), ("0.9", "1.0", True),
     ("2.0", "1.9", False), ("1.0.0", "1.0.0rc1", False)],
)
def test_major_bump(old: str, new: str, bumped: bool) -> None:
    assert major_bump(old, new) is bumped


@pytest.mark.network
def test_markupsafe_2_0_sdist_to_2_1_wheel_removes_soft_unicode(
    pypi: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sdist's compiled speedups are not built, so its functions are what the pure-Python
    fallbacks accept; the wheel's run compiled and take their argument by position only."""
    old = str(pypi.fetch("markupsafe==2.0.1", kind="sdist"))
    new = str(pypi.fetch("markupsafe==2.1.5"))
    code, out, _ = run(capsys, "diff", old, new, "--policy", "signature", "--json")
    data = json.loads(out)
    assert code == 1
    assert data["removed"] == ["markupsafe.soft_unicode"]
    assert data["old"] == {"name": "MarkupSafe", "version": "2.0.1"}
    assert {(e["path"], p["rule"], p["path"]) for e in data["incompatible"]
            for p in e["problems"]} == {
        (f"markupsafe.{f}", "P18", f"markupsafe.{f} param s")
        for f in ("escape", "escape_silent", "soft_str")}
    code, out, err = run(capsys, "diff", old, new)
    assert code == 1  # 2.0 -> 2.1 is not a major bump
    assert "  markupsafe.soft_unicode: function (s: typing.Any) -> str" in out.splitlines()
    assert err.splitlines()[0] == (
        "siglink: warning: MarkupSafe 2.0.1: markupsafe.escape: the compiled alternative "
        "markupsafe._speedups.escape is not built (source only); recorded what the other "
        "alternatives accept")
    assert err.splitlines()[-1] == "FAIL: 4 breaking changes without a major version bump"


class TestStoreTargets:
    """``NAME==VERSION`` names a version in the store (``--store`` or ``$SIGLINK_STORE``)."""

    @pytest.fixture
    def store(self, releases: dict[str, Path], tmp_path: Path) -> Path:
        from siglink.store import Store

        root = tmp_path / "store"
        shelf = Store(root)
        shelf.install([str(releases["1.0"]), str(releases["2.0"])])
        shelf.close()
        return root

    def test_exports_and_diff_read_the_store(
        self, store: Path, releases: dict[str, Path], capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, err = run(capsys, "exports", "textkit==1.0.0", "--store", str(store), "--json")
        assert (code, err) == (0, "")
        from siglink.python.exports import extract

        assert json.loads(out)["exports"] == extract(releases["1.0"]).to_json()["exports"]
        code, out, _ = run(capsys, "--store", str(store), "diff", "textkit==1.0.0",
                           "textkit==2.0.0")
        assert code == 0  # breaking, but a major bump
        assert out.splitlines()[0] == "textkit 1.0.0 -> textkit 2.0.0 (policy semver)"
        assert "  textkit.gone: function () -> None" in out.splitlines()

    def test_store_from_the_environment(
        self, store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("SIGLINK_STORE", str(store))
        code, out, _ = run(capsys, "diff", "textkit==2.0.0", "textkit==1.0.0", "--json")
        data = json.loads(out)
        assert (code, data["downgrade"], data["major_bump"]) == (1, True, False)

    def test_neither_in_the_store_nor_installed(
        self, store: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, err = run(capsys, "exports", "textkit==9.9", "--store", str(store))
        assert (code, out) == (2, "")
        assert err == (f"siglink: error: textkit==9.9: not in the store {store} (it has 2.0.0, "
                       "1.0.0), not installed here, and no such file or directory\n")
        code, _, err = run(capsys, "diff", "textkit==1.0.0", "pytest==0.0.1", "--store",
                           str(store))
        import pytest as installed

        assert (code, err) == (2, f"siglink: error: pytest==0.0.1: not in the store {store}, "
                               f"not installed here (the installed pytest is "
                               f"{installed.__version__}), and no such file or directory\n")

    def test_an_installed_distribution_at_that_version(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        from importlib.metadata import version

        code, out, _ = run(capsys, "exports", f"packaging=={version('packaging')}", "--json")
        assert code == 0
        assert json.loads(out)["unit"]["version"] == version("packaging")


class TestReleasePairs:
    def test_two_different_libraries_are_refused(
        self, releases: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        other = make_wheel(tmp_path, "Other_Lib", "1.0", {"other_lib/__init__.py": "x = 1\n"})
        code, out, err = run(capsys, "diff", str(releases["1.0"]), str(other))
        assert (code, out) == (2, "")
        assert err == ("siglink: error: OLD is textkit, NEW is Other_Lib: a release diff "
                       "compares two versions of one library (--any-names compares them "
                       "anyway)\n")
        code, out, _ = run(capsys, "diff", str(releases["1.0"]), str(other), "--any-names")
        assert code == 1 and "textkit.wrap" in out

    def test_names_compare_normalized(
        self, releases: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        renamed = make_wheel(tmp_path, "TextKit", "1.0.1", V1)
        assert run(capsys, "diff", str(releases["1.0"]), str(renamed))[0] == 0

    def test_a_downgrade_is_flagged_and_never_a_major_bump(
        self, releases: dict[str, Path], capsys: pytest.CaptureFixture[str]
    ) -> None:
        old, new = str(releases["2.0"]), str(releases["1.0"])
        code, out, err = run(capsys, "diff", old, new)
        assert code == 1
        assert out.splitlines()[:2] == [
            "textkit 2.0.0 -> textkit 1.0.0 (policy semver)",
            "downgrade: NEW 1.0.0 is older than OLD 2.0.0",
        ]
        assert err == "FAIL: 3 breaking changes in a downgrade (never a major bump)\n"
        code, out, _ = run(capsys, "diff", old, new, "--json")
        data = json.loads(out)
        assert (code, data["downgrade"], data["major_bump"], data["ok"]) == (1, True, False,
                                                                            False)
        code, out, _ = run(capsys, "diff", new, old, "--json")
        assert json.loads(out)["downgrade"] is False


@pytest.mark.parametrize(
    ("old", "new", "down"),
    [("8.1.7", "7.1.2", True), ("1.0", "1.0.0", False), ("1.0.1", "1.0.0rc1", True),
     ("2.0", "10.0", False), ("x", "1.0", False)],
)
def test_is_downgrade(old: str, new: str, down: bool) -> None:
    assert is_downgrade(old, new) is down


def test_long_signatures_are_cut_in_text_but_whole_in_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    params = ", ".join(f"p{i}: int = 0" for i in range(60))
    old = make_wheel(tmp_path, "longsig", "1.0.0", {
        "longsig/__init__.py": f"def f({params}) -> int: ...\ndef g({params}) -> int: ...\n"})
    new = make_wheel(tmp_path, "longsig", "1.0.1", {
        "longsig/__init__.py": f"def f({params}, *, extra: int) -> int: ...\n"
                               f"import typing\ndef g({params}) -> typing.Any: ...\n"})
    code, out, _ = run(capsys, "diff", str(old), str(new))
    assert code == 1
    lines = out.splitlines()
    assert any(line.startswith("  longsig.f: ") for line in lines)
    assert any(line.startswith("  longsig.g: ") for line in lines)
    assert max(len(line) for line in lines) < 700 and "\u2026" in out
    _, text, _ = run(capsys, "diff", "--json", str(old), str(new))
    assert "p58: int = ..., p59: int = ...) -> typing.Any" in text
