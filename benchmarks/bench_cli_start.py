"""CLI start-up: wall time of `porter --help`, `porter inspect --help` and one inspect.

Each command runs in a fresh process --runs times; prints median and best.

Run: python benchmarks/bench_cli_start.py [--runs 10]
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORTER = Path(sys.executable).with_name("porter")


def wall(command: list[str], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        samples.append(time.perf_counter() - start)
    samples.sort()
    return samples[len(samples) // 2], samples[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, Python {platform.python_version()}")
    print(f"reproduce: python benchmarks/bench_cli_start.py --runs {args.runs}\n")
    sample = str(ROOT / "samples" / "face_det_lite_sample.tflite")
    commands = {
        "porter --help": [str(PORTER), "--help"],
        "porter inspect --help": [str(PORTER), "inspect", "--help"],
        "porter inspect sample --json": [str(PORTER), "inspect", sample, "--json"],
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
    }
    print(f"{'command':32} {'median s':>9} {'best s':>9}")
    for label, command in commands.items():
        median, best = wall(command, args.runs)
        print(f"{label:32} {median:9.3f} {best:9.3f}")
    print("\ntarget: porter --help under 0.3 s")


if __name__ == "__main__":
    main()
