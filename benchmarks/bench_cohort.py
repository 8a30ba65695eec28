"""Cohorts: the cost of ``given=`` against unconditional sampling and pgmpy's rejection.

    python benchmarks/bench_cohort.py            # 1e6 rows (about a minute on 2 cores)
    python benchmarks/bench_cohort.py --quick    # 1e5 rows, fewer pgmpy rows

The evidence, gender=other, diagnosis=low_back_pain, follow_up=True, has probability
about 1e-3 (on a root, a middle node and a leaf). Times are the best CPU time
(``time.process_time``) of a few repetitions after a warm-up, in this process: the
sampling is single-threaded and the machines are shared. "set-up" is the evidence check
and the evidence-adjusted tables (once per sampler). pgmpy's ``rejection_sample`` gets
the same evidence; its per-row cost grows like 1 / P(evidence).
"""

from __future__ import annotations

import argparse

from _timing import best_time

import clinicsim
from clinicsim._pgmpy import quiet_import
from clinicsim.model._cohort import cohort
from clinicsim.simulate import Sampler

EVIDENCE = {"gender": "other", "diagnosis": "low_back_pain", "follow_up": "True"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    n, pgmpy_rows, repeat = (100_000, 20, 2) if quick else (1_000_000, 100, 3)
    model = clinicsim.default_model()
    p = cohort(model, EVIDENCE).probability
    plain = best_time(lambda: clinicsim.sample(n, model=model, seed=1), repeat, warm_up=True)
    given = best_time(lambda: clinicsim.sample(n, model=model, seed=1, given=EVIDENCE),
                      repeat, warm_up=True)
    setup = best_time(lambda: Sampler(model, seed=1, engine="numpy", extended=False, n=1,
                                      given=EVIDENCE), repeat, warm_up=True)
    with quiet_import():
        from pgmpy.factors.discrete import State
        from pgmpy.sampling import BayesianModelSampling
    sampler = BayesianModelSampling(model.network)
    states = [State(k, v) for k, v in EVIDENCE.items()]
    rejection = best_time(lambda: sampler.rejection_sample(
        states, size=pgmpy_rows, seed=1, include_latents=True, show_progress=False),
        1, warm_up=True)

    print(f"evidence: {', '.join(f'{k}={v}' for k, v in EVIDENCE.items())}; "
          f"P(evidence) = {p:.2e}")
    print(f"{'what':44} {'rows':>10} {'seconds':>9} {'us/row':>9}")
    rows = [("clinicsim, unconditional", n, plain),
            ("clinicsim, given= (exact, no rejection)", n, given),
            ("clinicsim, given= set-up (per sampler)", 1, setup),
            ("pgmpy rejection_sample, same evidence", pgmpy_rows, rejection)]
    for label, k, seconds in rows:
        print(f"{label:44} {k:>10,} {seconds:9.3f} {seconds / k * 1e6:9.2f}")
    print(f"given / unconditional time: {given / plain:.2f}x (goal: <= 2x)")
    print(f"pgmpy rejection / clinicsim given, per row: "
          f"{(rejection / pgmpy_rows) / (given / n):,.0f}x")


if __name__ == "__main__":
    main()
