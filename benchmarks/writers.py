"""Writers: wall time and peak memory of ``clinicsim sample`` to each output format.

    python benchmarks/writers.py                 # 4e6 rows, best of 3 runs per format
    python benchmarks/writers.py -n 20000000 --repeat 1
    PYTHONPATH=/other/checkout/src python benchmarks/writers.py   # another version's code

Each run is the whole command in a child process, start-up included:
``python -m clinicsim sample -n N --seed 7 -o FILE`` (``> FILE`` for standard output).
Wall time is the best of ``--repeat`` runs, taken in rotation over the formats so that
a busy neighbour slows them alike; peak RSS is the child's own (``os.wait4``), the
largest over its runs. The goals (issue 13) are checked on the ratios to Parquet.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOALS = {".csv": 1.5, ".jsonl": 2.5}  # at most this many times the Parquet wall time
RSS_LIMIT_MIB = 600
FORMATS = {  # label: output name ("-" = standard output)
    "Parquet": "r.parquet",
    "Parquet, partitioned (DIR/)": "parts/",
    "CSV": "r.csv",
    "CSV to standard output": "-",
    "JSONL": "r.jsonl",
}


def run(n: int, output: str | None, folder: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one ``clinicsim sample`` in a child process."""
    command = [sys.executable, "-m", "clinicsim", "sample", "-n", str(n), "--seed", "7"]
    stdout = subprocess.DEVNULL
    if output is None:
        stdout = open(folder / "stdout.csv", "wb")  # noqa: SIM115 (closed below)
    else:
        command += ["-o", output]
    try:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=stdout, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
    finally:
        if output is None:
            stdout.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{child.stderr.read().decode()}")
    child.stderr.close()
    return seconds, usage.ru_maxrss / 1024  # KiB on Linux


def size_of(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.iterdir())
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=4_000_000, help="rows (default 4e6)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per format (best wall)")
    args = parser.parse_args()

    import clinicsim  # the version under test, as the children will import it

    wall: dict[str, float] = {}
    peak: dict[str, float] = {}
    size: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="clinicsim-writers-") as tmp:
        folder = Path(tmp)
        for _ in range(args.repeat):
            for label, name in FORMATS.items():
                output = None if name == "-" else f"{folder}{os.sep}{name}"  # keeps "DIR/"
                seconds, rss = run(args.n, output, folder)
                target = folder / ("stdout.csv" if output is None else name)
                size[label] = size_of(target)
                if target.is_dir():
                    for part in target.iterdir():
                        part.unlink()
                    target.rmdir()
                else:
                    target.unlink()
                wall[label] = min(wall.get(label, float("inf")), seconds)
                peak[label] = max(peak.get(label, 0.0), rss)

    print(f"clinicsim {clinicsim.__version__} ({Path(clinicsim.__file__).parent}), Python "
          f"{platform.python_version()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print(f"`clinicsim sample -n {args.n:,} --seed 7 -o FILE`, whole command, best wall of "
          f"{args.repeat}\n")
    print("| format | wall | × Parquet | goal | peak RSS | file |")
    print("|---|---:|---:|---|---:|---:|")
    base = wall["Parquet"]
    verdicts = []
    for label, name in FORMATS.items():
        ratio = wall[label] / base
        goal = GOALS.get(Path(name).suffix or (".csv" if name == "-" else ""))
        ok_time = goal is None or ratio <= goal
        ok_rss = peak[label] < RSS_LIMIT_MIB
        verdicts.append(ok_time and ok_rss)
        goal_text = (f"≤ {goal}× {'ok' if ok_time else 'MISSED'}" if goal else "") + \
            f"; RSS {'ok' if ok_rss else 'MISSED'}"
        print(f"| {label} | {wall[label]:.2f} s | {ratio:.2f} | {goal_text.lstrip('; ')} | "
              f"{peak[label]:,.0f} MiB | {size[label] / 2**20:,.0f} MiB |")
    print(f"\ngoals ({', '.join(f'{s[1:].upper()} ≤ {g}×' for s, g in GOALS.items())} Parquet; "
          f"peak RSS < {RSS_LIMIT_MIB} MiB): {'met' if all(verdicts) else 'NOT met'}")


if __name__ == "__main__":
    main()
