"""Fitting the default model's CPDs to ten target statements (issue 11).

    python benchmarks/bench_fit.py

Prints one table row per case: best CPU time (``time.process_time``) of a few repetitions
after a warm-up, and the largest residual of the fitted model's exact values.
"""

from __future__ import annotations

import time

import clinicsim
from clinicsim.model._fit import fit_statements
from clinicsim.model._metadata import CATEGORIES
from clinicsim.model._targets import Rate, parse_statements, statements_from_targets


def statements_for(model):
    cats = model.query(["diagnosis"]).groupby(model.diagnosis_categories).sum()
    spec = [{"rate": {"follow_up": "True"}, "value": 0.40, "margin": 0.02,
             "where": {"diagnosis_category": [c]}} for c in ("chronic", "surgical", "viral")]
    spec += [{"share": "age_group", "values": model.marginal("age_group").to_dict(),
              "margin": 0.02},
             {"share": "diagnosis_category", "margin": 0.02,
              "values": {c: float(cats.get(c, 0.0)) for c in CATEGORIES}},
             {"rate": {"treatment": model.states("treatment")[0]}, "value": 0.30,
              "margin": 0.02}]
    states = {n: model.states(n) for n in model.nodes}
    return statements_from_targets(model.targets) + parse_statements(spec, states)


def main() -> None:
    model = clinicsim.default_model()
    statements = statements_for(model)
    fit_statements(model, statements)
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        fitted = fit_statements(model, statements)
        best = min(best, time.process_time() - start)
    rates = [s for s in statements if isinstance(s, Rate) and not s.where]
    worst = max(abs(fitted.marginal(s.node)[s.state] - s.value) for s in rates)
    print(f"{'case':<42} {'statements':>10} {'best s':>8} {'residual':>10}")
    print(f"{'default model, brief + six statements':<42} {len(statements):>10} {best:>8.4f} "
          f"{worst:>10.1e}")


if __name__ == "__main__":
    main()
