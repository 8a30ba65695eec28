"""Exact queries: clinicsim's variable elimination against pgmpy's VariableElimination.

    python benchmarks/bench_query.py

Each row is one query on the default model; times are the best CPU time
(``time.process_time``) of a few repetitions after a warm-up. clinicsim's factors are
built once per model content (cached), as in real use; "first" is a fresh model's first
query, factor building included. pgmpy's object is built once per timing too.
"""

from __future__ import annotations

import time

from _timing import best_time

import clinicsim
from clinicsim._pgmpy import quiet_import

with quiet_import():
    from pgmpy.inference import VariableElimination


QUERIES = [
    ("marginal follow_up", ["follow_up"], {}),
    ("joint gender, age_group", ["gender", "age_group"], {}),
    ("P(age_group | follow_up=True)", ["age_group"], {"follow_up": "True"}),
    ("P(diagnosis | gender, month)", ["diagnosis"], {"gender": "other", "visit_month": "jan"}),
    ("P(gender, treatment | dx)", ["gender", "treatment"], {"diagnosis": "asthma"}),
]


def main() -> None:
    model = clinicsim.default_model()
    network = model.network
    print(f"{'query':34} {'clinicsim ms':>13} {'pgmpy ms':>10} {'ratio':>7}")
    for label, variables, evidence in QUERIES:
        ours = best_time(lambda v=variables, e=evidence: model.query(v, e), 20, warm_up=True)
        theirs = best_time(lambda v=variables, e=evidence: VariableElimination(network).query(
            v, evidence=e or None, joint=True, show_progress=False), 20, warm_up=True)
        print(f"{label:34} {ours * 1e3:13.3f} {theirs * 1e3:10.3f} {theirs / ours:6.1f}x")
    fresh = clinicsim.default_model()
    start = time.process_time()
    fresh.marginal("follow_up")
    print(f"{'first query of a fresh model':34} {(time.process_time() - start) * 1e3:13.3f}")


if __name__ == "__main__":
    main()
