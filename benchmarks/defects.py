"""inject_defects on 1,000,000 sampled rows (in memory: reading is not timed).

    python benchmarks/defects.py

One row per kind alone, then the five together; CPU seconds, best of 3.
"""

from __future__ import annotations

from _timing import best_time

import clinicsim

FIVE = [{"kind": "missing", "column": "gender", "rate": 0.02},
        {"kind": "missing", "column": "treatment", "rate": 0.1,
         "given": {"diagnosis": "influenza"}},
        {"kind": "typo", "column": "diagnosis", "rate": 0.01},
        {"kind": "impossible_age", "rate": 0.005},
        {"kind": "label_noise", "rate": 0.05},
        {"kind": "duplicate", "rate": 0.01}]


def main() -> None:
    records = clinicsim.sample(1_000_000, seed=1, extended=True)
    print(f"{'defects':<34} {'cells':>8} {'s':>6}")
    for d in [*FIVE, {"kind": "outside_window", "rate": 0.01},
              {"kind": "swapped_date", "rate": 0.01}, {"kind": "wrong_code", "rate": 0.01},
              {"kind": "near_duplicate", "column": "gender", "rate": 0.01}]:
        cells = len(clinicsim.inject_defects(records, [d], seed=2).log)
        name = d["kind"] + (f" {d['column']}" if "column" in d else "")
        t = best_time(lambda d=d: clinicsim.inject_defects(records, [d], seed=2), 3)
        print(f"{name:<34} {cells:8,} {t:6.2f}")
    t = best_time(lambda: clinicsim.inject_defects(records, FIVE, seed=2), 3)
    cells = len(clinicsim.inject_defects(records, FIVE, seed=2).log)
    print(f"{'the first six together':<34} {cells:8,} {t:6.2f}")


if __name__ == "__main__":
    main()
