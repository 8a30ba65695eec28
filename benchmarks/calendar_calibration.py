"""Type I error and power of the checks of ages within bands, visit days, follow-up days
and the extended columns (issue 22), over many seeds.

    python benchmarks/calendar_calibration.py [--seeds 200] [--sizes 5000 20000]

Type I: correct samples (``extended=True``) of the default model and of ``us-office-visits``;
for each new check, how often its own p-value is below 0.01 (``raw``) and how often it
fails in the report (Holm within the model family, ``failed``); and how often the report
fails. Bound: the 99.9% quantile of Binomial(seeds, 0.01). Power: the broken cases of the
issue, each checked against the model that drew it.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

import numpy as np
import pandas as pd
from scipy import stats

import clinicsim

NEW = ("model: age within band", "model: visit_date day within month",
       "model: follow_up_date day within its interval", "records: diagnosis_code",
       "records: diagnosis_category", "records: follow_up_date")


def uniform_weekdays(records: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Each visit moved to a uniformly chosen day of its own month (Sunday 1/7)."""
    visit = records.visit_date.to_numpy("datetime64[D]")
    month = visit.astype("datetime64[M]")
    length = ((month + 1).astype("datetime64[D]") - month.astype("datetime64[D]")).astype(int)
    day = month.astype("datetime64[D]") + (rng.random(len(visit)) * length).astype(int)
    return records.assign(visit_date=day.astype("datetime64[s]"))


def half_ages(model: clinicsim.ClinicModel):
    """Every other age of each band never drawn: an odd offset in the band moves down."""
    bands = model.age_bands

    def change(records: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        low = records.age_group.map({b: lo for b, (lo, _) in bands.items()}).astype(int)
        age = low + (records.age - low) // 2 * 2
        return records.assign(age=age)
    return change


def early_follow_up(records: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """1% of the rows with a follow-up get one the day before the visit."""
    rows = np.flatnonzero(records.follow_up.to_numpy())
    chosen = rng.choice(rows, max(1, len(records) // 100), replace=False)
    dates = records.follow_up_date.copy()
    dates.iloc[chosen] = records.visit_date.iloc[chosen] - pd.Timedelta(days=1)
    return records.assign(follow_up_date=dates)


def wrong_codes(records: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """1% of the rows get another diagnosis's code."""
    codes = records.diagnosis_code.astype(str).to_numpy(object)
    chosen = rng.choice(len(codes), max(1, len(codes) // 100), replace=False)
    codes[chosen] = np.roll(codes[chosen], 1)
    same = codes[chosen] == records.diagnosis_code.astype(str).to_numpy(object)[chosen]
    codes[chosen[same]] = "Z99.99"
    return records.assign(diagnosis_code=codes)


def early_days(records: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Every follow-up moved to the first day of its interval (all inside it)."""
    model = clinicsim.default_model()
    lo = records.diagnosis_category.astype(str).map(
        {c: a for c, (a, _) in model.follow_up_days.items()})
    moved = records.visit_date + pd.to_timedelta(lo, unit="D")
    return records.assign(follow_up_date=records.follow_up_date.where(
        records.follow_up_date.isna(), moved))


def skewed_payment(model: clinicsim.ClinicModel, shift: float):
    """Private insurance moved to self-pay: in each age band, each private row with
    probability ``shift / P(private | band)``, so every band loses ``shift`` of its rows."""
    private = model.cpd("payment").loc["private_insurance"]

    def change(records: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        p = shift / records.age_group.astype(str).map(private).to_numpy(float)
        move = (records.payment == "private_insurance").to_numpy() & (rng.random(len(p)) < p)
        payment = records.payment.copy()
        payment[move] = "self_pay"
        return records.assign(payment=payment)
    return change


def run(model, n, seeds, change=None, base=0, given=None):
    raw: Counter[str] = Counter()  # every check's, the NEW ones printed
    failed: Counter[str] = Counter()
    reports = 0
    for seed in range(base, base + seeds):
        records = clinicsim.sample(n, model=model, seed=seed, extended=True, given=given)
        if change is not None:
            records = change(records, np.random.default_rng(10**6 + seed))
        report = clinicsim.conformance_report(records, model, given=given)
        reports += not report.passed
        for c in report.checks:
            raw[c.name] += (c.pvalue is not None and c.pvalue < 0.01
                            if c.kind == "model" else not c.passed)
            failed[c.name] += not c.passed
    return raw, failed, reports


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000])
    parser.add_argument("--power", action="store_true")
    parser.add_argument("--cohorts", action="store_true", help="cohort reports instead")
    parser.add_argument("--model", help="a preset or model file instead of both presets "
                        "(its own half-ages case too)")
    args = parser.parse_args()
    seeds = args.seeds
    print(f"bound (99.9% quantile of Binomial({seeds}, 0.01)): "
          f"{int(stats.binom.ppf(0.999, seeds, 0.01))}")
    default = clinicsim.default_model()
    office = clinicsim.load_model("us-office-visits")
    if args.model:  # one model for every row, the half-ages case on it too
        default = office = clinicsim.load_model(args.model)
    if not args.power:
        configs = [("default", default, None), ("us-office-visits", office, None)]
        if args.model:
            configs = [(args.model, default, None)]
        if args.cohorts:
            configs = [("default given age 30-70", default, {"age": (30, 70)}),
                       ("default given diagnosis=type2_diabetes", default,
                        {"diagnosis": "type2_diabetes"}),
                       ("us-office-visits given gender=female, age 65-89", office,
                        {"gender": "female", "age": (65, 89)})]
        for name, model, given in configs:
            for n in args.sizes:
                t = time.perf_counter()
                raw, failed, reports = run(model, n, seeds, base=50_000, given=given)
                print(f"type I {name} n={n:,}: report failed {reports}/{seeds}; "
                      + "; ".join(f"{k}: p<0.01 {raw[k]}, failed {failed[k]}" for k in NEW)
                      + f" ({time.perf_counter() - t:.0f} s)")
        return
    cases = [("uniform weekdays", default, 20_000, uniform_weekdays,
              "model: visit_date day within month"),
             ("uniform weekdays", default, 5_000, uniform_weekdays,
              "model: visit_date day within month"),
             ("us-office-visits half the ages of each band", office, 20_000, half_ages(office),
              "model: age within band"),
             ("us-office-visits half the ages of each band", office, 5_000, half_ages(office),
              "model: age within band"),
             ("1% follow_up_date the day before the visit", default, 5_000, early_follow_up,
              "records: follow_up_date"),
             ("1% wrong diagnosis_code", default, 5_000, wrong_codes,
              "records: diagnosis_code"),
             ("every follow-up on its interval's first day", default, 5_000, early_days,
              "model: follow_up_date day within its interval")]
    if args.model:
        cases = [(label.replace("us-office-visits", args.model), *rest)
                 for label, *rest in cases]
    if "payment" in default.nodes:  # the example model: its payment shares skewed
        for n in (5_000, 20_000):
            shift = 0.02 + 6 * (0.25 / n) ** 0.5  # the margin and six standard errors
            cases.append((f"private insurance -{shift:.3f} to self-pay in every band", default,
                          n, skewed_payment(default, shift), "target: share payment"))
    for label, model, n, change, check in cases:
        raw, failed, reports = run(model, n, seeds, change, base=90_000)
        also = "; model: marginal payment failed " \
            f"{failed['model: marginal payment']}/{seeds}" if "payment" in check else ""
        print(f"power {label} n={n:,}: report failed {reports}/{seeds}; {check} failed "
              f"{failed[check]}/{seeds}{also}")


if __name__ == "__main__":
    main()
