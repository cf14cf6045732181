"""The one atomic file writer: a temporary file beside the target, ``fsync``, ``os.replace``.

Standard library only and cheap to import (the warm path writes plans through it). The
temporary name carries the process id, the thread id and random bytes, so two threads or two
processes writing the same target never share a temporary; on any failure the temporary is
removed and the target is left as it was.

>>> import os, pathlib, tempfile
>>> d = tempfile.mkdtemp()
>>> target = pathlib.Path(d, "plan.json")
>>> write_atomic(target, b"{}", mode=0o600)
>>> target.read_bytes(), oct(target.stat().st_mode & 0o777)
(b'{}', '0o600')
>>> os.listdir(d)
['plan.json']
"""

from __future__ import annotations

import os

__all__ = ["write_atomic"]


def __dir__() -> list[str]:
    return list(__all__)


def write_atomic(path: str | os.PathLike[str], data: bytes, *, mode: int = 0o644,
                 durable: bool = True) -> None:
    """Replace ``path`` with ``data`` atomically; the file gets exactly ``mode`` (not the umask's).

    ``durable`` fsyncs the file (and its directory) so the content survives a power loss;
    caches may pass ``False``.
    """
    import _thread

    target = os.fspath(path)
    directory, name = os.path.split(target)
    tmp = os.path.join(directory, f".{name}.{os.getpid()}.{_thread.get_ident()}."
                                  f"{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fchmod(fd, mode)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        try:  # noqa: SIM105 (contextlib is not imported on the warm path)
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if durable:
        _sync_directory(directory or ".")


def _sync_directory(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
