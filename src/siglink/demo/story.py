"""The demo story: one library, two applications, a security fix, a breaking release, a yank.

Every step runs the real commands against a throwaway store: ``siglink`` subcommands through
the :class:`Narrator`'s ``command`` (the CLI passes its own ``main``), the applications through
``siglink run`` in a child interpreter, exactly as a user would run them. The story knows
nothing of the CLI or of colour: the narrator shows headings, prompts and the final table.

>>> shown = []
>>> plain = Narrator(command=lambda argv: 0, heading=shown.append, prompt=shown.append,
...                  table=lambda header, rows: shown.append(f"{header} {rows}"))
>>> Story(Path("/tmp/demo"), plain)._prompt(("plan", "/tmp/demo/apps/report.py"))
>>> shown
['siglink plan apps/report.py']
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from siglink.demo.wheels import wheel_from_tree

__all__ = ["Narrator", "Story"]


def __dir__() -> list[str]:
    return list(__all__)

_VERSIONS = ("1.0.0", "1.0.1", "2.0.0")
_APPS = ("report", "tagger")


@dataclass(frozen=True, slots=True)
class Narrator:
    """How the story runs a ``siglink`` command and shows itself; the CLI supplies both.

    ``command(argv)`` runs ``siglink ARGV`` and returns its exit code; ``heading`` shows a
    step's title, ``prompt`` the command line a user would type (``siglink install ...``), and
    ``table(header, rows)`` the closing summary, ``say`` every other line.
    """

    command: Callable[[Sequence[str]], int]
    heading: Callable[[str], None]
    prompt: Callable[[str], None]
    table: Callable[[Sequence[str], Sequence[Sequence[str]]], None]
    say: Callable[[str], None] = print


class Story:
    """The demo, told in ``root``: wheels in ``root/wheels``, apps in ``root/apps``, the store
    in ``root/store``."""

    def __init__(self, root: Path, narrator: Narrator) -> None:
        self.root = root
        self.narrator = narrator
        self.store = root / "store"
        self.apps = root / "apps"
        self.wheels: dict[str, Path] = {}
        self.linked: dict[str, list[str]] = {app: [] for app in _APPS}

    # -- narration ---------------------------------------------------------------------------

    def _heading(self, text: str) -> None:
        self.narrator.heading(text)

    def _say(self, text: str) -> None:
        self.narrator.say(text)

    def _prompt(self, argv: tuple[str, ...]) -> None:
        # Paths are shown relative to the demo's directory, as a user in it would type them.
        prefix = f"{self.root}{os.sep}"
        argv = tuple(a.removeprefix(prefix) for a in argv)
        shown = " ".join(a if " " not in a else repr(a) for a in argv)
        self.narrator.prompt(f"siglink {shown}")
        sys.stdout.flush()

    def _command(self, *argv: str) -> int:
        self._prompt(argv)
        code = self.narrator.command(["--store", str(self.store), *argv])
        sys.stdout.flush()
        return code

    def _run(self, app: str) -> int:
        script = self.apps / f"{app}.py"
        self._prompt(("run", str(script)))
        env = dict(os.environ, SIGLINK_STORE=str(self.store))
        result = subprocess.run(
            [sys.executable, "-m", "siglink", "run", str(script)],
            env=env, capture_output=True, text=True, check=False, cwd=self.root,
        )
        for line in (result.stdout + result.stderr).splitlines():
            self._say(f"    {line}")
        version = "refused" if result.returncode == 127 else "?"
        for line in result.stdout.splitlines():
            if line.startswith(f"{app}: textkit "):
                version = line.rsplit(" ", 1)[1]
        if result.returncode not in (0, 127):
            version = f"exit {result.returncode}"
        self.linked[app].append(version)
        self._say(f"    (exit {result.returncode})")
        return result.returncode

    def _run_all(self) -> None:
        for app in _APPS:
            self._run(app)

    # -- setup -------------------------------------------------------------------------------

    def _prepare(self) -> None:
        units = files("siglink.demo") / "units"
        wheels = self.root / "wheels"
        for version in _VERSIONS:
            tree = Path(str(units / f"textkit-{version}"))
            self.wheels[version] = wheel_from_tree(wheels, tree, "textkit", version)
        self.apps.mkdir(parents=True, exist_ok=True)
        for app in _APPS:
            shutil.copyfile(Path(str(units / "apps" / f"{app}.py")), self.apps / f"{app}.py")

    # -- the story ---------------------------------------------------------------------------

    def tell(self) -> int:
        """Run every step; 0 when the story went as it should."""
        self._prepare()
        self._say(f"siglink demo: a throwaway store in {self.store}")

        self._heading("1. A library publishes the signatures of its exports")
        self._command("exports", str(self.wheels["1.0.0"]))
        self._heading("   and siglink diff holds its author to them (2.0.0 changes wrap())")
        self._command("diff", str(self.wheels["1.0.0"]), str(self.wheels["2.0.0"]))

        self._heading("2. Two applications built against textkit 1.0.0")
        self._command("install", str(self.wheels["1.0.0"]))
        for app in _APPS:
            self._command("build", str(self.apps / f"{app}.py"))
        self._run_all()

        self._heading("3. A security fix, textkit 1.0.1, installed once: both apps run on it")
        self._command("install", str(self.wheels["1.0.1"]))
        self._run_all()
        self._say("No rebuild: both moved at their next start. The vulnerable 1.0.0 is yanked:")
        reason = "unbounded input in slugify (fixed in 1.0.1)"
        self._command("yank", "textkit==1.0.0", "--reason", reason)

        self._heading("4. textkit 2.0.0 makes wrap()'s width keyword-only")
        self._command("install", "--dry-run", str(self.wheels["2.0.0"]))
        self._command("install", str(self.wheels["2.0.0"]))
        self._say("report calls wrap(TEXT, 40) and stays on 1.0.1; tagger moves to 2.0.0:")
        self._command("plan", str(self.apps / "report.py"))
        self._run_all()

        self._heading("5. 1.0.1 is yanked: report has no compatible version left")
        self._command("yank", "textkit==1.0.1", "--reason", "demo: pretend 1.0.1 leaks secrets")
        self._run_all()
        self._command("who-uses", "textkit")

        self._heading("What each application linked, step by step")
        steps = ["built on 1.0.0", "fix 1.0.1", "2.0.0 released", "1.0.1 yanked"]
        rows = [[step, *(self.linked[app][i] for app in _APPS)] for i, step in enumerate(steps)]
        self.narrator.table(["step", *_APPS], rows)
        expected = {
            "report": ["1.0.0", "1.0.1", "1.0.1", "refused"],
            "tagger": ["1.0.0", "1.0.1", "2.0.0", "2.0.0"],
        }
        if self.linked != expected:
            self._say(f"unexpected outcome: {self.linked}")
            return 1
        return 0
