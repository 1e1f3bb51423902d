"""The `kiosk` command: built-in sub-commands plus those registered under the `kiosk.commands` entry points."""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points

from firmware_app import audit_export
from firmware_app.flow import diagram

Command = Callable[[list[str]], int]


def _flow_diagram(argv: list[str]) -> int:
    """Print the flow's transition table as a Mermaid diagram."""
    if argv:
        print("usage: kiosk flow-diagram", file=sys.stderr)
        return 2
    print(diagram.document(), end="")
    return 0


def _run(argv: list[str]) -> int:
    """The terminal service (imports the drivers only when asked for)."""
    from firmware_app import service

    return service.command(argv)


BUILT_IN: dict[str, Command] = {"flow-diagram": _flow_diagram, "audit": audit_export.command, "run": _run}


def _plug_ins() -> dict[str, EntryPoint]:
    """Commands other installed packages register (this distribution registers none; the demo is run from
    the source tree, `python -m harness.demo`)."""
    return {point.name: point for point in entry_points(group="kiosk.commands")}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    plug_ins = _plug_ins()
    names = sorted({*BUILT_IN, *plug_ins})
    if not args or args[0] not in names:
        print(f"usage: kiosk COMMAND [ARGS]  (commands: {', '.join(names)})", file=sys.stderr)
        return 0 if args and args[0] in {"-h", "--help"} else 2
    command: Command = BUILT_IN[args[0]] if args[0] in BUILT_IN else plug_ins[args[0]].load()
    return command(args[1:])


if __name__ == "__main__":
    sys.exit(main())
