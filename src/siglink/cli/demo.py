"""``siglink demo``: the whole story in a throwaway store, with bundled example units.

The story (:mod:`siglink.demo.story`) knows nothing of the terminal: this module passes it a
narrator that runs commands through :func:`siglink.cli.main.main` and draws headings, prompts
and the summary table.

>>> from siglink.cli.main import build_parser
>>> args = build_parser().parse_args(["demo", "--keep", "/tmp/siglink-demo"])
>>> args.func is run_demo, args.keep
(True, '/tmp/siglink-demo')
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from siglink.demo.story import Narrator

__all__ = ["register"]


def __dir__() -> list[str]:
    return list(__all__)

_EPILOG = """\
examples:
  siglink demo                 run the story in a temporary store, then delete it
  siglink demo --keep DIR      keep the store and the example units in DIR (new or empty)

exit codes: 0 the story went as told, 1 an outcome differed, 2 bad input
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "demo",
        help="show siglink's story: export tables, a diff, linking, a fix, a yank",
        description="Tell siglink's story in a throwaway store with bundled example units.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it afterwards")
    parser.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    narrator = _narrator()
    if args.keep:
        from siglink.errors import BadInputError

        root = Path(args.keep).resolve()
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise BadInputError(
                f"{args.keep}: the demo needs a new or empty directory", path=args.keep
            )
        root.mkdir(parents=True, exist_ok=True)
        return _tell(root, narrator)
    with tempfile.TemporaryDirectory(prefix="siglink-demo-") as tmp:
        return _tell(Path(tmp), narrator)


def _tell(root: Path, narrator: Narrator) -> int:
    """The story, then its plugin chapter in the same store."""
    from siglink.demo.chat import ChatChapter
    from siglink.demo.story import Story

    story = Story(root, narrator)
    code = story.tell()
    return ChatChapter(root, story.store, narrator).tell() or code



def _narrator() -> Narrator:
    """The story shown on this terminal: colour when it has it, plain text when piped."""
    from siglink.cli._output import console, table, use_colour
    from siglink.cli.main import main
    from siglink.demo.story import Narrator

    def heading(text: str) -> None:
        if use_colour():
            console().print(f"\n[bold cyan]{text}[/]")
        else:
            print(f"\n== {text}")

    def prompt(text: str) -> None:
        if use_colour():
            console().print(f"[dim]$[/] [bold]{text}[/]")
        else:
            print(f"$ {text}")

    return Narrator(
        command=main,
        heading=heading,
        prompt=prompt,
        table=lambda header, rows: table(None, header, rows),
    )
