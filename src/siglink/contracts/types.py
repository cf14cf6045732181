"""Types in normal form, parsed from annotation text, and the subtype relation (DESIGN §3.2).

(Initial shape; the parser and subtype relation land with the contracts work.)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ANY", "NONE", "UNKNOWN", "TypeRef"]


@dataclass(frozen=True, slots=True)
class TypeRef:
    """A type in normal form: a canonical qualified name and its arguments.

    ``str(t)`` is the canonical text, and parsing it gives ``t`` back.
    """

    name: str
    args: tuple[TypeRef, ...] = ()

    def __str__(self) -> str:
        if not self.args:
            return self.name
        return f"{self.name}[{', '.join(map(str, self.args))}]"


ANY = TypeRef("typing.Any")
UNKNOWN = TypeRef("unknown")
NONE = TypeRef("None")
