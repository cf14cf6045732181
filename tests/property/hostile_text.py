"""Text as siglink receives it from outside: any Unicode, lone surrogates (JSON's ``"\\ud800"``
escape makes one), and bytes that are not UTF-8 decoded with ``surrogateescape`` (how Python
hands over a file name, an argument or a file read that way). Hypothesis's own ``st.text()``
never draws a surrogate (category Cs is excluded unless asked for).

Import from a test module beside this file: ``from hostile_text import hostile_text``.
"""

from __future__ import annotations

from hypothesis import strategies as st

__all__ = ["SURROGATES", "hostile_text"]

SURROGATES = st.sampled_from(["\ud800", "\udbff", "\udc00", "\udc80", "\udcff", "\udfff"])


def hostile_text(max_size: int = 20) -> st.SearchStrategy[str]:
    """Strings of at most about ``max_size`` characters, often holding lone surrogates."""
    return st.one_of(
        st.text(st.characters(exclude_categories=()), max_size=max_size),  # Cs included
        st.lists(st.one_of(st.text(max_size=4), SURROGATES), max_size=max(1, max_size // 2))
        .map("".join),
        st.binary(max_size=max_size).map(lambda b: b.decode("utf-8", "surrogateescape")),
    )
