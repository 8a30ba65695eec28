"""The report on a patient history (a table with ``visit_id``, ``visit_kind`` and
``previous_visit_id``, as :func:`clinicsim.sample_patients` makes it).

A history is not a table with repeating ids: :func:`conformance_report` recognises it by
those columns, checks its first visits as a records table (they are a sample of the
network) and adds:

- **records: history ...** — temporal consistency row by row, each invalid row named:
  one gender per patient, ages that one birth date explains (age from the birth date and
  the visit date), visits numbered 1, 2, ... in date order with one first visit, dates
  inside the window, ``previous_visit_id`` resolving to an earlier visit of the same
  patient that ordered a follow-up, due on this visit's date, with the same diagnosis.
- **model: history ...** — the visits per patient against the model's exact distribution
  (Cressie–Read goodness of fit, cells pooled to 5 expected), and the share of patients
  with a follow-up visit against its exact value (exact binomial test). Both are model
  checks, in that family's Holm adjustment.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._errors import RecordsError
from ..model import ClinicModel, history_expectations
from ._checks import MODEL_LAMBDA, gof
from ._result import CheckResult

__all__ = ["HISTORY_COLUMNS", "history_checks", "is_history"]

HISTORY_COLUMNS = ("visit_id", "visit_number", "visit_kind", "previous_visit_id")
DROPPED = (*HISTORY_COLUMNS, "follow_up_outcome")


def is_history(records: object) -> bool:
    """A table with the columns of a history."""
    return isinstance(records, pd.DataFrame) and all(c in records for c in HISTORY_COLUMNS)


def _validity(name: str, bad: np.ndarray, what: str, n: int) -> CheckResult:
    rows = np.flatnonzero(bad)
    detail = ("every row is consistent" if not len(rows) else
              f"{len(rows):,} of {n:,} rows {what} (rows {', '.join(str(r + 1) for r in rows[:3])}"
              + (", ...)" if len(rows) > 3 else ")"))
    return CheckResult(f"records: history {name}", "validity", float(len(rows)), None,
                       len(rows) / n if n else 0.0, None, not len(rows), detail,
                       kind="records", node=name, rows=n)


def _days(column: pd.Series) -> np.ndarray:
    """Day numbers (NaT as the int64 minimum)."""
    return pd.to_datetime(column, errors="coerce").to_numpy().astype("datetime64[D]") \
        .astype(np.int64)


def _shift_years(days: np.ndarray, years: np.ndarray) -> np.ndarray:
    """``days`` moved back ``years`` years (29 February to 28 February)."""
    d = days.astype("datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    month = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    y = y - years
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    day = np.where((month == 2) & (day == 29) & ~leap, 28, day)
    start = ((y - 1970).astype("datetime64[Y]").astype("datetime64[M]")
             + (month - 1).astype("timedelta64[M]")).astype("datetime64[D]")
    return (start + (day - 1).astype("timedelta64[D]")).astype(np.int64)


def history_checks(visits: pd.DataFrame, model: ClinicModel
                   ) -> tuple[list[CheckResult], list[CheckResult], pd.DataFrame, dict]:
    """(validity checks, model checks, the first visits as a records table, the figure data
    of the per-patient figures, drawn by :mod:`._history_figures`)."""
    v = visits.reset_index(drop=True)
    n = len(v)
    required = ("patient_id", "visit_date", "age", "gender", "diagnosis", "follow_up")
    missing = [c for c in required if c not in v]
    if missing:
        raise RecordsError(f"the history lacks columns {missing}")
    pid = v["patient_id"].astype(str).to_numpy()
    day = _days(v["visit_date"])
    nat = np.iinfo(np.int64).min
    validity = []
    # one gender per patient
    genders = v.groupby(pid, sort=False)["gender"].transform(lambda s: s.astype(str).nunique())
    validity.append(_validity("gender", genders.to_numpy() > 1,
                              "belong to a patient recorded with several genders", n))
    # one birth date explains every age: birth in (date - (age+1) y, date - age y]
    age = pd.to_numeric(v["age"], errors="coerce").fillna(-1).astype(np.int64).to_numpy()
    ok = (day != nat) & (age >= 0)
    lo = np.where(ok, _shift_years(np.where(ok, day, 0), np.where(ok, age + 1, 0)) + 1, 0)
    hi = np.where(ok, _shift_years(np.where(ok, day, 0), np.where(ok, age, 0)), 0)
    frame = pd.DataFrame({"p": pid, "lo": lo, "hi": hi})
    latest_lo = frame.groupby("p", sort=False)["lo"].transform("max").to_numpy()
    earliest_hi = frame.groupby("p", sort=False)["hi"].transform("min").to_numpy()
    validity.append(_validity("age", ~ok | (latest_lo > earliest_hi),
                              "have ages that no single birth date gives at their visit dates",
                              n))
    # order: numbered 1..k in date order, one first visit, numbered 1
    number = pd.to_numeric(v["visit_number"], errors="coerce").fillna(-1).to_numpy()
    order = np.lexsort((number, pid))
    expected = np.empty(n, np.int64)
    sorted_pid = pid[order]
    starts = np.r_[True, sorted_pid[1:] != sorted_pid[:-1]]
    group_start = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    expected[order] = np.arange(n) - group_start + 1
    earlier = np.r_[False, (day[order][1:] < day[order][:-1]) & ~starts[1:]]
    backwards = np.zeros(n, bool)
    backwards[order] = earlier
    kind = v["visit_kind"].astype(str).to_numpy()
    validity.append(_validity(
        "order", (number != expected) | backwards | ((kind == "first") != (number == 1)),
        "are out of order (visit numbers 1, 2, ... in date order, the first visit number 1)", n))
    window = model.visit_window
    first, last = (np.datetime64(d, "D").astype(np.int64) for d in (window.start, window.end))
    validity.append(_validity("window", (day < first) | (day > last),
                              f"are outside the visit window {window.start}..{window.end}", n))
    # links: a follow-up's previous visit is an earlier visit of the patient that ordered
    # it, due on this date, with the same diagnosis
    ids = v["visit_id"].astype(str).to_numpy()
    index = pd.Index(ids)
    prev = v["previous_visit_id"]
    has_prev = prev.notna().to_numpy()
    follow = kind == "follow-up"
    at = index.get_indexer(pd.Index(prev.astype(str).where(prev.notna(), "")))
    found = at >= 0
    j = np.where(found, at, 0)
    due = _days(v["follow_up_date"]) if "follow_up_date" in v else np.full(n, nat)
    fu = v["follow_up"].astype(str).str.lower().isin(["true", "1"]).to_numpy()
    dx = v["diagnosis"].astype(str).to_numpy()
    broken = (follow != has_prev) | (has_prev & ~found)
    broken |= follow & found & ((pid[j] != pid) | (day[j] >= day) | ~fu[j] | (dx[j] != dx))
    validity.append(_validity("link", broken, "have a previous_visit_id that does not resolve "
                              "to an earlier visit of the patient, with a follow-up and the same "
                              "diagnosis (or a follow-up without one)", n))
    validity.append(_validity("due date", follow & found & (due[j] != day),
                              "are follow-ups not on the due date of the visit that ordered them",
                              n))
    validity.append(_validity("visit_id", index.duplicated(keep=False),
                              "repeat a visit_id", n))
    modelled, figures = _statistics(pid, follow, model)
    first_visits = v[kind == "first"].drop(columns=[c for c in DROPPED if c in v])
    return validity, modelled, first_visits.reset_index(drop=True), figures


def _statistics(pid: np.ndarray, follow: np.ndarray, model: ClinicModel
                ) -> tuple[list[CheckResult], dict]:
    """The per-patient checks, and the data of their figures: patients per visit count and
    with a follow-up visit, beside the model's exact values."""
    e = history_expectations(model)
    counts = pd.Series(1, index=pid).groupby(level=0, sort=False).size()
    patients = len(counts)
    top = int(max(counts.max(), e.visits.index.max()))
    observed = np.bincount(counts.to_numpy(), minlength=top + 1)[1:]
    exact = np.zeros(top)
    exact[e.visits.index.to_numpy() - 1] = e.visits.to_numpy()
    probs = np.where(exact > 0, exact, 1e-300)  # a count the model never gives still counts
    fit = gof(observed, probs / probs.sum(), MODEL_LAMBDA)
    out = []
    if fit is not None:
        statistic, df, p = fit
        mean = float(counts.mean())
        out.append(CheckResult(
            "model: history visits per patient",
            f"Cressie–Read goodness of fit against the exact distribution (df {df})",
            statistic, p, mean - e.mean_visits, None, True,
            f"mean {mean:.3f} visits per patient; exact {e.mean_visits:.3f}",
            kind="model", node="visits per patient", rows=patients))
    from scipy.stats import binomtest

    with_follow_up = int(pd.Series(follow, index=pid).groupby(level=0, sort=False).any().sum())
    test = binomtest(with_follow_up, patients, e.follow_up_share)
    share = with_follow_up / patients
    out.append(CheckResult(
        "model: history share of patients with a follow-up visit", "exact binomial test",
        float(with_follow_up), float(test.pvalue), share - e.follow_up_share, None, True,
        f"{share:.4f} of {patients:,} patients; exact {e.follow_up_share:.4f}",
        kind="model", node="follow-up patients", rows=patients))
    figures = {"history": {"visits": list(range(1, top + 1)), "patients": observed.tolist(),
                           "exact": exact.tolist(), "n": patients,
                           "follow_up": with_follow_up, "follow_up_exact": e.follow_up_share},
               "extra_figures": ["history:visits", "history:follow_up"],
               "extra_title": "Per-patient figures: the history against the model's exact "
                              "values",
               "extra_outline": "Per-patient figures"}
    return out, figures
