"""Type I error of the conformance report over many seeds, at sizes the test suite cannot
afford (``tests/analysis/test_calibration.py`` runs the smaller ones).

For each size n, correct samples of a model are drawn with seeds ``base + i`` and checked
against the same model; the table gives how many failed ``passed`` (and through which
family), with the 99.9% quantile of Binomial(seeds, alpha) as the bound a calibrated report
stays under in all but one run in a thousand.

    python benchmarks/calibration.py                       # the README's table (slow)
    python benchmarks/calibration.py --sizes 1000 --seeds 200 --alpha 0.1
    python benchmarks/calibration.py --model within-margin  # follow-up 0.318, target 0.30±0.02
    python benchmarks/calibration.py --power               # the power cases of the tests
    python benchmarks/calibration.py --model examples/payment_clinic.yaml --sizes 5000
    python benchmarks/calibration.py --model default --given diagnosis=type2_diabetes
"""

from __future__ import annotations

import argparse
import time

from scipy import stats

import clinicsim

# (rows, seeds): the README's table
TABLE = [(100, 2000), (1_000, 1000), (20_000, 500), (1_000_000, 200)]


def within_margin(model: clinicsim.ClinicModel, rate: float = 0.318) -> clinicsim.ClinicModel:
    """The model with every follow-up probability scaled so that the overall rate is ``rate``
    (inside the default target 0.30 ± 0.02)."""
    skewed = model.copy()
    table = skewed.cpd("follow_up")
    table.loc["True"] = table.loc["True"] * rate / float(model.marginal("follow_up")["True"])
    table.loc["False"] = 1.0 - table.loc["True"]
    skewed.set_cpd("follow_up", table)
    return skewed


def run(model: clinicsim.ClinicModel, n: int, seeds: int, alpha: float, base: int,
        given: dict | None = None) -> tuple[int, int, int, float]:
    """Failures of ``passed``, of ``targets_passed``, of ``model_passed``, and seconds
    (a cohort report when ``given`` is given: sampled and checked given it)."""
    failed = targets = modelled = 0
    start = time.perf_counter()
    for seed in range(base, base + seeds):
        records = clinicsim.sample(n, model=model, seed=seed, given=given)
        report = clinicsim.conformance_report(records, model, alpha=alpha, given=given)
        failed += not report.passed
        targets += not report.targets_passed
        modelled += not report.model_passed
    return failed, targets, modelled, time.perf_counter() - start


def power(seeds: int | None) -> None:
    """How often the skews of ``tests/analysis/test_calibration.py`` fail, at its sizes."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.analysis.test_calibration import POWER

    default = clinicsim.default_model()
    print("| skew | rows | seeds | failed | targets failed | model failed | seconds |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for case, (n, skew, change, cases) in POWER.items():
        generator = skew(default) if skew else default
        cases = cases[:seeds] if seeds else cases
        failed = targets = modelled = 0
        start = time.perf_counter()
        for seed in cases:
            records = generator.sample(n, seed=seed)
            report = clinicsim.conformance_report(change(records) if change else records,
                                                  generator)
            failed += not report.passed
            targets += not report.targets_passed
            modelled += not report.model_passed
        print(f"| {case} | {n:,} | {len(cases)} | {failed} | {targets} | {modelled} "
              f"| {time.perf_counter() - start:.0f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", help="rows (default: the table's)")
    parser.add_argument("--seeds", type=int, help="seeds per size (default: the table's)")
    parser.add_argument("--alpha", type=float, default=0.01)
    parser.add_argument("--base", type=int, default=100_000, help="first seed")
    parser.add_argument("--model", default="default",
                        help="within-margin, a preset or a model file (default: default)")
    parser.add_argument("--given", nargs="*", default=[], metavar="NODE=STATE",
                        help="a cohort report: sample and check given these")
    parser.add_argument("--power", action="store_true", help="the power table instead")
    args = parser.parse_args()
    if args.power:
        power(args.seeds)
        return
    if args.model == "within-margin":
        model = within_margin(clinicsim.default_model())
    else:
        model = clinicsim.load_model(args.model)
    given = dict(g.split("=", 1) for g in args.given) or None
    plan = [(n, args.seeds or dict(TABLE).get(n, 200)) for n in args.sizes] if args.sizes \
        else [(n, args.seeds or s) for n, s in TABLE]
    print(f"model {args.model}{f' given {given}' if given else ''}, alpha {args.alpha:g}, "
          f"seeds {args.base}..")
    print("| rows | seeds | failed | targets failed | model failed | bound (99.9%) | seconds |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n, seeds in plan:
        failed, targets, modelled, seconds = run(model, n, seeds, args.alpha, args.base, given)
        bound = int(stats.binom.ppf(0.999, seeds, args.alpha))
        print(f"| {n:,} | {seeds:,} | {failed} ({failed / seeds:.2%}) | {targets} | {modelled} "
              f"| {bound} | {seconds:.0f} |", flush=True)


if __name__ == "__main__":
    main()
