"""The command's own output: a failure to write it never stops the command.

A command's exit status says what it did (a verdict, a commit); whether its output reached
anyone is another matter. :func:`guard` puts ``sys.stdout`` and ``sys.stderr`` behind
wrappers that, on the first failed write (the reader gone: ``EPIPE``; a full or failing file:
``ENOSPC``, ``EIO``), remember the error, point the descriptor at ``/dev/null`` (what is still
buffered, and the interpreter's flush at exit, go nowhere, without an error) and drop
everything written after it, so the command runs to its end and returns its status; ``main``
then decides what to say and which code to exit with (:func:`failure`). Standard library only.

>>> import os
>>> read, write = os.pipe(); os.close(read)
>>> stream = _Guarded(os.fdopen(write, "w"))
>>> stream.write("lost"); stream.flush()
4
>>> stream.error.strerror, stream.write("dropped")
('Broken pipe', 7)
>>> stream.close()
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["failure", "guard"]

_guarded: dict[str, _Guarded] = {}


def __dir__() -> list[str]:
    return list(__all__)


class _Guarded:
    """A text stream written to until a write fails; afterwards a sink. Everything else
    (``encoding``, ``isatty``, ``fileno``) is the stream's own."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.error: OSError | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def write(self, text: str) -> int:
        if self.error is None:
            try:
                return int(self._stream.write(text))
            except OSError as e:
                self._failed(e)
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self.error is None:
            try:
                self._stream.flush()
            except OSError as e:
                self._failed(e)

    def _failed(self, error: OSError) -> None:
        import contextlib
        import os

        self.error = error
        with contextlib.suppress(OSError, ValueError):
            null = os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)
            try:
                os.dup2(null, self._stream.fileno())
            finally:
                os.close(null)


def guard() -> None:
    """Put ``sys.stdout`` and ``sys.stderr``, when they are the process's own streams, behind
    :class:`_Guarded` (a stream already replaced, as a test capturing it does, is left)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and stream is getattr(sys, f"__{name}__"):
            _guarded[name] = _Guarded(stream)
            setattr(sys, name, _guarded[name])


def failure() -> OSError | None:
    """The error that stopped stdout (after flushing what is left), else None; a failing
    stderr is not reported (there is nowhere to say it)."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, _Guarded):
            stream.flush()
    guarded = _guarded.get("stdout")
    return None if guarded is None else guarded.error
