r"""Text from outside made inert on a terminal: a path, name, version or quoted file content.

A file name may hold a newline (and so start a fake line of its own in a message), a carriage
return or an escape sequence; a name that is not UTF-8 holds lone surrogates. Every message
that quotes such text shows each of these as its escape. Standard library only, imports
nothing (:mod:`siglink.errors` builds messages with it).

>>> path = "app\nsiglink: ok \x1b[31m.py"
>>> print(f"siglink: error: {inert(path)}: not found")
siglink: error: app\nsiglink: ok \x1b[31m.py: not found
"""

from __future__ import annotations

__all__ = ["escape_controls", "inert"]


def __dir__() -> list[str]:
    return list(__all__)


def escape_controls(text: str, *, lines: bool = False) -> str:
    r"""``text`` with every control character (C0 with the newline, DEL, C1) written as its
    Python escape (``\n``, ``\r``, ``\t``, ``\x1b``); with ``lines``, newlines stay (a
    message that spans lines by design, whose quoted parts were made :func:`inert` when it was
    built). Anything else, a lone surrogate too, is left as it is.

    >>> escape_controls("a\tb\r\x1b[2J\x7f\x9b\nc"), escape_controls("a\nb\x07", lines=True)
    ('a\\tb\\r\\x1b[2J\\x7f\\x9b\\nc', 'a\nb\\x07')
    """
    if text.isprintable():
        return text
    # the same expression as siglink.link.hook's and siglink.bundle._boot's, which cannot
    # import this module (a bundle carries them alone)
    return "".join(repr(c)[1:-1] if (c < " " and not (lines and c == "\n"))
                   or "\x7f" <= c < "\xa0" else c for c in text)


def inert(text: str, *, lines: bool = False) -> str:
    r"""``text`` made inert on a terminal: every control character escaped
    (:func:`escape_controls`; with ``lines``, newlines stay) and every lone surrogate written
    as its escape (as :func:`siglink._text.shown`).

    >>> inert("d\udcff/app\n.py\r")
    'd\\udcff/app\\n.py\\r'
    """
    if text.isprintable():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return escape_controls(text, lines=lines)
