"""Run every fuzz target for many inputs (default 10^6 each) and print inputs and escapes per target."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from harness.fuzz import all_targets, run_target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--inputs", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--only", default="", help="run only targets whose name contains this")
    parser.add_argument("--dump", type=Path, help="write each escaping input to this folder, to replay it")
    args = parser.parse_args()
    escapes = 0
    for target in all_targets():
        if args.only not in target.name:
            continue
        started = time.perf_counter()
        report = run_target(target, args.inputs, args.seed)
        rate = report.inputs / (time.perf_counter() - started)
        print(f"{report}  [{rate:,.0f} inputs/s]", flush=True)
        for number, (data, trace) in enumerate(report.escapes, start=1):
            print(f"  escape on {data[:200]!r}\n{trace}")
            if args.dump is not None:
                args.dump.mkdir(parents=True, exist_ok=True)
                (args.dump / f"{target.name}-{number}.bin").write_bytes(data)
        escapes += report.escape_count
    print(f"total escapes: {escapes}")
    return 1 if escapes else 0


if __name__ == "__main__":
    sys.exit(main())
