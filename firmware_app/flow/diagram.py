"""The transition table drawn as a Mermaid state diagram, generated from the rules so it cannot drift."""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from firmware_app.flow.states import ALL_STATES
from firmware_app.flow.step import RULES

ROOT = Path(__file__).resolve().parents[2]
DOC_PATH = ROOT / "docs" / "flow.md"
README_PATH = ROOT / "README.md"
_BEGIN, _END = "<!-- flow:begin -->", "<!-- flow:end -->"

_HEADER = """# The verification flow

Generated from `firmware_app/flow/step.py` by `python -m firmware_app.flow.diagram`; a test fails if this
file and the code disagree. Each arrow is a transition the table allows; events accepted without leaving
the state (acknowledgements, stale deadlines, unverifiable answers) and every pair not drawn are explicit
refusals that change nothing.

```mermaid
stateDiagram-v2
"""


def mermaid() -> str:
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (source, event), rule in RULES.items():
        for target in rule.targets:
            if target is not source:
                edges[(source.__name__, target.__name__)].append(event.__name__)
    order = {state.__name__: index for index, state in enumerate(ALL_STATES)}
    lines = ["    [*] --> Starting"]
    for (origin, destination), names in sorted(edges.items(), key=lambda item: (order[item[0][0]], order[item[0][1]])):
        lines.append(f"    {origin} --> {destination}: {' / '.join(sorted(set(names)))}")
    return _HEADER + "\n".join(lines) + "\n```\n"


def readme_with_diagram(readme: str) -> str:
    """The README with the diagram between its flow markers replaced by the current one."""
    head, _, rest = readme.partition(_BEGIN)
    _, _, tail = rest.partition(_END)
    block = mermaid().split("```mermaid", 1)[1]
    return f"{head}{_BEGIN}\n```mermaid{block}{_END}{tail}"


def main() -> None:
    readme = README_PATH.read_text()
    if "--check" in sys.argv:
        sys.exit(0 if DOC_PATH.read_text() == mermaid() and readme == readme_with_diagram(readme) else 1)
    DOC_PATH.write_text(mermaid())
    README_PATH.write_text(readme_with_diagram(readme))


if __name__ == "__main__":
    main()
