"""``siglink run --trust-owner``: root running from a store another user owns starts warm from
the second run on, as with ``SIGLINK_TRUST_STORE_OWNER=1``; without either it is refused.
Needs root (the store is given to another uid); skipped with the reason otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from linkfixtures import chown_tree, install, make_app, make_wheel, nobody

LAUNCHER = "import sys; sys.path.pop(0); from siglink._entry import entry; entry()"

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root to give the store to another user")


@pytest.mark.parametrize("where", [["run", "--trust-owner"], ["--trust-owner", "run"]])
def test_trust_owner_flag_gives_warm_starts(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            where: list[str]) -> None:
    store = tmp_path / "store"
    install(capsys, store, make_wheel(tmp_path, "textkit", "1.0.0", {
        "textkit/__init__.py": "def shout(text):\n    return text.upper() + '!'\n"}))
    app = make_app(tmp_path, "import textkit\nprint(textkit.shout('hi'))\n")
    chown_tree(store, nobody())
    env = {**os.environ, "SIGLINK_STORE": str(store), "SIGLINK_DEBUG": "1",
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("SIGLINK_TRUST_STORE_OWNER", None)

    def start(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", LAUNCHER, *argv], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=300, check=False)

    refused = start("run", str(app))
    assert refused.returncode == 3 and "--trust-owner" in refused.stderr, refused.stderr
    hows = []
    for _ in range(3):
        result = start(*where, str(app))
        assert (result.returncode, result.stdout) == (0, "HI!\n"), result.stderr
        # a plan was computed (cold) or a cached one used (warm)
        hows.append("warm" if "siglink: warm plan" in result.stderr else "cold")
    assert hows == ["cold", "warm", "warm"]
    assert not (store / "plans").exists() or not any((store / "plans").glob("*.warm"))
