"""chat 1.0: a tiny chat host whose commands are plugins."""

import siglink

__all__ = ["command", "mention"]


def mention(user: str) -> str:
    """How a user is shown in an answer."""
    return f"@{user}"


@siglink.extension_point("chat.commands")
def command(text: str, *, user: str) -> str | None:
    """Answer a line typed by ``user``, or None to let another command answer."""
