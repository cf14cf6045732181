"""``python -m siglink``."""

from siglink.cli.main import entry

entry()
