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

"""

_OPERATOR = """
## The operator's answers

Until the operator screen exists, the panel's buttons are the operator's events (`_BUTTONS` in
`firmware_app/runtime/loop.py`): CONFIRM is `OperatorConfirmed`, REJECT is `OperatorRejected`, CANCEL is
`OperatorCancelled`. Where the terminal asks whether to print or void:

| state | CONFIRM | REJECT, CANCEL | other events |
|---|---|---|---|
| `AnsweredLate` | print now, same inquiry code | void: the center frees the voter | `OperatorVoid` voids; `OperatorRetry` is refused |
| `RecoveryDecision`, print or void | print | void | `OperatorRetry` prints; `OperatorVoid` voids |
| `RecoveryDecision`, did the slip come out? | refused | refused | `SlipCameOut`, `SlipMissing`, `OperatorVoid` |

Printing goes through `Printing` as always: the printer's own check before the job still applies, and a
printer that cannot print leads to `PrintFailed` (retry or void) with the reservation kept.

## A late answer

`NoAnswer` has told the operator that no slip will be issued (DESIGN.md §2 rule 2). An answer that arrives
after that never prints by itself:

- ELIGIBLE leads to `AnsweredLate`: the inquiry code is journaled (stage `eligible`), nothing is printed or
  committed, and the operator prints now (the voter is still there) or voids. Print is CONFIRM only, not
  `OperatorRetry`, which `NoAnswer` accepts: a retry pressed just before the answer came cannot print.
- DUPLICATE, INELIGIBLE, VOIDED or REJECTED is shown (`Refused`); there is nothing to print.
- An answer to a transaction the operator has already voided finds the terminal in another state and is
  refused: the void stands.
- After a crash, a late answer held in the journal (stage `eligible`) recovers to `RecoveryDecision`,
  print or void: the same question, with the same buttons, never an automatic print.
"""


def mermaid() -> str:
    """The whole of docs/flow.md."""
    return _HEADER + _diagram() + _OPERATOR


def _diagram() -> str:
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (source, event), rule in RULES.items():
        for target in rule.targets:
            if target is not source:
                edges[(source.__name__, target.__name__)].append(event.__name__)
    order = {state.__name__: index for index, state in enumerate(ALL_STATES)}
    lines = ["    [*] --> Starting"]
    for (origin, destination), names in sorted(edges.items(), key=lambda item: (order[item[0][0]], order[item[0][1]])):
        lines.append(f"    {origin} --> {destination}: {' / '.join(sorted(set(names)))}")
    return "```mermaid\nstateDiagram-v2\n" + "\n".join(lines) + "\n```\n"


def readme_with_diagram(readme: str) -> str:
    """The README with the diagram between its flow markers replaced by the current one."""
    head, _, rest = readme.partition(_BEGIN)
    _, _, tail = rest.partition(_END)
    block = _diagram().split("```mermaid", 1)[1]
    return f"{head}{_BEGIN}\n```mermaid{block}{_END}{tail}"


def main() -> None:
    readme = README_PATH.read_text()
    if "--check" in sys.argv:
        sys.exit(0 if DOC_PATH.read_text() == mermaid() and readme == readme_with_diagram(readme) else 1)
    DOC_PATH.write_text(mermaid())
    README_PATH.write_text(readme_with_diagram(readme))


if __name__ == "__main__":
    main()
