"""A class's constructor calls stay complete when the application only reaches the class's
members (``Retry.from_int(n)``, ``Retry.DEFAULT``): that does not pass the class on, so a
constructor change is judged on the calls the application makes. Each case builds, plans
and really runs the application on the version linked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from linkfixtures import build_app, install, make_app, make_wheel, plan_json, run

RETRY_1 = '''
class Retry:
    DEFAULT: "Retry"

    def __init__(self, total=10, read=None, backoff=0, history=()):
        self.total, self.read, self.backoff, self.history = total, read, backoff, history

    @classmethod
    def from_int(cls, retries):
        return retries if isinstance(retries, Retry) else cls(retries)


Retry.DEFAULT = Retry(3)
'''
# 2.0 inserts ``jitter`` before ``backoff`` (urllib3 2.0 inserted backoff_max into Retry)
RETRY_2 = RETRY_1.replace("read=None, backoff=0", "read=None, jitter=0, backoff=0")


@pytest.fixture
def retries(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    store = tmp_path / "store"
    install(capsys, store,
            make_wheel(tmp_path, "retries", "1.0", {"retries/__init__.py": RETRY_1}),
            make_wheel(tmp_path, "retries", "2.0", {"retries/__init__.py": RETRY_2}))
    return store


APP = """
from retries import Retry
none = Retry(0, read=False)
three = Retry.from_int(3)
print(none.total, none.read, three.total, Retry.DEFAULT.total)
"""


@pytest.mark.parametrize(("source", "version", "rules", "out"), [
    pytest.param(APP, "2.0", [], "0 False 3 3\n", id="members-reached-calls-unchanged"),
    pytest.param(APP.replace("Retry(0, read=False)", "Retry(0, False, 5)"), "1.0", ["P4"],
                 "0 False 3 3\n", id="a-call-that-moves"),
])
def test_reaching_members_keeps_the_constructor_calls_complete(
    tmp_path: Path, retries: Path, capsys: pytest.CaptureFixture[str], *,
    source: str, version: str, rules: list[str], out: str,
) -> None:
    app = make_app(tmp_path, source)
    build_app(capsys, retries, app, "--against", "retries==1.0")
    plan: dict[str, Any] = plan_json(capsys, retries, app)
    assert {n: link["version"] for n, link in plan["links"].items()} == {"retries": version}
    found = sorted({p["rule"] for r in plan["rejected"].get("retries", ())
                    for p in r.get("problems", ()) if p["severity"] == "incompatible"})
    assert found == rules
    ran = run(retries, app)
    assert (ran.returncode, ran.stdout) == (0, out), ran.stderr
