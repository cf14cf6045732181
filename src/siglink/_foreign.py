"""Reading a file another user may control (a registered application's manifest, another
user's registry file): it never blocks, never follows that user's symbolic links and never
reads more than a bound.

The path is walked one component at a time from ``/`` with ``openat``: a symbolic link is
followed only when root or this user owns it (one another user planted is refused), a
component that turns into a symbolic link between the check and the open is refused
(``O_NOFOLLOW``), and the file itself is opened with ``O_NONBLOCK`` (a FIFO cannot hang the
reader) only after ``lstat`` says it is a regular file, which ``fstat`` confirms on the open
descriptor. Standard library only.

>>> import os, tempfile
>>> d = tempfile.mkdtemp()
>>> path = os.path.join(d, "app.siglink.json")
>>> with open(path, "wb") as f:
...     _ = f.write(b"{}")
>>> read_foreign(path)[0]
b'{}'
>>> os.mkfifo(os.path.join(d, "fifo"))
>>> foreign_problem(os.path.join(d, "fifo"))
'is a FIFO, not a regular file'
>>> read_foreign(os.path.join(d, "fifo"))
Traceback (most recent call last):
siglink._foreign.ForeignFileError: is a FIFO, not a regular file
"""

from __future__ import annotations

import os

from siglink._layout import read_fd

__all__ = ["LIMIT", "MANIFEST_LIMIT", "ForeignFileError", "foreign_problem", "read_foreign"]

LIMIT = 64 << 20
"""The largest file read (64 MiB): an application manifest of thousands of imports is a few
megabytes."""

MANIFEST_LIMIT = 8 << 20
"""The largest application manifest read (8 MiB): generous for thousands of imports, and small
enough that another user's registrations cannot make every command parse huge files."""

_HOPS = 40  # symbolic links followed in one path, as the kernel's limit


def __dir__() -> list[str]:
    return list(__all__)


class ForeignFileError(Exception):
    """A file that is not read, and why (``is a FIFO, not a regular file``); ``planted`` when
    the reason is a symbolic link another user owns on the way (the file itself may be
    sound)."""

    def __init__(self, reason: str, *, planted: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.planted = planted


def _kind(mode: int) -> str:
    import stat

    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a directory")):
        if test(mode):
            return name
    return "not a regular file"


def _locate(path: str) -> tuple[int, str]:
    """An open descriptor of the directory holding ``path``'s last component (resolved through
    trusted symbolic links only), and that component's name. The caller closes the
    descriptor. :raises ForeignFileError: a symbolic link owned by another user, too many
    links. :raises OSError: a component missing or not searchable."""
    import stat

    trusted = {0, os.geteuid()}
    todo = [p for p in reversed(os.path.abspath(path).split("/")) if p]
    walked = ""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
    fd = os.open("/", flags)
    hops = 0
    try:
        while True:
            if not todo:
                return fd, "."
            part = todo.pop()
            if part == ".":
                continue
            st = os.stat(part, dir_fd=fd, follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                here = os.path.join(walked or "/", part)
                if st.st_uid not in trusted:
                    raise ForeignFileError(
                        f"passes through {here}, a symbolic link owned by uid {st.st_uid} "
                        "(not followed)", planted=True)
                hops += 1
                if hops > _HOPS:
                    raise ForeignFileError(f"has too many symbolic links (at {here})")
                target = os.readlink(part, dir_fd=fd)
                todo.extend(p for p in reversed(target.split("/")) if p)
                if target.startswith("/"):
                    os.close(fd)
                    fd = os.open("/", flags)
                    walked = ""
                continue
            if not todo:
                return fd, part
            new = os.open(part, flags | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = new
            walked = os.path.join(walked or "/", part)
    except BaseException:
        os.close(fd)
        raise


def foreign_problem(path: str, limit: int = LIMIT) -> str | None:
    """Why :func:`read_foreign` would not read ``path`` (without opening it): not a regular
    file, larger than ``limit``; None when it would try.

    :raises ForeignFileError: a symbolic link another user owns on the way (``planted``),
        too many links.
    :raises OSError: missing (``FileNotFoundError``) or not searchable.
    """
    fd, name = _locate(path)
    try:
        st = os.stat(name, dir_fd=fd, follow_symlinks=False)
    finally:
        os.close(fd)
    return _shape_problem(st, limit)


def _shape_problem(st: os.stat_result, limit: int) -> str | None:
    import stat

    if not stat.S_ISREG(st.st_mode):
        return f"is {_kind(st.st_mode)}, not a regular file"
    if st.st_size > limit:
        return f"is larger than {limit >> 20} MiB ({st.st_size} bytes)"
    return None


def read_foreign(path: str, limit: int = LIMIT) -> tuple[bytes, os.stat_result]:
    """The content of the regular file ``path`` and its ``fstat``.

    :raises ForeignFileError: not read, with the reason (see the module doc).
    :raises OSError: missing or unreadable.
    """
    fd, name = _locate(path)
    try:
        st = os.stat(name, dir_fd=fd, follow_symlinks=False)
        problem = _shape_problem(st, limit)
        if problem is not None:
            raise ForeignFileError(problem)
        file = os.open(name, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC,
                       dir_fd=fd)
    finally:
        os.close(fd)
    try:
        st = os.fstat(file)
        problem = _shape_problem(st, limit)
        if problem is not None:
            raise ForeignFileError(problem)
        data = read_fd(file, limit + 1)
    finally:
        os.close(file)
    if len(data) > limit:
        raise ForeignFileError(f"is larger than {limit >> 20} MiB")
    return data, st
