"""Speed and memory of patient histories: one run, one table.

    python benchmarks/patients.py            # 10,000 and 100,000 patients
    python benchmarks/patients.py --quick    # 2,000 patients, a smoke test

Times are CPU seconds of this process (``time.process_time``, best of a few after a
warm-up; the machines this runs on are shared). The streaming row runs the CLI in a child
process: its wall time and peak RSS (``getrusage(RUSAGE_CHILDREN)``). The flat row samples
as many visits as the histories hold, to compare with the issue's bound (histories in at
most twice the flat sample's time).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _timing import best_time

import clinicsim
from clinicsim.model import history_expectations


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    sizes = [2_000] if parser.parse_args().quick else [10_000, 100_000]
    model = clinicsim.default_model()
    history_expectations(model.copy())  # warm-up (imports)
    copies = iter(range(10**6))

    def exact():
        fresh = model.copy()
        fresh.name = f"copy {next(copies)}"  # a new content key: computed, not cached
        history_expectations(fresh)

    print("| what | size | CPU s | per patient |")
    print("|---|---|---|---|")
    print(f"| exact expectations (default model) | - | {best_time(exact, 5):.3f} | - |")
    for n in sizes:
        visits = len(clinicsim.sample_patients(n, seed=1).visits)
        t = best_time(lambda n=n: clinicsim.sample_patients(n, seed=1), 2)
        flat = best_time(lambda v=visits: clinicsim.sample(v, seed=1), 2)
        print(f"| sample_patients | {n:,} patients ({visits:,} visits) | {t:.2f} | "
              f"{t / n * 1e6:.0f} µs |")
        print(f"| flat sample, as many visits | {visits:,} | {flat:.2f} | ratio {t / flat:.1f} |")
    n = sizes[-1]
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "visits.parquet"
        start = time.perf_counter()
        subprocess.run([Path(sys.executable).parent / "clinicsim", "sample", "--patients",
                        str(n), "--seed", "1", "-o", str(out)], check=True, capture_output=True)
        wall = time.perf_counter() - start
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"| CLI --patients to Parquet | {n:,} patients | {wall:.2f} wall | "
              f"peak RSS {rss:.0f} MiB |")


if __name__ == "__main__":
    main()
