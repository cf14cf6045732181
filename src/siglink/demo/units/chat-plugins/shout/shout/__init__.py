"""Built against chat 2.0: it uses the channel."""

from chat import mention

import siglink


@siglink.implements("chat.commands")
def shout(text: str, *, user: str, channel: str) -> str | None:
    if not text.startswith("/shout "):
        return None
    return f"{mention(user)} in {channel}: {text[7:].upper()}!"
