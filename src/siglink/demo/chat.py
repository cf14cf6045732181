"""The demo's plugin chapter: a chat host and three command plugins.

chat 2.0 passes every command the channel a line was typed in. ``shout`` is built against
2.0; ``echo`` against 1.0, but it takes ``**context``, so 2.0's calls still bind; ``whisper``,
built against 1.0, takes exactly what 1.0 passed, and 2.0 would hand it a ``channel`` it does
not accept. The chapter builds them, asks ``siglink plugins`` which load (and what 2.0 breaks
for a host still on 1.0), then runs a small chat program on chat 2.0: whisper is rejected at
discovery, never imported, and the other two answer.

>>> from siglink.demo.story import Narrator
>>> quiet = Narrator(command=lambda argv: 0, heading=print, prompt=print,
...                  table=lambda header, rows: None)
>>> ChatChapter(Path("/tmp/demo"), Path("/tmp/demo/store"), quiet).root
PosixPath('/tmp/demo/chat')
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

from siglink.demo.story import Narrator
from siglink.demo.wheels import wheel_from_tree

__all__ = ["ChatChapter"]


def __dir__() -> list[str]:
    return list(__all__)


_BUILT_AGAINST = {"shout": "2.0", "echo": "1.0", "whisper": "1.0"}
_EXPECTED = {"shout 1.2.0": "compatible", "echo 0.9.0": "compatible",
             "whisper 1.0.0": "rejected"}


class ChatChapter:
    """Told in ``root`` (``root/chat``: the units; the store is shared with the story)."""

    def __init__(self, root: Path, store: Path, narrator: Narrator) -> None:
        self.root = root / "chat"
        self.store = store
        self.narrator = narrator

    def _command(self, *argv: str) -> int:
        prefix = f"{self.root.parent}{os.sep}"
        shown = " ".join(a.removeprefix(prefix) for a in argv)
        self.narrator.prompt(f"siglink {shown}")
        sys.stdout.flush()
        code = self.narrator.command(["--store", str(self.store), *argv])
        sys.stdout.flush()
        return code

    def _prepare(self) -> tuple[Path, Path]:
        units = Path(str(files("siglink.demo") / "units"))
        self.root.mkdir(parents=True, exist_ok=True)
        shutil.copytree(units / "chat-plugins", self.root / "plugins",
                        ignore=shutil.ignore_patterns("__pycache__", "siglink.json"))
        shutil.copytree(units / "chat-app", self.root / "app",
                        ignore=shutil.ignore_patterns("__pycache__"))
        for version in ("1.0", "2.0"):
            shutil.copytree(units / f"chat-{version}", self.root / f"chat-{version}",
                            ignore=shutil.ignore_patterns("__pycache__"))
        wheels = self.root / "wheels"
        return (wheel_from_tree(wheels, self.root / "chat-1.0", "chat", "1.0"),
                wheel_from_tree(wheels, self.root / "chat-2.0", "chat", "2.0"))

    def tell(self) -> int:
        """0 when the plugins loaded, and were refused, as the story says."""
        old, new = self._prepare()
        plugins = self.root / "plugins"
        say = self.narrator.say
        self.narrator.heading("6. Plugins: a chat host publishes a typed extension point")
        codes = [self._command("install", str(old), str(new))]
        self._command("diff", str(old), str(new))
        say("Three command plugins, built against the host release each was written for:")
        for name, version in _BUILT_AGAINST.items():
            codes.append(self._command("build", str(plugins / name), "--against",
                                       f"chat=={version}"))
        self.narrator.heading("   which of them chat 2.0 can call, checked without importing any")
        rejected = self._command("plugins", "chat", "--plugin-dir", str(plugins),
                                 "--no-entry-points")
        say("A host still on 1.0 learns what upgrading would break, before it ships:")
        self._command("plugins", "chat==1.0", "--plugin-dir", str(plugins),
                      "--no-entry-points", "--against", "chat==2.0")
        self.narrator.heading("   the chat program on chat 2.0: whisper is refused, never imported")
        app = self.root / "app" / "chatapp.py"
        self.narrator.prompt(f"python {app.relative_to(self.root.parent)} "
                             f"{plugins.relative_to(self.root.parent)}")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(self.root / "chat-2.0"), *filter(None, [os.environ.get("PYTHONPATH")])]))
        result = subprocess.run([sys.executable, str(app), str(plugins)], env=env,
                                capture_output=True, text=True, check=False)
        for line in (result.stdout + result.stderr).splitlines():
            say(f"    {line}")
        seen = {line.split(": ")[0].removeprefix("plugin "): line.split(": ")[1]
                for line in result.stdout.splitlines() if line.startswith("plugin ")}
        if any(codes) or rejected != 1 or result.returncode != 0 or seen != _EXPECTED:
            say(f"unexpected outcome: builds {codes}, plugins exit {rejected}, "
                f"chat exit {result.returncode}, plugins {seen}")
            return 1
        return 0
