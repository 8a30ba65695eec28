"""Speed and memory of clinicsim's sampling: one run, one table.

    python benchmarks/bench.py            # the full run (about 15 s on 2 cores)
    python benchmarks/bench.py --quick    # smaller sizes, for a smoke test

In-process times are the best of a few repetitions after a warm-up, measured as this
process's CPU time (``time.process_time``): the sampling is single-threaded and the
machines this runs on are often shared, where wall time mostly measures the neighbours.
The streaming row runs the CLI in a child process and gives its wall time, start-up
included, and its peak RSS from ``getrusage(RUSAGE_CHILDREN)``: the whole process,
interpreter, imports and buffers.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _timing import best_time

import clinicsim
from clinicsim.simulate import Sampler

RECORD_UNIFORMS = 3  # uniforms a row draws after the network: age, visit day, follow-up gap
# The example model: the default plus two further nodes (issue 22: <= 1.3x the default per row)
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "payment_clinic.yaml"


def full_records(n: int, engine: str, model=None) -> None:
    Sampler(model, seed=1, engine=engine, extended=False, n=n).rows(0, n)


def stream(n: int, folder: Path) -> tuple[float, float, int]:
    """Seconds, peak RSS (MiB) and file size of `clinicsim sample -n N -o F.parquet`."""
    out = folder / "bench.parquet"
    command = [sys.executable, "-m", "clinicsim", "sample", "-n", str(n), "--seed", "1",
               "-o", str(out)]
    start = time.perf_counter()
    subprocess.run(command, check=True, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    return seconds, peak_kib / 1024, out.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    args = parser.parse_args()
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    stream_rows = 2_000_000 if args.quick else 20_000_000
    k = len(clinicsim.default_model().nodes) + RECORD_UNIFORMS
    rng = np.random.default_rng(0)

    rows = []
    example = clinicsim.load_model(EXAMPLE)
    with tempfile.TemporaryDirectory(prefix="clinicsim-bench-") as folder:
        # First, while this process has no other children: the streaming run.
        seconds, peak, size = stream(stream_rows, Path(folder))
        full_records(10_000, "numpy")  # warm-up: imports, caches
        full_records(10_000, "pgmpy")
        for n in sizes:
            t_numpy = best_time(lambda n=n: full_records(n, "numpy"), 5)
            t_pgmpy = best_time(lambda n=n: full_records(n, "pgmpy"), 1 if n >= 1_000_000 else 3)
            t_limit = best_time(lambda n=n: rng.random(k * n), 5)
            rows.append((f"full records, {n:.0e} rows", f"{n / t_numpy:,.0f}",
                         f"{n / t_pgmpy:,.0f}", f"{t_pgmpy / t_numpy:.1f}x",
                         f"{t_numpy * 1e3:.1f} ms vs {t_limit * 1e3:.1f} ms = "
                         f"{t_numpy / t_limit:.1f}x"))
            full_records(10_000, "numpy", example)
            t_example = best_time(lambda n=n: full_records(n, "numpy", example), 5)
            rows.append((f"example model ({len(example.nodes)} nodes), {n:.0e} rows",
                         f"{n / t_example:,.0f}", "", "",
                         f"{t_example / t_numpy:.2f}x the default's time per row"))

    print(f"clinicsim {clinicsim.__version__}, numpy {np.__version__}, Python "
          f"{platform.python_version()}, {os.cpu_count()} CPUs ({platform.machine()})")
    print(f"limit: rng.random(k*n) with k = {k} uniforms per row\n")
    print("| run | numpy rows/s | pgmpy rows/s | numpy / pgmpy | numpy vs rng.random(k*n) |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"| stream {stream_rows:.0e} rows to Parquet (CLI) | {stream_rows / seconds:,.0f} | | | "
          f"{seconds:.1f} s, peak RSS {peak:,.0f} MiB, file {size / 2**20:,.0f} MiB |")
    report = getattr(clinicsim, "conformance_report", None)
    if report is None:
        print("| conformance report, 1e6 rows | (clinicsim.conformance_report not available) "
              "| | | |")
    else:
        records = clinicsim.sample(1_000_000, seed=1)
        t_report = best_time(lambda: report(records), 1)
        print(f"| conformance report, 1e6 rows | | | | {t_report:.2f} s |")


if __name__ == "__main__":
    main()
