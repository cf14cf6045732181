"""``siglink exports`` and ``siglink diff`` through ``main([...])``: output, exit codes, errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from siglink.cli.contracts import major_bump
from siglink.cli.main import main

sys.path.insert(0, str(Path(__file__).parent.parent / "python"))
from test_exports import make_wheel

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
            str(garbled): f"{garbled}: corrupt manifest: invalid signature '(a b)': invalid "
                          "syntax at column 4",
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

    def test_tables_name_each_problem(
        self, releases: dict[str, Path], capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, _ = run(capsys, "diff", str(releases["1.0"]), str(releases["1.1"]))
        assert code == 1
        assert [line.split(None, 6) if line[:1] != " " else line for line in out.splitlines()
                ] == [
            ["textkit", "1.0.0", "->", "textkit", "1.1.0", "(policy", "semver)"],
            ["removed", "(P1,", "incompatible):"],
            ["path", "was"],
            ["textkit.gone", "function", "()", "->", "None"],
            ["incompatible:"],
            ["path", "rule", "where", "expected", "found", "why"],
            ["textkit.shout", "P11", "param", "text", "str", "bytes", "parameter type narrowed"],
            ["compatible", "changes:"],
            ["path", "rule", "severity", "where", "expected", "found"],
            ["textkit.wrap", "P9", "review", "param", "width", "70", "80"],
            ["textkit.wrap", "P2", "harmless", "param", "sep", "absent", "sep: str = ..."],
            ["added:"],
            ["path", "is"],
            ["textkit.fresh", "function", "()", "->", "None"],
        ]

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
    old = str(pypi.fetch("markupsafe==2.0.1", kind="sdist"))
    new = str(pypi.fetch("markupsafe==2.1.5"))
    code, out, _ = run(capsys, "diff", old, new, "--policy", "signature", "--json")
    data = json.loads(out)
    assert code == 1
    assert data["removed"] == ["markupsafe.soft_unicode"]
    assert data["old"] == {"name": "MarkupSafe", "version": "2.0.1"}
    code, out, err = run(capsys, "diff", old, new)
    assert code == 1  # 2.0 -> 2.1 is not a major bump
    assert "markupsafe.soft_unicode" in out
    assert err == "FAIL: 1 breaking change without a major version bump\n"
