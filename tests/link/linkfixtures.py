"""Reusable builders for the linker tests: real wheels (``zipfile``), stores, applications.

Import from a test module beside this file: ``from linkfixtures import make_wheel, ...``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import textwrap
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from siglink.cli.main import main

__all__ = ["build_app", "install", "make_app", "make_wheel", "plan_json", "siglink"]


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def make_wheel(
    tmp_path: Path,
    name: str,
    version: str,
    files: Mapping[str, str],
    requires: Sequence[str] = (),
    *,
    requires_python: str | None = None,
    manifest: Mapping[str, Any] | None = None,
) -> Path:
    """A valid pure-Python wheel of ``files`` (source is dedented), with METADATA (including
    ``Requires-Dist`` and ``Requires-Python``), WHEEL and RECORD; ``manifest`` is shipped as
    ``*.dist-info/siglink.json`` (a library built with siglink)."""
    module = name.replace("-", "_")
    dist_info = f"{module}-{version}.dist-info"
    meta = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    meta += [f"Requires-Dist: {r}" for r in requires]
    if requires_python:
        meta.append(f"Requires-Python: {requires_python}")
    members = {path: textwrap.dedent(text).lstrip("\n").encode() for path, text in files.items()}
    members[f"{dist_info}/METADATA"] = ("\n".join(meta) + "\n").encode()
    members[f"{dist_info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: siglink-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    if manifest is not None:
        members[f"{dist_info}/siglink.json"] = json.dumps(manifest).encode()
    rows = [f"{p},{_record_hash(d)},{len(d)}" for p, d in members.items()]
    rows.append(f"{dist_info}/RECORD,,")
    members[f"{dist_info}/RECORD"] = ("\n".join(rows) + "\n").encode()
    folder = tmp_path / "wheels"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return path


def siglink(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``siglink ARGS`` through :func:`siglink.cli.main.main`: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def install(capsys: pytest.CaptureFixture[str], store: Path, *wheels: Path | str) -> None:
    """``siglink install`` each wheel (or spec) into ``store``; fails the test on error."""
    code, out, err = siglink(capsys, "install", "--store", str(store), *map(str, wheels))
    assert code == 0, f"install failed ({code}):\n{out}\n{err}"


def make_app(tmp_path: Path, source: str, name: str = "app.py") -> Path:
    """A script application ``tmp_path/apps/NAME`` with ``source`` (dedented)."""
    folder = tmp_path / "apps"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    return path


def build_app(capsys: pytest.CaptureFixture[str], store: Path, app: Path,
              *extra: str) -> dict[str, Any]:
    """``siglink build APP --json``; the parsed JSON (fails the test on error)."""
    code, out, err = siglink(capsys, "build", str(app), "--store", str(store), "--json", *extra)
    assert code == 0, f"build failed ({code}):\n{out}\n{err}"
    data: dict[str, Any] = json.loads(out)
    return data


def plan_json(capsys: pytest.CaptureFixture[str], store: Path, app: Path,
              *extra: str) -> dict[str, Any]:
    """``siglink plan APP --json``; the parsed JSON (fails the test on error)."""
    code, out, err = siglink(capsys, "plan", str(app), "--store", str(store), "--json", *extra)
    assert code == 0, f"plan failed ({code}):\n{out}\n{err}"
    data: dict[str, Any] = json.loads(out)
    return data
