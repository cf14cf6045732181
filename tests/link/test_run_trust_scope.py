"""``--trust-owner`` trusts the one store it was given for, in the run and in every process the
application starts: ``$SIGLINK_TRUST_STORE_OWNER`` holds that store's real path, so a child's
``siglink --store OTHER list`` still refuses OTHER (another user's). A ``1`` the user set
trusts any store, as documented. Needs root (the stores are given to another uid)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from linkfixtures import chown_tree, install, make_app, make_wheel, nobody

LAUNCHER = "import sys; sys.path.pop(0); from siglink._entry import entry; entry()"

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root to give the stores to another user")

CHILD = f"""\
import os, subprocess, sys
import textkit
print(textkit.shout('hi'))
other = sys.argv[1]
child = subprocess.run([sys.executable, "-c", {LAUNCHER!r}, "--store", other, "list"],
                       capture_output=True, text=True)
print("child", child.returncode, os.environ.get("SIGLINK_TRUST_STORE_OWNER"))
sys.stderr.write(child.stderr)
"""


@pytest.fixture
def stores(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path, Path]:
    wheel = make_wheel(tmp_path, "textkit", "1.0.0", {
        "textkit/__init__.py": "def shout(text):\n    return text.upper() + '!'\n"})
    store, other = tmp_path / "store", tmp_path / "other"
    install(capsys, store, wheel)
    install(capsys, other, wheel)
    app = make_app(tmp_path, CHILD)
    for each in (store, other):
        chown_tree(each, nobody())
    return store, other, app


def _start(tmp_path: Path, env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", LAUNCHER, *argv], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, check=False)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "SIGLINK_DEBUG": "1", "XDG_CACHE_HOME": str(tmp_path / "cache"),
           **extra}
    env.pop("SIGLINK_STORE", None)
    if "SIGLINK_TRUST_STORE_OWNER" not in extra:
        env.pop("SIGLINK_TRUST_STORE_OWNER", None)
    return env


@pytest.mark.parametrize("where", [["run", "--trust-owner"], ["--trust-owner", "run"]])
def test_the_flag_trusts_its_store_alone_in_children(
        tmp_path: Path, stores: tuple[Path, Path, Path], where: list[str]) -> None:
    store, other, app = stores
    env = _env(tmp_path)
    hows = []
    for _ in range(2):  # the full CLI's cold start, then the warm path
        result = _start(tmp_path, env, "--store", str(store), *where, str(app), str(other))
        assert result.returncode == 0, result.stderr
        assert result.stdout == f"HI!\nchild 3 {os.path.realpath(store)}\n", result.stderr
        assert f"{other}: owned by uid {nobody()}, not root" in result.stderr
        hows.append("warm" if "siglink: warm plan" in result.stderr else "cold")
    assert hows == ["cold", "warm"]


def test_the_user_s_own_1_trusts_every_store(
        tmp_path: Path, stores: tuple[Path, Path, Path]) -> None:
    store, other, app = stores
    env = _env(tmp_path, SIGLINK_TRUST_STORE_OWNER="1")
    for _ in range(2):
        result = _start(tmp_path, env, "--store", str(store), "run", "--trust-owner", str(app),
                        str(other))
        assert (result.returncode, result.stdout) == (0, "HI!\nchild 0 1\n"), result.stderr


def test_a_path_trusts_that_store_and_no_other(
        tmp_path: Path, stores: tuple[Path, Path, Path]) -> None:
    store, other, _ = stores
    env = _env(tmp_path, SIGLINK_TRUST_STORE_OWNER=str(store))
    assert _start(tmp_path, env, "--store", str(store), "list").returncode == 0
    refused = _start(tmp_path, env, "--store", str(other), "list")
    assert refused.returncode == 3 and f"{other}: owned by uid" in refused.stderr
    flagged = _start(tmp_path, _env(tmp_path), "--trust-owner", "--store", str(other), "list")
    assert flagged.returncode == 0, flagged.stderr
