"""``python -m siglink``."""

from siglink._entry import entry

entry()
