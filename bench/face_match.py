"""Face match timings (detect, align, embed, compare; medians), resident memory, and a Raspberry Pi 4 estimate."""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from firmware_app.identity.face import CardFace, FaceMatcher, LiveFace
from firmware_app.identity.face.quality import find_faces
from harness.camera.frames import card_photo, live_frame, load

RUNS = 15
PI4_SYSBENCH_EVENTS = 1477.83
"""Raspberry Pi 4, sysbench 1.0.20 `cpu --threads=1` (primes to 10000), events/s, as published in
"Raspberry Pi CPU Benchmarks", leoncode.co.uk/articles/raspberry-pi-benchmarks."""


def resident_mib() -> float:
    """VmRSS of this process from /proc (Linux, as on the terminal)."""
    match = re.search(r"VmRSS:\s+(\d+) kB", Path("/proc/self/status").read_text())
    return int(match.group(1)) / 1024 if match else float("nan")


def median_ms(action: Callable[[], object]) -> float:
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def sysbench_events() -> float | None:
    """This machine's single-thread sysbench figure (median of 3), run exactly as the published one."""
    binary = shutil.which("sysbench")
    if binary is None:
        return None
    figures = []
    for _ in range(3):
        output = subprocess.run(
            [binary, "cpu", "--threads=1", "--cpu-max-prime=10000", "--time=3", "run"],
            capture_output=True, text=True, check=True,
        ).stdout
        found = re.search(r"events per second:\s+([\d.]+)", output)
        if found:
            figures.append(float(found.group(1)))
    return statistics.median(figures) if figures else None


def main() -> None:
    baseline = resident_mib()
    matcher = FaceMatcher()
    models, config = matcher.models, matcher.config
    started = time.perf_counter()
    models.load()
    load_s = time.perf_counter() - started
    frame = live_frame(models, load("obama2.jpg"))
    photo = card_photo(models, load("obama.jpg"))
    rgb = np.ascontiguousarray(frame[:, :, ::-1])
    box = find_faces(models, rgb, config.detect_max_side, config.live_upsample, config.detection_threshold)[0]
    chip = models.align(rgb, box)
    live = matcher.check_live(frame)
    card = matcher.card_face(photo)
    assert isinstance(live, LiveFace) and isinstance(card, CardFace)
    embedding = models.embed(chip)

    figures = {
        "detect (640x480 live frame)": median_ms(
            lambda: find_faces(models, rgb, config.detect_max_side, config.live_upsample, config.detection_threshold)
        ),
        "align (5 landmarks + chip)": median_ms(lambda: models.align(rgb, box)),
        "embed (128-D descriptor)": median_ms(lambda: models.embed(chip)),
        "compare (distance)": median_ms(lambda: float(np.linalg.norm(embedding - card.embedding))),
        "quality gate, whole": median_ms(lambda: matcher.check_live(frame)),
        "card photo (decode, detect, align, embed)": median_ms(lambda: matcher.card_face(photo)),
        "per voter: gate + card + compare": median_ms(lambda: matcher.check(frame, photo)),
    }
    loaded = resident_mib()

    print(f"face match on this machine, median of {RUNS} runs (dlib HOG + ResNet, 1 thread)")
    for name, value in figures.items():
        print(f"  {name:46s} {value:9.3f} ms")
    print(f"  {'model load, once':46s} {load_s * 1000:9.1f} ms")
    print(f"resident memory: {baseline:.0f} MiB before the models, {loaded:.0f} MiB with them loaded and used")

    here = sysbench_events()
    if here is None:
        print("Raspberry Pi 4 estimate: needs sysbench (apt-get install sysbench) to measure this CPU's ratio")
        return
    ratio = here / PI4_SYSBENCH_EVENTS
    per_voter = figures["per voter: gate + card + compare"]
    print(f"Raspberry Pi 4 estimate: sysbench cpu single-thread here {here:.0f} events/s vs Pi 4 "
          f"{PI4_SYSBENCH_EVENTS} (leoncode.co.uk), ratio {ratio:.2f}")
    print(f"  per voter on a Pi 4: about {per_voter * ratio:.0f} ms "
          f"(detect {figures['detect (640x480 live frame)'] * ratio:.0f} ms, "
          f"embed {figures['embed (128-D descriptor)'] * ratio:.0f} ms x2)")
    print("  caveat: sysbench counts integer primes; dlib's SIMD (AVX here, NEON on the Pi) may widen the gap")


if __name__ == "__main__":
    main()
