"""Patient histories: patients who come back, follow-ups that happen (or not).

A history is a layer over the visit sampler. Patient ``i``'s first visit is row ``i`` of
the flat sample (its own child of the seed; ``given=`` conditions it), so it follows the
network exactly. Everything after it draws from the patient's own stream (child ``i``
of another child of the seed), so a patient's visits depend on nothing but the seed and
their number: ``sample_patients(n)`` is the first n patients of ``sample_patients(m)``,
whatever the block size::

    root ─┬─ child 0: the first visits (the flat sampler, row i = patient i)
          └─ child 1 ─ child i: patient i's birth date, returns and follow-ups

- The patient: gender and birth date fixed (the birth date uniform among the days that
  give the first visit's age); the age at every later visit from the birth date.
- Return visits for new problems: a Poisson process from the day after the first visit
  to the window's end, ``history.return_rates[band]`` per patient-year (the band of the
  first visit), with day ``d`` weighted by the calendar's weight ``w(d)`` relative to
  the window's mean weight. Each is drawn from the network given the patient's gender,
  the age band at that date and the month (with a ``visit_month`` node): the exact
  cohort sampler, one evidence-adjusted network per combination.
- Follow-ups: a visit with ``follow_up = True`` is due on its ``follow_up_date`` (drawn
  as in the flat sample's extended columns); due after the window it is ``censored``;
  otherwise attended with ``history.attendance[category]`` (else a ``no-show``). The
  follow-up visit has the same diagnosis, its other nodes drawn from the network given
  gender, age band at that date, diagnosis and month; its own ``follow_up`` from
  ``history.repeat``. If the new age band makes that evidence impossible (a child's
  diagnosis at 15, say), the band is dropped from it, then the month.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import ArgumentError, ClinicSimError, ModelError
from .._random import SeedLike, as_seed_sequence, block_seed
from .._validate import check_int, shown
from ..model import MONTH_NODE, ClinicModel, cached_by_content, cohort, day_weights
from ._sample import Sampler, _conditioned, _memory, _patient_ids

__all__ = ["HISTORY_COLUMNS", "KINDS", "MAX_PATIENTS", "OUTCOMES", "PATIENT_BLOCK",
           "PATIENT_COLUMNS", "PatientHistory", "PatientSampler", "patient_paths",
           "sample_patients", "write_patients"]

PATIENT_BLOCK = 4096  # patients made together; the output never depends on it
MAX_PATIENTS = 10**9
KINDS = ("first", "follow-up", "return")
OUTCOMES = ("attended", "no-show", "censored")
HISTORY_COLUMNS = ("visit_id", "visit_number", "visit_kind", "previous_visit_id",
                   "follow_up_date", "follow_up_outcome")
PATIENT_COLUMNS = ("patient_id", "gender", "birth_date", "first_visit", "last_visit")
VISIT_BYTES = 400  # peak bytes a visit takes while sample_patients builds its frame
_KIND = pd.CategoricalDtype(list(KINDS))
_OUTCOME = pd.CategoricalDtype(list(OUTCOMES))
_FIRST, _FOLLOW_UP, _RETURN = range(3)
_ATTENDED, _NO_SHOW, _CENSORED = range(3)


@dataclass(frozen=True)
class PatientHistory:
    """The visits of some patients and the patients themselves.

    ``visits``: the record columns (``patient_id``, ``visit_date``, ``age``, ``gender``,
    ``diagnosis``, ``treatment``, ``follow_up``, then the model's further nodes), then
    ``visit_id`` (``P0000001-01``), ``visit_number`` (1, 2, ... per patient, in date
    order), ``visit_kind`` (``first`` / ``follow-up`` / ``return``),
    ``previous_visit_id`` (for a follow-up, the visit that ordered it; else missing),
    ``follow_up_date`` (the due date where ``follow_up``) and ``follow_up_outcome``
    (``attended`` / ``no-show`` / ``censored``: due after the window). Rows are ordered
    by patient, then visit number.

    ``patients``: ``patient_id``, ``gender``, ``birth_date``, ``first_visit``,
    ``last_visit`` (dates). Unpacks as ``visits, patients = ...``.
    """

    visits: pd.DataFrame
    patients: pd.DataFrame

    def __iter__(self) -> Iterator[pd.DataFrame]:
        return iter((self.visits, self.patients))


def sample_patients(
    n: int,
    *,
    model: ClinicModel | str | os.PathLike[str] | None = None,
    seed: SeedLike = None,
    given: Mapping[str, object] | None = None,
) -> PatientHistory:
    """The visits of ``n`` patients over the model's visit window, and the patients.

    Parameters
    ----------
    n : int
        Number of patients, at least 1.
    model : ClinicModel, str or path, optional
        The model (its ``history:`` section, or the defaults); the default model if None.
    seed : int, SeedSequence, Generator or None
        Same seed and model give identical tables; the first n patients of
        ``sample_patients(n + 1)`` are those of ``sample_patients(n)``.
    given : mapping, optional
        Conditions every patient's first visit, as ``given=`` of :func:`clinicsim.sample`.

    Returns
    -------
    PatientHistory
        ``.visits`` and ``.patients`` (see :class:`~clinicsim.simulate.PatientHistory`).

    Examples
    --------
    >>> import clinicsim
    >>> visits, patients = clinicsim.sample_patients(3, seed=7)
    >>> visits[["visit_id", "visit_date", "age", "diagnosis", "visit_kind"]].iloc[2:6]
          visit_id visit_date  age      diagnosis visit_kind
    2  P0000002-02 2024-08-13   11  low_back_pain     return
    3  P0000002-03 2024-08-16   11         asthma     return
    4  P0000002-04 2024-10-04   12         asthma  follow-up
    5  P0000002-05 2024-12-09   12         asthma  follow-up
    >>> list(patients.columns)
    ['patient_id', 'gender', 'birth_date', 'first_visit', 'last_visit']
    """
    sampler = PatientSampler(model, seed=seed, n=n, given=given)
    need = sampler.n * 4 * VISIT_BYTES
    if need > _memory():
        raise ClinicSimError(
            f"`n`: {sampler.n:,} patients need about {need / 1e9:,.0f} GB of memory at once, "
            f"more than this machine's {_memory() / 1e9:,.0f} GB; sample fewer, or stream "
            "them to files (clinicsim sample --patients N -o visits.parquet)")
    parts = list(sampler.blocks())
    visits = pd.concat([v for v, _ in parts], ignore_index=True)
    patients = pd.concat([p for _, p in parts], ignore_index=True)
    return PatientHistory(visits, patients)


class PatientSampler:
    """A model compiled for the histories of ``n`` patients, made block by block.

    ``block(i)`` is the visits and patients of patients ``i * PATIENT_BLOCK`` up to the
    next block (or ``n``), each made from its own stream.
    """

    def __init__(self, model: ClinicModel | str | os.PathLike[str] | None, *, seed: SeedLike,
                 n: int, given: Mapping[str, object] | None = None) -> None:
        self.n = check_int(n, "n")
        if self.n > MAX_PATIENTS:
            raise ArgumentError(f"`n` must be at most {MAX_PATIENTS:,} patients, the limit "
                                f"MAX_PATIENTS; got {shown(n)}")
        root = as_seed_sequence(seed)
        self._first = Sampler(model, seed=block_seed(root, 0), engine="numpy", extended=True,
                              n=self.n, given=given)
        self._root = block_seed(root, 1)
        m = self.model = self._first.model
        self._c = _conditioned(m, None)
        self.nodes = m.nodes
        self.history = m.history
        window = m.visit_window
        self.start = np.datetime64(window.start, "D").astype(np.int64)
        self.end = np.datetime64(window.end, "D").astype(np.int64)
        _, weights = day_weights(window, window.start, window.end)
        self._cum = np.concatenate([[0.0], np.cumsum(weights)])
        self._mean_weight = self._cum[-1] / len(weights)
        ages = m.states("age_group")
        bands = m.age_bands
        self._band_lo = np.array([bands[b][0] for b in ages])
        self._band_hi = np.array([bands[b][1] for b in ages])
        self._rate = np.array([self.history.rate(b) for b in ages])
        categories = m.diagnosis_categories
        cats = [categories[d] for d in m.states("diagnosis")]
        self._attend = np.array([self.history.attend(c) for c in cats])
        longest = max(len(t) for _, t in self.history.repeat)
        self._repeat = np.array([[self.history.repeat_p(c, k) for k in range(1, longest + 1)]
                                 for c in cats])
        self._month = (np.array([m.states(MONTH_NODE).index(s) for s in _MONTHS])
                       if MONTH_NODE in self.nodes else None)
        # shared by the samplers of equal models: a combination is compiled once
        self._tables = _history_tables(m)

    @property
    def n_blocks(self) -> int:
        return -(-self.n // PATIENT_BLOCK)

    def blocks(self) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
        for i in range(self.n_blocks):
            yield self.block(i)

    # -- one block ------------------------------------------------------------------
    def block(self, index: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Visits and patients of block ``index``."""
        a, b = index * PATIENT_BLOCK, min((index + 1) * PATIENT_BLOCK, self.n)
        first = self._first.rows(a, b)
        size = b - a
        k = len(self.nodes)
        rngs = [np.random.default_rng(block_seed(self._root, i)) for i in range(a, b)]
        t0 = first["visit_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
        age0 = first["age"].to_numpy()
        gender = first["gender"].cat.codes.to_numpy().astype(np.int32)
        band0 = first["age_group"].cat.codes.to_numpy()
        birth = np.empty(size, np.int64)
        # Returns: per patient a Poisson count, then days and node uniforms.
        ret_patient, ret_day, ret_u = [], [], []
        for p, rng in enumerate(rngs):
            birth[p] = _birth_day(int(t0[p]), int(age0[p]), rng.random())
            offset = int(t0[p] - self.start) + 1  # window days after the first visit
            lo = self._cum[offset]
            room = self._cum[-1] - lo
            expected = self._rate[band0[p]] / 365.25 * room / self._mean_weight
            count = int(rng.poisson(expected)) if room > 0 else 0
            if count:
                u = rng.random(count * (k + 1)).reshape(count, k + 1)
                day = np.searchsorted(self._cum, lo + u[:, 0] * room, side="right") - 1
                ret_patient.append(np.full(count, p))
                ret_day.append(self.start + np.clip(day, offset, len(self._cum) - 2))
                ret_u.append(u[:, 1:])
        visits = _Visits(size, k)
        true = self._c.follow_up_true
        codes0 = np.column_stack([
            np.where(first["follow_up"].to_numpy(), true.argmax(), true.argmin())
            if nd == "follow_up" else self._month_code(t0) if nd == MONTH_NODE
            else first[nd].cat.codes.to_numpy() for nd in self.nodes])
        visits.add(np.arange(size), t0, _FIRST, codes0, np.full(size, -1), np.zeros(size, int))
        if ret_patient:
            patient = np.concatenate(ret_patient)
            day = np.concatenate(ret_day)
            order = np.lexsort((day, patient))
            patient, day = patient[order], day[order]
            u = np.concatenate(ret_u)[order]
            codes = self._draw(gender[patient], self._band(birth[patient], day), None,
                               day, u)
            visits.add(patient, day, _RETURN, codes, np.full(len(day), -1),
                       np.zeros(len(day), int))
        self._chains(visits, rngs, gender, birth)
        return self._frames(a, visits, gender, birth, first)

    def _chains(self, visits: _Visits, rngs: list, gender: np.ndarray,
                birth: np.ndarray) -> None:
        """Follow-ups, generation by generation, each from its patient's stream."""
        k = len(self.nodes)
        dx_col, fu_col = self.nodes.index("diagnosis"), self.nodes.index("follow_up")
        true = self._c.follow_up_true
        fresh = np.arange(visits.count)
        while True:
            codes = visits.codes[fresh]
            pending = fresh[true[codes[:, fu_col]]]
            if not len(pending):
                return
            # Visits are added in patient order: each patient's draws come in a fixed order.
            pending = pending[np.lexsort((visits.seq[pending], visits.patient[pending]))]
            u = np.array([rngs[p].random(k + 3) for p in visits.patient[pending]])
            dx = visits.codes[pending, dx_col]
            day = visits.day[pending]
            due = self._c.dates.follow_up(day.astype("datetime64[D]"), dx, u[:, 0]
                                          ).astype(np.int64)
            visits.due[pending] = due
            censored = due > self.end
            attended = ~censored & (u[:, 1] < self._attend[dx])
            visits.outcome[pending] = np.where(censored, _CENSORED,
                                               np.where(attended, _ATTENDED, _NO_SHOW))
            go = pending[attended]
            if not len(go):
                return
            patient, day, dx = visits.patient[go], due[attended], dx[attended]
            number = visits.number[go] + 1
            codes = self._draw(gender[patient], self._band(birth[patient], day), dx, day,
                               u[attended][:, 3:])
            repeat = self._repeat[dx, np.minimum(number, self._repeat.shape[1]) - 1]
            codes[:, fu_col] = np.where(u[attended][:, 2] < repeat, true.argmax(), true.argmin())
            fresh = visits.add(patient, day, _FOLLOW_UP, codes, go, number)

    def _band(self, birth: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Age band codes at ``day``; ages past the last band stay in the last band."""
        age = _age(birth, day)
        band = np.searchsorted(self._band_lo, age, side="right") - 1
        order = np.argsort(self._band_lo)
        return order[np.clip(band, 0, len(order) - 1)] if len(age) else band

    def _draw(self, gender: np.ndarray, band: np.ndarray, dx: np.ndarray | None,
              day: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Node codes (rows x nodes) drawn from the network given each row's evidence,
        one uniform per node per row (``u``)."""
        columns = [gender, band, np.full(len(day), -1) if dx is None else dx,
                   self._month_code(day)]
        evidence = np.column_stack(columns)
        keys, inverse = np.unique(evidence, axis=0, return_inverse=True)
        out = np.empty((len(day), len(self.nodes)), np.int64)
        for j, key in enumerate(keys):
            rows = np.flatnonzero(inverse.ravel() == j)
            codes: list[np.ndarray] = []
            for table, uj in zip(self._tables_for(tuple(int(x) for x in key)), u[rows].T,
                                 strict=True):
                codes.append(table.draw(codes, np.ascontiguousarray(uj)))
            out[rows] = np.column_stack(codes)
        return out

    def _month_code(self, day: np.ndarray) -> np.ndarray:
        if self._month is None:
            return np.full(len(day), -1)
        months = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12
        return self._month[months]

    def _tables_for(self, key: tuple[int, ...]) -> list:
        """The compiled network given ``key`` (gender, band, diagnosis, month codes; -1:
        none), cached; impossible evidence drops the band, then the month."""
        if key not in self._tables:
            names = ("gender", "age_group", "diagnosis", MONTH_NODE)
            full = {nd: self.model.states(nd)[c] for nd, c in zip(names, key, strict=True)
                    if c >= 0}
            for drop in ((), ("age_group",), ("age_group", MONTH_NODE)):
                given = {nd: s for nd, s in full.items() if nd not in drop}
                try:
                    evidence = cohort(self.model, given)
                except ModelError:
                    continue
                self._tables[key] = _conditioned(self.model, evidence).tables
                break
            else:
                raise ModelError(f"given {full}: no history visit can be drawn, the evidence "
                                 "has probability 0 even without the age band and month")
        return self._tables[key]

    def _frames(self, start: int, visits: _Visits, gender: np.ndarray, birth: np.ndarray,
                first: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        n = visits.count
        order = np.lexsort((visits.seq[:n], visits.day[:n], visits.patient[:n]))
        rank = np.empty(n, np.int64)
        rank[order] = np.arange(n)
        patient = visits.patient[:n][order]
        counts = np.bincount(patient, minlength=len(birth))
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        number = np.arange(n) - starts[patient] + 1
        pids = np.asarray(_patient_ids(start, len(birth)), dtype=object)
        ids = np.array([f"{pids[p]}-{v:02d}" for p, v in zip(patient, number, strict=True)],
                       dtype=object)
        ref = visits.ref[:n][order]
        previous = np.where(ref >= 0, ids[rank[np.maximum(ref, 0)]], np.array(None))
        day = visits.day[:n][order]
        codes = visits.codes[:n][order]
        c = self._c
        due = visits.due[:n][order]
        outcome = visits.outcome[:n][order]
        has_fu = c.follow_up_true[codes[:, self.nodes.index("follow_up")]]
        data = {
            "patient_id": pd.array(pids[patient], dtype=pd.StringDtype("pyarrow")),
            "visit_date": _dates(day),
            "age": _age(birth[patient], day),
            "gender": self._cat("gender", gender[patient]),
            "diagnosis": self._cat("diagnosis", codes[:, self.nodes.index("diagnosis")]),
            "treatment": self._cat("treatment", codes[:, self.nodes.index("treatment")]),
            "follow_up": has_fu,
        }
        data |= {nd: self._cat(nd, codes[:, self.nodes.index(nd)]) for nd in c.extra}
        data |= {
            "visit_id": pd.array(ids, dtype=pd.StringDtype("pyarrow")),
            "visit_number": number,
            "visit_kind": pd.Categorical.from_codes(visits.kind[:n][order], dtype=_KIND),
            "previous_visit_id": pd.array(previous, dtype=pd.StringDtype("pyarrow")),
            "follow_up_date": np.where(has_fu, _dates(due), np.datetime64("NaT")).astype(
                "datetime64[s]"),
            "follow_up_outcome": pd.Categorical.from_codes(np.where(has_fu, outcome, -1),
                                                           dtype=_OUTCOME),
        }
        last = np.maximum.reduceat(day, starts)
        patients = pd.DataFrame({
            "patient_id": pd.array(pids, dtype=pd.StringDtype("pyarrow")),
            "gender": self._cat("gender", gender),
            "birth_date": _dates(birth),
            "first_visit": first["visit_date"].to_numpy(),
            "last_visit": _dates(last),
        })
        return pd.DataFrame(data), patients

    def _cat(self, node: str, codes: np.ndarray) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, dtype=self._c.dtypes[node])


def _no_tables(model: ClinicModel) -> dict[tuple[int, ...], list]:
    return {}


# The compiled networks given (gender, band, diagnosis, month), per model content.
_history_tables = cached_by_content(_no_tables, size=2)

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


class _Visits:
    """A block's visits as growing arrays, in the order they are made (``seq``)."""

    def __init__(self, size: int, k: int) -> None:
        cap = 4 * size + 16
        self.count = 0
        self.patient = np.empty(cap, np.int64)
        self.day = np.empty(cap, np.int64)
        self.kind = np.empty(cap, np.int8)
        self.codes = np.empty((cap, k), np.int64)
        self.ref = np.empty(cap, np.int64)  # the visit that ordered a follow-up, or -1
        self.number = np.empty(cap, np.int64)  # follow-up number in its chain; 0 otherwise
        self.due = np.zeros(cap, np.int64)
        self.outcome = np.full(cap, -1, np.int8)

    @property
    def seq(self) -> np.ndarray:
        return np.arange(len(self.patient))

    def add(self, patient, day, kind, codes, ref, number) -> np.ndarray:
        m = len(patient)
        need = self.count + m
        if need > len(self.patient):
            cap = max(need, 2 * len(self.patient))
            for name in ("patient", "day", "kind", "codes", "ref", "number", "due", "outcome"):
                old = getattr(self, name)
                new = np.zeros((cap, *old.shape[1:]), old.dtype)
                if name == "outcome":
                    new[:] = -1
                new[:self.count] = old[:self.count]
                setattr(self, name, new)
        s = slice(self.count, need)
        self.patient[s], self.day[s], self.kind[s] = patient, day, kind
        self.codes[s], self.ref[s], self.number[s] = codes, ref, number
        self.count = need
        return np.arange(s.start, s.stop)


def _years_before(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February in a common year
        return d.replace(year=d.year - years, day=28)


def _birth_day(t0: int, age: int, u: float) -> int:
    """A day number, uniform among the birth days that make ``age`` on day ``t0``."""
    visit = date(1970, 1, 1) + timedelta(days=t0)
    hi = _years_before(visit, age)
    lo = _years_before(visit, age + 1) + timedelta(days=1)
    span = (hi - lo).days + 1
    return (lo - date(1970, 1, 1)).days + min(int(u * span), span - 1)


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = days.astype("datetime64[D]")
    year = d.astype("datetime64[Y]")
    month = d.astype("datetime64[M]")
    return (year.astype(np.int64) + 1970, (month - year).astype(np.int64) + 1,
            (d - month).astype(np.int64) + 1)


def _age(birth: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Whole years from ``birth`` to ``day`` (birthdays on 29 February count on 1 March
    in common years)."""
    by, bm, bd = _ymd(birth)
    y, m, d = _ymd(day)
    return y - by - ((m < bm) | ((m == bm) & (d < bd))).astype(np.int64)


def _dates(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[s]")


# ---------------------------------------------------------------------------------------
# Streaming to files: visits and patients, written together, in patient blocks.


def patient_paths(output: str | os.PathLike[str]) -> tuple[Path, Path, bool]:
    """Where ``write_patients`` writes: ``visits.parquet`` -> itself and
    ``visits.patients.parquet``; ``DIR/`` -> ``DIR/visits.parquet`` and
    ``DIR/patients.parquet`` (the folder appears complete). The flag says "a folder".

    >>> [str(p) for p in patient_paths("clinic/visits.csv")[:2]]
    ['clinic/visits.csv', 'clinic/visits.patients.csv']
    """
    from ._stream import is_directory

    if is_directory(output):
        folder = Path(output)
        return folder / "visits.parquet", folder / "patients.parquet", True
    path = Path(output)
    return path, path.with_name(f"{path.stem}.patients{path.suffix}"), False


def write_patients(
    output: str | os.PathLike[str],
    n: int,
    *,
    model: ClinicModel | str | os.PathLike[str] | None = None,
    seed: SeedLike = None,
    given: Mapping[str, object] | None = None,
) -> tuple[int, int]:
    """Write the histories of ``n`` patients: the visits to ``output`` (``.csv``,
    ``.parquet``, ``.jsonl``) and the patients beside it (see :func:`patient_paths`);
    return (visits, patients) written.

    Patients are made and written a block at a time (memory is bounded by a block). Both
    files appear together when both are complete, or neither does.

    Examples
    --------
    >>> import pandas as pd
    >>> from clinicsim.simulate import write_patients
    >>> write_patients("visits.parquet", 100, seed=7)
    (247, 100)
    >>> pd.read_parquet("visits.patients.parquet").shape
    (100, 5)
    """
    import queue
    import threading

    from .._io import atomic_dir, check_name, output_folder, outputs_together
    from .._validate import check_path
    from ._writers import check_records_path, write_records

    check_name(check_path(output, "output"), "output")
    visits_path, patients_path, folder = patient_paths(output)
    if folder:
        output_folder(output)
    else:
        check_records_path(visits_path)
        check_records_path(patients_path)
    sampler = PatientSampler(model, seed=seed, n=n, given=given)
    blocks: queue.Queue = queue.Queue(maxsize=2)
    result: dict[str, object] = {}

    def patient_blocks() -> Iterator[pd.DataFrame]:
        while (item := blocks.get()) is not None:
            yield item

    def write_the_patients(path: Path) -> None:
        try:
            result["patients"] = write_records(patient_blocks(), path)
        except BaseException as error:  # re-raised in the caller's thread
            result["error"] = error
            while blocks.get() is not None:  # let the visits writer finish or fail
                pass

    def visit_blocks() -> Iterator[pd.DataFrame]:
        for visits, patients in sampler.blocks():
            blocks.put(patients)
            yield visits

    with outputs_together(), \
            (atomic_dir(output) if folder else contextlib.nullcontext(None)) as tmp:
        def where(path: Path) -> Path:  # inside the folder being made, or the path itself
            return path if tmp is None else tmp / path.name

        thread = threading.Thread(target=write_the_patients, args=(where(patients_path),))
        thread.start()
        try:
            rows = write_records(visit_blocks(), where(visits_path))
        finally:
            blocks.put(None)
            thread.join()
        if "error" in result:
            raise result["error"]  # type: ignore[misc]
    return rows, int(result["patients"])  # type: ignore[call-overload]
