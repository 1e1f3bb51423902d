"""Structured log lines (one JSON object a line): every field escaped, so no peer-supplied text forges a record."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO

from protocol.faults import fault_place


class JsonLines(logging.Formatter):
    """`{"t", "level", "logger", "msg"}` (plus `fault` when an exception is attached: its type and place,
    never its message). JSON escapes every control character, so a newline inside a message is `\\n`,
    not a second record; non-ASCII is escaped too, so a bidi override cannot reorder what a reader sees."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, str] = {
            "t": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info and record.exc_info[1] is not None:
            line["fault"] = fault_place(record.exc_info[1])
        return json.dumps(line, ensure_ascii=True)


def configure(level: int = logging.INFO, stream: IO[str] | None = None, filename: str | None = None) -> None:
    """Make every record of the process a JSON line, on `stream` (stderr by default) or in `filename`. Like
    `logging.basicConfig`, it leaves a root logger that already has handlers as it is (a test runner's)."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler: logging.Handler = (logging.FileHandler(filename, encoding="utf-8") if filename is not None
                                else logging.StreamHandler(stream or sys.stderr))
    handler.setFormatter(JsonLines())
    root.addHandler(handler)
    root.setLevel(level)
