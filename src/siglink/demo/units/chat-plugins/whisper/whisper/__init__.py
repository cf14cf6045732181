"""Built against chat 1.0: it takes exactly what 1.0 passed."""

import siglink


@siglink.implements("chat.commands")
def whisper(text: str, *, user: str) -> str | None:
    return text[9:].lower() if text.startswith("/whisper ") else None
