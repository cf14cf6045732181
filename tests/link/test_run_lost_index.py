"""A warm start does not outlive a damaged index: once ``index.sqlite`` is deleted, emptied or
overwritten with something that is not SQLite (its 16-byte header),
``siglink run`` stops with exit 3 naming ``siglink store repair`` (the cold path's refusal), even
though a valid cached plan is still on disk; after the repair the application starts again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from linkfixtures import install, make_app, make_wheel

LAUNCHER = "import sys; sys.path.pop(0); from siglink._entry import entry; entry()"


@pytest.mark.parametrize("damage", ["deleted", "emptied", "garbage"])
def test_a_cached_plan_does_not_run_past_a_damaged_index(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str) -> None:
    store = tmp_path / "store"
    install(capsys, store, make_wheel(tmp_path, "textkit", "1.0.0", {
        "textkit/__init__.py": "def shout(text):\n    return text.upper() + '!'\n"}))
    app = make_app(tmp_path, "import textkit\nprint(textkit.shout('hi'))\n")
    env = {**os.environ, "SIGLINK_STORE": str(store), "SIGLINK_DEBUG": "1",
           "XDG_CACHE_HOME": str(tmp_path / "cache")}

    def start() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", LAUNCHER, "run", str(app)], env=env,
                              cwd=tmp_path, capture_output=True, text=True, timeout=300,
                              check=False)

    for _ in range(2):
        result = start()
        assert (result.returncode, result.stdout) == (0, "HI!\n"), result.stderr
    assert "siglink: warm plan" in result.stderr  # the second start was warm
    index = store / "index.sqlite"
    if damage == "deleted":
        index.unlink()
    elif damage == "emptied":
        index.write_bytes(b"")
    else:  # same size, not a database: only the header tells
        index.write_bytes(os.urandom(index.stat().st_size))
    refused = start()
    assert refused.returncode == 3, refused.stderr
    assert refused.stdout == "" and "siglink store repair" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr
    assert (store / "libs" / "textkit" / "1.0.0").is_dir()
    repaired = subprocess.run([sys.executable, "-m", "siglink", "--store", str(store), "store",
                               "repair"], env=env, capture_output=True, text=True,
                              timeout=300, check=False)
    assert repaired.returncode == 0, repaired.stderr
    again = start()
    assert (again.returncode, again.stdout) == (0, "HI!\n"), again.stderr
