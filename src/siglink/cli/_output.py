r"""Terminal output: tables and colour on a terminal, plain text when piped or with NO_COLOR.

Every text printed here may come from a file another user wrote (a registration, a manifest,
a marker, a wheel's member names): its control characters (C0, DEL, C1, the newline) are
shown escaped, never sent to the terminal, and on the rich path it is never read as markup.
An error keeps its newlines only when it spans lines by design
(:attr:`siglink.errors.SiglinkError.multiline`: its builder made what it quotes inert).
JSON stays exact (it escapes them itself).

>>> printable("a\x1b[2J\x07b\nc\x9b")
'a\\x1b[2J\\x07b\\nc\\x9b'
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from siglink._text import escape_controls, inert, shown

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["console", "error", "print_json", "printable", "say", "table", "use_colour", "warn",
           "width"]


def printable(text: str) -> str:
    """``text`` with control characters (C0, DEL, C1, newline) shown escaped (``\\x1b``):
    one line, inert on any terminal (a path's bytes that are not UTF-8 stay as they are)."""
    return escape_controls(text)


def say(text: str, *, file: Any = None, flush: bool = False) -> None:
    """Print ``text`` as one line, its control characters escaped (:func:`printable`)."""
    print(printable(text), file=sys.stdout if file is None else file, flush=flush)

_consoles: dict[bool, Console] = {}


def use_colour(stream: Any = None) -> bool:
    """Colour only on a terminal, never with ``NO_COLOR`` set (https://no-color.org)."""
    stream = sys.stdout if stream is None else stream
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def console(stderr: bool = False) -> Console:
    """A rich console bound to the current stdout/stderr (tests swap them)."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    colour = use_colour(stream)
    return Console(
        file=stream,
        no_color=not colour,
        force_terminal=colour,
        highlight=False,
        soft_wrap=not colour,
        emoji=False,
        width=width(stream, 120 if colour else 200),
    )


def width(stream: Any, default: int = 120) -> int:
    """``$COLUMNS`` if set, else the terminal's width if ``stream`` is one, else ``default``
    (output piped with ``FORCE_COLOR`` must not wrap at rich's 80 columns)."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        return os.get_terminal_size(stream.fileno()).columns or default
    except (AttributeError, ValueError, OSError):
        return default


def error(message: str, *, lines: bool = False) -> None:
    """``siglink: error: MESSAGE`` on stderr, on one line, every control character and a name
    that is not valid text shown escaped; with ``lines`` (a message that spans lines by design,
    whose builder made what it quotes inert), its newlines stay."""
    message = inert(message, lines=lines)
    if use_colour(sys.stderr):
        from rich.markup import escape

        console(stderr=True).print(f"[bold red]siglink: error:[/] {escape(message)}")
    else:
        print(f"siglink: error: {message}", file=sys.stderr)


WARNED: set[str] = set()
"""Messages already shown in this command (``main`` clears it), so a warning raised while
working and repeated in a result's diagnostics prints once."""


def warn(message: str) -> None:
    """``siglink: warning: MESSAGE`` on stderr, once per command, on one line (as
    :func:`error`)."""
    message = inert(message)
    if message in WARNED:
        return
    WARNED.add(message)
    if use_colour(sys.stderr):
        from rich.markup import escape

        console(stderr=True).print(f"[bold yellow]siglink: warning:[/] {escape(message)}")
    else:
        print(f"siglink: warning: {message}", file=sys.stderr)


def print_json(data: Any) -> None:
    """JSON for scripts: stable key order as given, two-space indent; a path that is not
    valid text keeps its bytes as ``\\udcff`` escapes (what ``json.loads`` reads back)."""
    sys.stdout.write(shown(json.dumps(data, indent=2, ensure_ascii=False)) + "\n")


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A table on a terminal; tab-free aligned columns when piped (each cell
    :func:`printable`, and never read as markup).

    >>> table("Installed", ["name", "version"], [["attrs", "23.1.0"], ["markupsafe", "2.1.5"]])
    Installed
    name        version
    attrs       23.1.0
    markupsafe  2.1.5
    """
    title = None if title is None else printable(title)
    rows = [[printable(cell) for cell in row] for row in rows]
    if use_colour():
        from rich.markup import escape
        from rich.table import Table

        t = Table(title=title, title_justify="left", show_edge=False, header_style="bold")
        for column in columns:
            t.add_column(column, overflow="fold")  # wrap long paths, never cut them
        for row in rows:
            t.add_row(*(escape(cell) for cell in row))
        console().print(t)
        return
    if title:
        print(title)
    widths = [len(c) for c in columns]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = [columns, *rows]
    for line in lines:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
