"""How a fault (an exception that is a bug) is named in logs and alarms: its type and place, never its message."""

from __future__ import annotations

_OURS = ("/protocol/", "/center/", "/firmware_app/", "/hal/", "/drivers/", "/provisioning/")


def fault_place(exc: BaseException) -> str:
    """`TypeError at protocol/seal.py:112`: the innermost line of the project's own code the exception
    passed. The message is left out, since it may quote the input that caused it."""
    place = "?"
    frame = exc.__traceback__
    while frame is not None:
        path = frame.tb_frame.f_code.co_filename
        if any(part in path for part in _OURS):
            folder, name = path.rsplit("/", 2)[-2:]
            place = f"{folder}/{name}:{frame.tb_lineno}"
        frame = frame.tb_next
    return f"{type(exc).__name__} at {place}"
