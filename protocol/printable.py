"""Outside text made safe to quote in an operator message or a log line: invisible characters made visible."""

from __future__ import annotations

import unicodedata

_SHOWN_AS_CODE_POINT = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
"""Controls, format characters (bidi embeddings, overrides and isolates, zero-width characters), surrogates,
private-use and unassigned code points, and the line and paragraph separators."""
ELLIPSIS = "…"


def printable(text: str, limit: int = 40) -> str:
    """`text` as it may be quoted: its first `limit` characters, each control, format or separator character
    written as its code point (U+202E, U+000A), and an ellipsis when the text was longer. Printable text,
    Persian included, is kept as it is; nothing in the result can reorder, hide or break the text around it."""
    shown = "".join(
        f"U+{ord(char):04X}" if unicodedata.category(char) in _SHOWN_AS_CODE_POINT else char
        for char in text[: max(0, limit)]
    )
    return shown + ELLIPSIS if len(text) > limit else shown
