"""Fuzz targets over every parser of bytes from outside, and one runner that counts inputs and escapes."""

from __future__ import annotations

import random
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FuzzTarget:
    """One parser under attack. `make_input` draws a hostile input (mostly mutations of valid ones);
    `feed` runs the parser on it and must return a value or a typed refusal: any exception is an escape."""

    name: str
    make_input: Callable[[random.Random], bytes]
    feed: Callable[[bytes], object]


@dataclass
class FuzzReport:
    """What one target did with `inputs` inputs; `escapes` holds the first few exceptions, each with its whole
    input (up to 64 KiB), so that a regression test can replay it."""

    name: str
    seed: int
    inputs: int = 0
    escape_count: int = 0
    escapes: list[tuple[bytes, str]] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.name}: {self.inputs} inputs, {self.escape_count} escapes (seed {self.seed})"


def run_target(target: FuzzTarget, inputs: int, seed: int, keep: int = 5) -> FuzzReport:
    """Feed `inputs` inputs drawn with `seed`; never stops at an escape, so the count is the whole truth."""
    rng = random.Random(f"{target.name}:{seed}")
    report = FuzzReport(target.name, seed)
    for _ in range(inputs):
        data = target.make_input(rng)
        report.inputs += 1
        try:
            target.feed(data)
        except Exception:  # an escape is exactly what is being counted
            report.escape_count += 1
            if len(report.escapes) < keep:
                report.escapes.append((data[:65536], traceback.format_exc(limit=4)))
    return report


def mutate(rng: random.Random, valid: bytes, alphabet: bytes = b"") -> bytes:
    """One random edit of a valid input: flip, insert, delete, truncate, duplicate or splice bytes."""
    data = bytearray(valid)
    for _ in range(rng.randint(1, 4)):
        choice = rng.randrange(6)
        at = rng.randrange(len(data) + 1)
        pool = alphabet or bytes(range(256))
        if choice == 0 and data:
            data[min(at, len(data) - 1)] ^= 1 << rng.randrange(8)
        elif choice == 1:
            data[at:at] = bytes(rng.choice(pool) for _ in range(rng.randint(1, 8)))
        elif choice == 2 and data:
            del data[at:at + rng.randint(1, 16)]
        elif choice == 3:
            del data[at:]
        elif choice == 4 and data:
            piece = data[at:at + rng.randint(1, 32)]
            data[at:at] = piece
        else:
            data[at:at + 1] = bytes([rng.randrange(256)])
    return bytes(data)


def all_targets() -> Iterable[FuzzTarget]:
    """Every registered target, module by module (each area of the code adds its own module here)."""
    from harness.fuzz import registry

    for make in registry.FACTORIES:
        yield from make()
