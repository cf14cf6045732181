"""A reproducible zip archive: fixed timestamps, modes and order, the shebang first."""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Mapping

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
    buffer = io.BytesIO()
    buffer.write(b"#!" + shebang.encode() + b"\n")
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.create_system = 3
            mode = 0o755 if name in executable else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, members[name], compresslevel=9)
    return buffer.getvalue()
