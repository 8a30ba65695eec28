"""Records into databases against Parquet: one run, one table (issue 24).

    python benchmarks/databases.py            # 1,000,000 records
    python benchmarks/databases.py --quick    # 100,000 records

The records are sampled once and held in chunks of 100,000 rows; each row of the table is
the best wall time of a few writes of those chunks (wall time: DuckDB writes on its own
threads and PostgreSQL works in its server process, which this process's CPU time would
not count). PostgreSQL is the server at $CLINICSIM_TEST_POSTGRES, else a throwaway cluster
started by tools/postgres.sh (skipped if no server binary is installed). Targets: DuckDB
within 2x Parquet's time, PostgreSQL at >= 200,000 rows/s, the OMOP export within 3x.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

from clinicsim.simulate import Sampler
from clinicsim.simulate._writers import write_records

ROOT = Path(__file__).resolve().parents[1]


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def postgres() -> tuple[str | None, dict[str, str]]:
    url = os.environ.get("CLINICSIM_TEST_POSTGRES")
    if url:
        return url, {}
    started = subprocess.run(["bash", str(ROOT / "tools" / "postgres.sh"), "start"],
                             capture_output=True, text=True)
    if started.returncode != 0:
        return None, {}
    env = dict(line.removeprefix("export ").split("=", 1) for line in started.stdout.split("\n")
               if line)
    return env["CLINICSIM_TEST_POSTGRES"], env


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 100_000 if args.quick else 1_000_000
    repeat = 3
    chunks = list(Sampler(None, seed=1, engine="numpy", extended=False, n=n).chunks(100_000))
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        def file(name: str) -> float:
            def write() -> None:
                path = Path(folder, name)
                path.unlink(missing_ok=True)
                write_records(iter(chunks), path)
            return best(write, repeat)

        parquet = file("r.parquet")
        rows.append(("Parquet", parquet, "1.0x", ""))
        duckdb = file("r.duckdb")
        rows.append(("DuckDB file", duckdb, f"{duckdb / parquet:.1f}x",
                     "<= 2x Parquet: " + ("met" if duckdb <= 2 * parquet else "NOT met")))
        sqlite = file("r.sqlite")
        rows.append(("SQLite file", sqlite, f"{sqlite / parquet:.1f}x", ""))
        from clinicsim import default_model
        from clinicsim.db import write_omop

        model = default_model()
        for name, label in [("omop", "OMOP CSV folder"), ("omop.duckdb", "OMOP DuckDB")]:
            def omop(name: str = name) -> None:
                target = Path(folder, name)
                if target.is_dir():
                    import shutil
                    shutil.rmtree(target)
                target.unlink(missing_ok=True)
                write_omop(iter(chunks), target, model)
            seconds = best(omop, repeat)
            rows.append((label, seconds, f"{seconds / parquet:.1f}x", "<= 3x Parquet: "
                         + ("met" if seconds <= 3 * parquet else "NOT met")))
    url, env = postgres()
    if url is None:
        rows.append(("PostgreSQL COPY", float("nan"), "", "skipped: no server binary"))
    else:
        from clinicsim.db import write_postgres

        try:
            pg = best(lambda: write_postgres(iter(chunks), url, table="bench", replace=True),
                      repeat)
        finally:
            if env:
                subprocess.run(["bash", str(ROOT / "tools" / "postgres.sh"), "stop"],
                               env={**os.environ, **env}, capture_output=True)
        rate = n / pg
        rows.append(("PostgreSQL COPY", pg, f"{pg / parquet:.1f}x",
                     f"{rate:,.0f} rows/s; >= 200,000: " + ("met" if rate >= 2e5 else "NOT met")))
    print(f"{n:,} records, chunks of 100,000, best wall time of {repeat}")
    print(f"{'output':<18}{'seconds':>9}{'vs Parquet':>12}  target")
    for name, seconds, ratio, note in rows:
        print(f"{name:<18}{seconds:>9.2f}{ratio:>12}  {note}")


if __name__ == "__main__":
    main()
