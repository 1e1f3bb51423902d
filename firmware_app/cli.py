"""The `kiosk` command: built-in sub-commands plus those registered under the `kiosk.commands` entry points."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

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


def _demo(argv: list[str]) -> int:
    """The demo of a whole virtual branch, `python -m harness.demo` of the source tree this runs from (`make demo`);
    an installed terminal has no harness, and says so. It replaces this process, so Ctrl-C reaches it directly."""
    source = Path(__file__).resolve().parents[1]
    if not (source / "harness" / "demo.py").is_file():
        print("kiosk demo runs from the project's source tree (make demo); this installation has no harness",
              file=sys.stderr)
        return 2
    path = os.pathsep.join([str(source), *filter(None, [os.environ.get("PYTHONPATH")])])
    os.execve(sys.executable, [sys.executable, "-m", "harness.demo", *argv], {**os.environ, "PYTHONPATH": path})


BUILT_IN: dict[str, Command] = {"flow-diagram": _flow_diagram, "audit": audit_export.command, "run": _run,
                                "demo": _demo}


def _plug_ins() -> dict[str, EntryPoint]:
    """Commands other installed packages register (this distribution registers none)."""
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
