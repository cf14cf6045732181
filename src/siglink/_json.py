"""Reading JSON that siglink did not necessarily write: one function, one exception.

A file or index column an attacker (or a disk) may have changed can hold anything: text that
is not JSON, bytes that are not UTF-8, arrays nested 100,000 deep (``json`` raises
``RecursionError``), or valid JSON of the wrong shape. :func:`loads` turns the first three into
:class:`JSONTextError`, a ``ValueError`` with a one-line reason; :func:`loads_object` also
insists on an object. Callers name the file and choose the error family (bad input, exit 2, for
a user's file; a damaged index, exit 3, for the store's). Manifests go through
:meth:`siglink.contracts.manifest.Manifest.loads`, which checks every field's type as well.

>>> loads_object(b'{"a": 1}')
{'a': 1}
>>> loads("[" * 100_000)
Traceback (most recent call last):
  ...
siglink._json.JSONTextError: JSON nested too deeply
>>> loads_object("[1]")
Traceback (most recent call last):
  ...
siglink._json.JSONTextError: expected a JSON object, found an array
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["JSONTextError", "kind", "loads", "loads_object"]


def __dir__() -> list[str]:
    return list(__all__)


class JSONTextError(ValueError):
    """Text that is not JSON, or not JSON of the expected shape (one line, without a path)."""


def loads(text: str | bytes) -> Any:
    """Parse JSON text, whatever it holds.

    :raises JSONTextError: not JSON, not UTF-8, or nested too deeply.
    """
    try:
        return json.loads(text)
    except RecursionError:
        raise JSONTextError("JSON nested too deeply") from None
    except UnicodeDecodeError as e:
        raise JSONTextError(f"not UTF-8 ({e.reason} at byte {e.start})") from None
    except ValueError as e:
        raise JSONTextError(f"not valid JSON ({e})") from None


def loads_object(text: str | bytes) -> dict[str, Any]:
    """Parse JSON text that must be an object.

    :raises JSONTextError: as :func:`loads`, or a value other than an object.
    """
    value = loads(text)
    if not isinstance(value, dict):
        raise JSONTextError(f"expected a JSON object, found {kind(value)}")
    return value


def kind(value: object) -> str:
    """``an object``, ``an array``, ``a string``, ... for messages."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null" if value is None else type(value).__name__
