"""Reusable builders for the linker tests: real wheels, stores, applications.

Import from a test module beside this file: ``from linkfixtures import make_wheel, ...``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from siglink.cli.main import main
from siglink.demo import wheels

__all__ = ["build_app", "install", "make_app", "make_wheel", "open_problems", "plan_json",
           "refusals", "run", "siglink", "versions"]


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
    """A valid pure-Python wheel (:func:`siglink.demo.wheels.make_wheel`) of ``files`` (source is
    dedented) in ``tmp_path/wheels``; ``manifest`` is shipped as ``*.dist-info/siglink.json`` (a
    library built with siglink)."""
    sources = {path: textwrap.dedent(text).lstrip("\n") for path, text in files.items()}
    shipped = {} if manifest is None else {"siglink.json": json.dumps(manifest)}
    return wheels.make_wheel(tmp_path / "wheels", name, version, sources, requires=requires,
                             requires_python=requires_python, dist_info=shipped)


def siglink(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``siglink ARGS`` through :func:`siglink.cli.main.main`: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def install(capsys: pytest.CaptureFixture[str], store: Path, *wheels: Path | str) -> None:
    """``siglink install --no-deps`` each wheel (or spec) into ``store`` (exactly those: a
    library whose dependency is missing is a case the tests link); fails the test on error."""
    code, out, err = siglink(capsys, "install", "--no-deps", "--store", str(store),
                             *map(str, wheels))
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


def run(store: Path, app: Path, warnings: str = "ignore") -> subprocess.CompletedProcess[str]:
    """``siglink run APP`` in a child process (it replaces its process), ``PYTHONWARNINGS``
    set to ``warnings``."""
    return subprocess.run([sys.executable, "-m", "siglink", "run", "--store", str(store),
                           str(app)], capture_output=True, text=True, timeout=300,
                          check=False, env=dict(os.environ, PYTHONWARNINGS=warnings))


def versions(plan: dict[str, Any]) -> dict[str, str]:
    """The version a plan links of each library."""
    return {name: link["version"] for name, link in plan["links"].items()}


def refusals(plan: dict[str, Any], name: str) -> dict[str, list[tuple[str, str]]]:
    """Each refused version of ``name``: its incompatible problems, as (rule, path)."""
    return {r["version"]: [(p["rule"], p["path"]) for p in r.get("problems", ())
                           if p["severity"] == "incompatible"]
            for r in plan["rejected"].get(name, ())}


def open_problems(plan: dict[str, Any], name: str) -> dict[str, list[tuple[str, str]]]:
    """Each refused version of ``name``: its problems that are not harmless, as (rule, path)."""
    return {r["version"]: [(p["rule"], p["path"]) for p in r.get("problems", ())
                           if p["severity"] != "harmless"]
            for r in plan["rejected"].get(name, ())}


def nobody() -> int:
    """The uid of ``nobody`` (65534 where the name is unknown)."""
    import pwd

    try:
        return pwd.getpwnam("nobody").pw_uid
    except KeyError:
        return 65534


def chown_tree(path: Path, uid: int) -> None:
    """Give ``path`` and everything under it (links themselves, not their targets) to ``uid``."""
    for folder, _dirs, files in os.walk(path):
        os.chown(folder, uid, uid)
        for name in files:
            os.lchown(os.path.join(folder, name), uid, uid)
