"""chat 2.0: commands are now told which channel a line was typed in."""

import siglink

__all__ = ["command", "mention"]


def mention(user: str) -> str:
    """How a user is shown in an answer."""
    return f"@{user}"


@siglink.extension_point("chat.commands")
def command(text: str, *, user: str, channel: str) -> str | None:
    """Answer a line typed by ``user`` in ``channel``, or None to let another command answer."""
