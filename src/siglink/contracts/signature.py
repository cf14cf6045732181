"""Signatures of callables: parameters and return type, canonical text and digest (DESIGN §3.1).

(Initial shape; parsing, canonical text and digests land with the contracts work.)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from siglink.contracts.types import TypeRef

__all__ = ["Param", "ParamKind", "Signature"]


class ParamKind(Enum):
    """How an argument can reach a parameter (values read like ``inspect``'s descriptions)."""

    POSITIONAL_ONLY = "positional-only"
    POSITIONAL_OR_KEYWORD = "positional-or-keyword"
    VAR_POSITIONAL = "var-positional"
    KEYWORD_ONLY = "keyword-only"
    VAR_KEYWORD = "var-keyword"


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter. ``annotation`` is None when the source has none; ``default`` is the
    default value's source text (``None`` when the parameter has no default)."""

    name: str
    kind: ParamKind
    annotation: TypeRef | None = None
    default: str | None = None

    @property
    def has_default(self) -> bool:
        return self.default is not None


@dataclass(frozen=True, slots=True)
class Signature:
    """Parameters in order (keyword-only ones sorted by name) and the return type."""

    params: tuple[Param, ...] = ()
    returns: TypeRef | None = None
