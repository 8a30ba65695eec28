"""The oracle's exact metrics: time to build ``model.oracle(target)`` (joint, posterior,
accuracy, log loss, Brier, AUC) on the default model, and to score 1,000,000 rows.

    python benchmarks/oracle.py

"first" is a fresh model's first call (its factors built); "again" the best CPU time of
ten repetitions on a model whose factors are cached (the joint itself is not).
"""

from __future__ import annotations

import time

from _timing import best_time

import clinicsim


def main() -> None:
    print(f"{'target':<12} {'first ms':>9} {'again ms':>9} {'auc':>7}")
    for target in ("follow_up", "diagnosis", "treatment", "gender"):
        model = clinicsim.default_model()
        start = time.process_time()
        best = model.oracle(target)
        first = time.process_time() - start
        again = best_time(lambda m=model, t=target: m.oracle(t), 10)
        print(f"{target:<12} {first * 1e3:9.1f} {again * 1e3:9.1f} {best.auc:7.4f}")
    model = clinicsim.default_model()
    records = model.sample(1_000_000, seed=1)
    best = model.oracle("follow_up")
    scoring = best_time(lambda: best.predict_proba(records), 3)
    print(f"predict_proba, 1,000,000 rows: {scoring:.2f} s")


if __name__ == "__main__":
    main()
