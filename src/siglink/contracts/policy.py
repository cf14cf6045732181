"""How strictly a provider must match what a consumer recorded (docs/design.md §6).

``signature`` (the default) lets signatures decide; ``semver`` also keeps each library within
the major version the consumer was built against (versions are the linker's business: the
checker treats it as ``signature``); ``strict`` also breaks on a changed default value (P9).

>>> policy_of("strict")
'strict'
>>> policy_of("loose")
Traceback (most recent call last):
...
siglink.errors.BadInputError: unknown policy 'loose': expected one of signature, semver, strict
"""

from __future__ import annotations

from typing import Final, Literal, TypeGuard

from siglink.errors import BadInputError

__all__ = ["POLICIES", "Policy", "is_policy", "policy_of"]


def __dir__() -> list[str]:
    return list(__all__)


Policy = Literal["signature", "semver", "strict"]
POLICIES: Final[tuple[Policy, ...]] = ("signature", "semver", "strict")


def is_policy(text: object) -> TypeGuard[Policy]:
    """Is ``text`` one of :data:`POLICIES`?"""
    return text in POLICIES


def policy_of(text: object) -> Policy:
    """``text`` as a :data:`Policy`; else :class:`~siglink.errors.BadInputError` naming them."""
    if not is_policy(text):
        raise BadInputError(f"unknown policy {text!r}: expected one of {', '.join(POLICIES)}")
    return text
