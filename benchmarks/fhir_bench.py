"""FHIR export speed and memory against JSON Lines of the same rows: one run, one table.

    python benchmarks/fhir_bench.py             # n = 1e6 (about a minute on 2 cores)
    python benchmarks/fhir_bench.py --n 100000  # smaller

Each row runs the CLI in its own child process (``clinicsim sample -n N --seed 1``) and
gives its wall time, start-up included, its CPU time and its peak RSS (``wait4``'s
``ru_maxrss``: the whole process). ``--format fhir`` also draws the extended columns
(``follow_up_date``), as the JSON Lines row does with ``--extended``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(args: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of ``python -m clinicsim ARGS``."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "clinicsim", *args],
                             stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if status:
        raise SystemExit(f"clinicsim {' '.join(args)} failed: {status}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.iterdir()) if path.is_dir() else path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=float, default=1e6)
    n = int(parser.parse_args().n)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cases = [("JSON Lines (--extended)", folder / "r.jsonl", ["--extended"], n),
                 ("FHIR NDJSON (--format fhir)", folder / "fhir", ["--format", "fhir"], None)]
        print(f"n = {n:,} records\n")
        print("| output | wall s | CPU s | peak RSS MiB | MB written | resources | "
              "resources/s (CPU) |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        cpu_jsonl = None
        for name, out, extra, resources in cases:
            target = f"{out}/" if out.suffix == "" else str(out)
            wall, cpu, rss = run(["sample", "-n", str(n), "--seed", "1", "-o", target, *extra])
            if resources is None:
                resources = sum(p.read_bytes().count(b"\n") for p in out.iterdir())
            else:
                cpu_jsonl = cpu
            print(f"| {name} | {wall:.1f} | {cpu:.1f} | {rss:.0f} | {size(out) / 1e6:,.0f} | "
                  f"{resources:,} | {resources / cpu:,.0f} |")
        print(f"\nFHIR CPU time / JSON Lines CPU time: {cpu / cpu_jsonl:.2f}")


if __name__ == "__main__":
    main()
