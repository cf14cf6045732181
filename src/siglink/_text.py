r"""Text from outside siglink: bytes that must be UTF-8, strings that must be valid Unicode.

Python hands over a file name, an argument or an environment variable whose bytes are not
UTF-8 as a string holding lone surrogates (``surrogateescape``: byte 0xff becomes U+DCFF), and
JSON's ``"\ud800"`` escape makes one too. Such a string is a fine path (:mod:`os` encodes it
back to the same bytes) but not text: encoding, hashing, binding it in SQLite or parsing it as
Python raises ``UnicodeEncodeError``. These helpers find the bad character and say where, so
that the caller refuses it in one line naming the file, field or argument.

Standard library only and cheap to import.

>>> bad_char("caf\udcff"), bad_char("café")
(3, None)
>>> shown("/srv/d\udcff/app.py")
'/srv/d\\udcff/app.py'
>>> decode(b"name = 'caf\xe9'\n", "setup.cfg")
Traceback (most recent call last):
siglink.errors.BadInputError: setup.cfg: not UTF-8 text (byte 0xe9 at line 1, column 12)
>>> check_text("caf\ud800", "--reason")
Traceback (most recent call last):
siglink.errors.BadInputError: --reason: not valid text (U+D800 at position 4 is not a character)

Text from outside is also hostile to a terminal (a newline in a file name starts a fake line
of its own): :func:`inert` and :func:`escape_controls` (from :mod:`siglink._inert`) escape it.
"""

from __future__ import annotations

from siglink._inert import escape_controls, inert

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection
    from email.message import Message

__all__ = ["bad_char", "check_text", "decode", "escape_controls", "header_fields", "inert",
           "is_os_text", "problem", "shown"]


def __dir__() -> list[str]:
    return list(__all__)


def bad_char(text: str) -> int | None:
    """The index of the first lone surrogate in ``text`` (what UTF-8 cannot encode); None when
    ``text`` is valid Unicode."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        return e.start
    return None


def is_os_text(text: str) -> bool:
    """Whether ``text`` is bytes the OS could have given (valid Unicode, or with lone surrogates
    only in U+DC80..U+DCFF, where ``surrogateescape`` puts bytes that are not UTF-8)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return False
    return True


def shown(text: str) -> str:
    r"""``text`` with every lone surrogate written as its escape (``\udcff``), printable
    anywhere; valid text is returned as it is."""
    if bad_char(text) is None:
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def problem(text: str) -> str | None:
    """Why ``text`` is not valid Unicode (``not valid text (U+D800 at position 4 is not a
    character)``), or None when it is."""
    at = bad_char(text)
    if at is None:
        return None
    return f"not valid text (U+{ord(text[at]):04X} at position {at + 1} is not a character)"


def check_text(text: str, what: str) -> str:
    """``text`` when it is valid Unicode.

    :raises BadInputError: naming ``what`` (a file, field or argument) and the bad character.
    """
    reason = problem(text)
    if reason is None:
        return text
    from siglink.errors import BadInputError

    raise BadInputError(f"{shown(what)}: {reason}")


def decode(data: bytes, what: str) -> str:
    """``data`` decoded as UTF-8.

    :raises BadInputError: naming ``what`` (the file) and the first bad byte's line and column.
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        from siglink.errors import BadInputError

        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise BadInputError(f"{shown(what)}: not UTF-8 text (byte 0x{data[e.start]:02x} at line "
                            f"{line}, column {column})", path=what, line=line) from None


def header_fields(data: bytes, what: str, fields: Collection[str] | None = None) -> Message:
    r"""The ``Field: value`` lines at the top of ``data`` (a wheel's ``METADATA`` or ``WHEEL``,
    an sdist's ``PKG-INFO``); every value is a string. ``fields`` (lower case; all when None)
    must be UTF-8: others may hold anything (an old tool's ``Author`` in Latin-1), and are
    never read.

    :raises BadInputError: naming ``what`` and the field that is not UTF-8.

    >>> header_fields(b"Name: evil\nAuthor: J\xfcrgen\n", "METADATA", {"name"})["Name"]
    'evil'
    >>> header_fields(b"Name: evil\nRequires-Dist: \xffoo\n", "METADATA", {"requires-dist"})
    Traceback (most recent call last):
    siglink.errors.BadInputError: METADATA: Requires-Dist is not UTF-8 text (byte 0xff): \udcffoo
    """
    from email.parser import Parser

    message = Parser().parsestr(data.decode("utf-8", "surrogateescape"), headersonly=True)
    for field, value in message.raw_items():  # raw: email makes a bad value a Header object
        at = bad_char(value)
        if at is not None and (fields is None or field.lower() in fields):
            from siglink.errors import BadInputError

            raise BadInputError(f"{shown(what)}: {field} is not UTF-8 text (byte "
                                f"0x{ord(value[at]) & 0xFF:02x}): {shown(value.strip())[:80]}",
                                path=what)
    return message
