"""Real hosts and plugins for the plugin tests: sources written to a temporary directory, the
host installed into a real store as a real wheel."""

from __future__ import annotations

import textwrap
from pathlib import Path

from siglink.demo.wheels import wheel_from_tree
from siglink.store import Store

HOST_1 = '''
"""A tiny chat host, release 1.0."""
from typing import Protocol

import siglink

__all__ = ["Filter", "Message", "command", "format_user"]


class Message:
    def __init__(self, text: str, user: str) -> None:
        self.text = text
        self.user = user


def format_user(user: str) -> str:
    return f"<{user}>"


@siglink.extension_point("chat.commands")
def command(text: str, *, user: str) -> str | None:
    """Answer a command, or None."""


@siglink.extension_point("chat.filters")
class Filter(Protocol):
    def accept(self, message: Message) -> bool: ...
'''

# 2.0 passes a channel to every command, and format_user's parameter became positional-only.
HOST_2 = HOST_1.replace("release 1.0", "release 2.0").replace(
    "def command(text: str, *, user: str)", "def command(text: str, *, user: str, channel: str)"
).replace("def format_user(user: str)", "def format_user(user: str, /)")


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return root


def install_host(tmp: Path, store: Store, version: str, source: str) -> Path:
    """Install ``chat`` VERSION into ``store``; its source tree stays in ``tmp/host-VERSION``."""
    tree = write(tmp / f"host-{version}", {"chat/__init__.py": source})
    wheel = wheel_from_tree(tmp / "wheels", tree, "chat", version)
    store.install([str(wheel)])
    return tree


def plugin(root: Path, name: str, code: str, *, version: str = "1.0",
           extra: dict[str, str] | None = None) -> Path:
    """A plugin project ``root/NAME`` with a package ``NAME`` and a pyproject naming it."""
    files = {f"{name}/__init__.py": code,
             "pyproject.toml": f'[project]\nname = "{name}"\nversion = "{version}"\n'}
    files.update(extra or {})
    return write(root / name, files)



SHOUT = '''
import siglink
from chat import format_user


@siglink.implements("chat.commands", position="first")
def shout(text: str, *, user: str, **extra: str) -> str:
    return format_user(user) + " " + text.upper()
'''

ECHO = '''
from siglink import implements


@implements("chat.commands")
def echo(text: str, *, user: str) -> str | None:
    return text[6:] if text.startswith("/echo ") else None
'''

WHISPER = '''
import siglink


@siglink.implements("chat.commands")
def whisper(text: str, *, user: int) -> str:
    return text.lower()
'''

BOOM = '''
import siglink


@siglink.implements("chat.commands")
def boom(text: str, *, user: str) -> str:
    raise RuntimeError("boom on " + text)
'''

NOSPAM = '''
import siglink
from chat import Message


@siglink.implements("chat.filters")
class NoSpam:
    def accept(self, message: Message) -> bool:
        return "spam" not in message.text
'''
