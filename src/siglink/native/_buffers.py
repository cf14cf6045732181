"""Buffer parameters: how a pointer-to-bytes parameter accepts Python buffers.

``bytes``, ``bytearray``, ``memoryview`` and ctypes data are passed through ``from_param``
(``bytes`` and read-only buffers only where the pointee is ``const``, or a plain ``char *``),
without a copy wherever ctypes can point into the buffer.

>>> ConstBuffer.from_param(b"abc")
b'abc'
>>> Buffer.from_param(b"abc")
Traceback (most recent call last):
TypeError: buffer parameter is written by the library (void *, not const): bytes are ...
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any, Final

__all__ = ["Buffer", "BufferParam", "ConstBuffer", "TextBuffer"]


def __dir__() -> list[str]:
    return list(__all__)


_SIMPLE_CDATA: tuple[type, ...] = (
    ctypes.Array, ctypes._Pointer, ctypes.c_void_p, ctypes.c_char_p,
)
_CARG = type(ctypes.byref(ctypes.c_int()))

# A zero-length char array over a buffer is the cheapest pointer ctypes makes from it:
# one C call, and the array holds the buffer's export for the call, so another thread
# cannot resize a bytearray while the library (running without the GIL) writes into it.
_AT: Final = ctypes.c_char * 0


def _other(obj: Any, cls: Any) -> Any:
    """The slow path of a buffer parameter: ctypes data, ``None``, addresses, other buffers."""
    if obj is None or isinstance(obj, _SIMPLE_CDATA) or obj.__class__ is _CARG:
        return obj
    if isinstance(obj, int):
        return ctypes.c_void_p(obj)
    readonly = isinstance(obj, bytes) or (obj.__class__ is memoryview and obj.readonly)
    if readonly and cls.const:
        return bytes(obj)
    try:
        return _AT.from_buffer(obj)  # array.array, mmap, numpy arrays ...
    except TypeError as e:
        if "not C contiguous" in str(e):
            if cls.const:
                return memoryview(obj).tobytes()
            raise TypeError(f"{cls.what}: the buffer is not contiguous") from None
        if readonly or "not writable" in str(e):
            kind = "bytes are immutable" if isinstance(obj, bytes) else (
                "a read-only buffer was given")
            raise TypeError(f"{cls.what} is written by the library ({cls.spelled}, not "
                            f"const): {kind}; pass a bytearray, a writable memoryview or a "
                            "ctypes buffer") from None
    wanted = "a buffer (bytes, bytearray, memoryview" if cls.const else (
        "a writable buffer (bytearray, memoryview")
    raise TypeError(f"{cls.what} ({cls.spelled}): expected {wanted}, ctypes data), "
                    f"got {type(obj).__name__}")


class BufferParam(ctypes.c_void_p):
    """A pointer-to-bytes parameter; each subclass gets its own ``from_param``.

    ``from_param`` is a plain function closed over its class, set as a staticmethod: ctypes
    then calls it directly, without binding a classmethod on every call (about 15 ns).
    """

    what = "buffer parameter"
    spelled = "void *"
    const = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.from_param = staticmethod(cls._converter())  # type: ignore[method-assign]

    @classmethod
    def _converter(cls) -> Callable[[Any], Any]:
        """The ``from_param`` for ``cls``. Subclasses override it to take Python buffers
        on a fast path first; this base one accepts only what every buffer parameter does
        (``None``, ctypes data) and refuses the rest with a message naming ``cls``."""

        def from_param(obj: Any) -> Any:
            return _other(obj, cls)

        return from_param


class ConstBuffer(BufferParam):
    """A ``const`` pointer to bytes or ``void``: bytes, bytearray, memoryview, ctypes data.

    A read-only memoryview is passed without a copy when it spans a whole ``bytes`` object
    in order, copied otherwise (ctypes cannot take the address of read-only memory).
    """

    spelled = "const void *"
    const = True

    @classmethod
    def _converter(cls) -> Callable[[Any], Any]:
        def from_param(obj: Any) -> Any:
            kind = obj.__class__
            if kind is bytes:
                return obj
            if kind is memoryview:
                whole = obj.obj
                if whole.__class__ is bytes:  # read-only by nature: no .readonly needed
                    try:
                        # All of it, in order (not ``[::-1]``): the bytes itself, no copy.
                        # As many items as the bytes has bytes means items of one byte,
                        # so all of them (``len`` is cheaper than ``.nbytes``).
                        if len(obj) == len(whole) and obj.c_contiguous:
                            return whole
                    except TypeError:  # a 0-dim view has no len()
                        pass
                    return obj.tobytes()  # ctypes cannot point into read-only memory
                if obj.readonly:
                    return obj.tobytes()
                if obj.c_contiguous:
                    return _AT.from_buffer(obj)
            elif kind is bytearray:
                return _AT.from_buffer(obj)
            return _other(obj, cls)

        return from_param


class Buffer(BufferParam):
    """A pointer to bytes or ``void`` the library writes: bytearray, memoryview, ctypes data.

    ``bytes`` is refused: the pointee is not ``const``, so the library may write into it.
    """

    @classmethod
    def _converter(cls) -> Callable[[Any], Any]:
        def from_param(obj: Any) -> Any:
            kind = obj.__class__
            if kind is bytearray or (kind is memoryview and not obj.readonly
                                     and obj.c_contiguous):
                return _AT.from_buffer(obj)
            return _other(obj, cls)

        return from_param


class TextBuffer(Buffer):
    """A non-const ``char *``: like :class:`Buffer`, and ``bytes`` as ctypes' ``c_char_p``
    (C APIs older than ``const`` declare input strings so)."""

    what = "char * parameter"
    spelled = "char *"

    @classmethod
    def _converter(cls) -> Callable[[Any], Any]:
        def from_param(obj: Any) -> Any:
            kind = obj.__class__
            if kind is bytes:
                return obj
            if kind is bytearray or (kind is memoryview and not obj.readonly
                                     and obj.c_contiguous):
                return _AT.from_buffer(obj)
            return _other(obj, cls)

        return from_param
