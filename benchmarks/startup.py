"""Start-up: the README's main job against the floor of its own dependencies, one table.

    python benchmarks/startup.py              # 7 rounds
    python benchmarks/startup.py --runs 15    # steadier on a busy machine

Each round runs every command once, in turn (interleaved, so a neighbour's load falls on
all of them alike), after one warm-up round that is not counted. A command's figures are
the medians over the rounds of its wall time, its CPU time (user + system: less moved by a
busy machine's neighbours than wall time) and its peak RSS, of the whole child process
(``os.wait4``'s own resource usage of that child: interpreter, imports, buffers). The
floor is ``python -c "import numpy, pandas, pyarrow"``: no code that reads and writes
records starts faster. Goal (issue 9): the main job at most 1.5 times the floor.

The children run with bytecode caching on (``PYTHONDONTWRITEBYTECODE`` removed from their
environment), as an installed package runs: otherwise every run would compile clinicsim's
own sources again (about 70 ms), which no user's run does.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FLOOR = "import numpy, pandas, pyarrow"


def commands(folder: Path, n: int) -> dict[str, list[str]]:
    python = sys.executable
    sample = [python, "-m", "clinicsim", "sample", "-n", str(n), "--seed", "42",
              "-o", str(folder / "r.csv")]
    return {
        f'python -c "{FLOOR}"  (floor)': [python, "-c", FLOOR],
        'python -c "import clinicsim"': [python, "-c", "import clinicsim"],
        f"clinicsim sample -n {n} --seed 42 -o r.csv": sample,
        "... the same with --report r.html": [*sample, "--report", str(folder / "r.html")],
    }


def run(command: list[str], log: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of one run of ``command``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with open(log, "wb") as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):  # 1: the report ran and found a failure
        raise SystemExit(f"{' '.join(command)} exited {process.returncode}:\n{log.read_text()}")
    scale = 1024 if sys.platform != "darwin" else 1024 * 1024  # ru_maxrss: KiB (macOS: bytes)
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / scale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="rounds counted (default 7)")
    parser.add_argument("-n", type=int, default=5000, help="records sampled (default 5000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        jobs = commands(folder, args.n)
        figures: dict[str, list[tuple[float, float, float]]] = {name: [] for name in jobs}
        for round_ in range(args.runs + 1):
            for name, command in jobs.items():
                measured = run(command, folder / "stderr.txt")
                if round_:  # round 0 warms the file cache and writes the .pyc files
                    figures[name].append(measured)

    import clinicsim  # after the runs: the table's header only

    print(f"clinicsim {clinicsim.__version__} ({Path(clinicsim.__file__).parent}), Python "
          f"{platform.python_version()}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}; median of {args.runs} interleaved rounds\n")
    medians = {name: [statistics.median(column) for column in zip(*rows, strict=True)]
               for name, rows in figures.items()}
    floor = next(iter(medians.values()))
    print("| command | wall time | × floor | CPU time | × floor | peak RSS | × floor |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, (wall, cpu, peak) in medians.items():
        print(f"| `{name}` | {wall:.2f} s | {wall / floor[0]:.2f} | {cpu:.2f} s "
              f"| {cpu / floor[1]:.2f} | {peak:,.0f} MiB | {peak / floor[2]:.2f} |")


if __name__ == "__main__":
    main()
