"""A reproducible zip archive: fixed timestamps, modes and order, the shebang first."""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Mapping

from siglink._text import bad_char, shown
from siglink.errors import BadInputError

__all__ = ["FIXED_TIME", "zip_bytes"]

FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def __dir__() -> list[str]:
    return list(__all__)


def zip_bytes(members: Mapping[str, bytes], *, shebang: str,
              executable: frozenset[str] = frozenset()) -> bytes:
    """The archive of ``members`` (name -> content), preceded by ``#!shebang``.

    >>> data = zip_bytes({"b.txt": b"2", "a.txt": b"1"}, shebang="/usr/bin/env python3")
    >>> data.startswith(b"#!/usr/bin/env python3\\n"), data == zip_bytes(
    ...     {"a.txt": b"1", "b.txt": b"2"}, shebang="/usr/bin/env python3")
    (True, True)
    """
    bad = sorted(name for name in members if bad_char(name) is not None)
    if bad:  # zip records names in UTF-8 (or cp437), never as the bytes the OS gave
        raise BadInputError(f"{shown(bad[0])}: a file name that is not UTF-8 cannot be stored "
                            "in a bundle; rename it", path=bad[0])
    buffer = io.BytesIO()
    buffer.write(b"#!" + shebang.encode("utf-8", "surrogateescape") + b"\n")  # a path's bytes
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.create_system = 3
            mode = 0o755 if name in executable else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, members[name], compresslevel=9)
    return buffer.getvalue()
