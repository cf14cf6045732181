"""A small chat program: every line typed is offered to the command plugins."""

import sys

from chat import command

import siglink
from siglink.plugins.host import outcomes

LINES = ["/shout hello", "/echo is anyone there?", "/whisper psst"]


def main() -> int:
    hook = siglink.plugins(command, directories=[sys.argv[1]], entry_points=False)
    for outcome in outcomes(hook):
        print(f"plugin {outcome.record.label}: {outcome.status}")
        for line in outcome.lines():
            print(f"    {line}")
    for line in LINES:
        print(f"ann> {line}")
        answer = hook.first(line, user="ann", channel="#general")
        print(f"bot> {answer if answer is not None else '(no command answered)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
