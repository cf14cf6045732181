"""textkit 1.0.1: small text utilities (security fix: bounded input)."""

from __future__ import annotations

__all__ = ["count_words", "slugify", "wrap"]

_MAX_INPUT = 10_000


def slugify(text: str, sep: str = "-") -> str:
    """'Hello, World' -> 'hello-world'."""
    # 1.0.1: refuse pathological input instead of building a huge slug (CVE-style fix).
    text = text[:_MAX_INPUT]
    words = "".join(c if c.isalnum() else " " for c in text.lower()).split()
    return sep.join(words)


def wrap(text: str, width: int = 70) -> list[str]:
    """Greedy line wrapping at ``width`` characters."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return lines


def count_words(text: str) -> int:
    """How many whitespace-separated words ``text`` holds."""
    return len(text.split())
