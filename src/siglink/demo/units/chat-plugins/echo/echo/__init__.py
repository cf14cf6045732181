"""Built against chat 1.0, and ready for more: whatever else the host passes lands in context."""

import siglink


@siglink.implements("chat.commands")
def echo(text: str, *, user: str, **context: str) -> str | None:
    return text[6:] if text.startswith("/echo ") else None
