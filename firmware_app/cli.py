"""The `kiosk` command: built-in sub-commands plus those registered under the `kiosk.commands` entry points."""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib.metadata import entry_points

from firmware_app import audit_export
from firmware_app.flow import diagram

Command = Callable[[list[str]], int]


def _flow_diagram(argv: list[str]) -> int:
    """Print the flow's transition table as a Mermaid diagram."""
    if argv:
        print("usage: kiosk flow-diagram", file=sys.stderr)
        return 2
    print(diagram.mermaid(), end="")
    return 0


BUILT_IN: dict[str, Command] = {"flow-diagram": _flow_diagram, "audit": audit_export.command}


def _commands() -> dict[str, Command]:
    """Built-ins, then plug-ins (the harness registers `demo`; a production image ships without it)."""
    found = dict(BUILT_IN)
    for point in entry_points(group="kiosk.commands"):
        found.setdefault(point.name, point.load())
    return found


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    commands = _commands()
    if not args or args[0] in {"-h", "--help"} or args[0] not in commands:
        names = ", ".join(sorted(commands))
        print(f"usage: kiosk COMMAND [ARGS]  (commands: {names})", file=sys.stderr)
        return 0 if args and args[0] in {"-h", "--help"} else 2
    return commands[args[0]](args[1:])


if __name__ == "__main__":
    sys.exit(main())
