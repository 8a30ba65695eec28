"""The Bayes-optimal predictor of one node from record columns, and its exact metrics.

The joint table P(target, features) is computed once by the model's own variable
elimination (:mod:`._inference`); the posterior P(target | features) of every feature
pattern is that table normalised, and each metric is a sum over the patterns weighted by
their exact probability, so no metric is estimated from a sample. A records table is
predicted by looking its rows' patterns up in the posterior table (one flat index per row).

Record columns map to nodes by the model's own rules: ``age`` to its ``age_group`` band,
``visit_date`` to the ``visit_month`` node (when the model has one), ``diagnosis_code`` to
``diagnosis``, a node's own column to itself. ``patient_id`` carries no information, and a
date's day within its month none either beyond the month.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._errors import ArgumentError, ModelError
from .._reference import MONTHS
from .._validate import shown
from ._calendar import MONTH_NODE
from ._inference import factors, joint

if TYPE_CHECKING:
    from ._model import ClinicModel

__all__ = ["Oracle", "oracle"]

# Columns that are a function of a node (or the node of another column): they state the
# label outright when that node is the target, so they are never default features.
_LEAKS = {"follow_up": ("follow_up_date",),
          "diagnosis": ("diagnosis_code", "diagnosis_category"),
          "age_group": ("age",),
          MONTH_NODE: ("visit_date",)}
_TIES = 1e-12  # posteriors closer than this are one score (equal up to rounding)


def _column_nodes(model: ClinicModel) -> dict[str, str]:
    """Record column -> the node whose state it determines (columns carrying information)."""
    mapping = {"age": "age_group", "age_group": "age_group", "diagnosis_code": "diagnosis"}
    if MONTH_NODE in model.nodes:
        mapping["visit_date"] = MONTH_NODE
    for node in model.nodes:
        if node not in (MONTH_NODE,):
            mapping.setdefault(node, node)
    return mapping


@dataclass(frozen=True)
class Oracle:
    """The exact Bayes-optimal predictor of ``target`` from ``features``
    (:meth:`ClinicModel.oracle`), with its exact metrics over the model's distribution.

    ``accuracy`` of predicting the most probable state; ``log_loss`` (natural log) and
    ``brier`` of the posterior; ``auc``: for a two-state target, the probability that a
    random row with ``positive`` scores higher than one without (ties count one half); for
    more states, the one-vs-rest AUC of each state averaged with equal weights (macro).
    ``leaks`` names the record columns left out because they state the label.
    """

    target: str
    features: tuple[str, ...]  # record columns, in the order given
    nodes: tuple[str, ...]  # the node each feature determines
    states: tuple[str, ...]  # the target's states, the columns of predict_proba
    positive: str | None  # the state whose probability is the score (two-state target)
    leaks: tuple[str, ...]
    accuracy: float
    log_loss: float
    brier: float
    auc: float
    _posterior: np.ndarray = field(repr=False)  # (target states, prod of feature states)
    _codes: tuple[dict[str, int], ...] = field(repr=False)
    _bands: tuple[tuple[int, int], ...] = field(repr=False)

    def metrics(self) -> pd.Series:
        """The four metrics as a Series (accuracy, log_loss, brier, auc)."""
        return pd.Series({"accuracy": self.accuracy, "log_loss": self.log_loss,
                          "brier": self.brier, "auc": self.auc}, name=self.target)

    def predict_proba(self, records: pd.DataFrame) -> pd.DataFrame:
        """P(target | features) for each row of ``records``: one column per target state,
        indexed like ``records``. Rows whose features hold a value the model does not know
        (or a pattern of probability 0) get NaN."""
        if not isinstance(records, pd.DataFrame):
            raise ArgumentError(f"`records` must be a DataFrame; got {shown(records)}")
        missing = [c for c in self.features if c not in records.columns]
        if missing:
            raise ArgumentError(f"records lack the oracle's feature column(s) {missing}; "
                                f"found {list(map(str, records.columns))}")
        n = len(records)
        flat = np.zeros(n, np.int64)
        ok = np.ones(n, bool)
        for column, node, codes in zip(self.features, self.nodes, self._codes, strict=True):
            code = self._code(records[column], column, node, codes)
            ok &= code >= 0
            flat = flat * max(len(codes), 1) + np.where(code >= 0, code, 0)
        values = self._posterior[:, flat].T.copy()
        values[~ok] = np.nan
        return pd.DataFrame(values, index=records.index, columns=list(self.states))

    def _code(self, cells: pd.Series, column: str, node: str, codes: dict[str, int]
              ) -> np.ndarray:
        if column == "age":
            age = pd.to_numeric(cells, errors="coerce").to_numpy(float)
            code = np.full(len(age), -1, np.int64)
            for i, (lo, hi) in enumerate(self._bands):
                code[(age >= lo) & (age <= hi)] = i
            return code
        if column == "visit_date":
            days = pd.to_datetime(cells, errors="coerce").to_numpy("datetime64[D]")
            month = days.astype("datetime64[M]").astype(np.int64) % 12
            lookup = np.array([codes.get(m, -1) for m in MONTHS], np.int64)
            return np.where(np.isnat(days), -1, lookup[month])
        # Through a categorical: each distinct value is looked up once, not each cell.
        cat = cells.array if isinstance(cells.dtype, pd.CategoricalDtype) \
            else pd.Categorical(cells)
        lookup = np.array([codes.get(str(c), -1) for c in cat.categories] + [-1], np.int64)
        return lookup[np.asarray(cat.codes)]


def _features(model: ClinicModel, target: str, features: Sequence[str] | None
              ) -> tuple[list[str], list[str]]:
    mapping = _column_nodes(model)
    leaks = list(_LEAKS.get(target, ()))
    if features is None:
        # age_group and diagnosis_code duplicate age and diagnosis: one column per node.
        chosen = [c for c in ("visit_date", "age", *model.nodes) if c in mapping
                  and c not in ("age_group",) and mapping[c] != target and c not in leaks]
        chosen = list(dict.fromkeys(chosen))
        return chosen, [mapping[c] for c in chosen]
    if isinstance(features, str) or not all(isinstance(f, str) for f in features):
        raise ArgumentError(f"`features` must be a list of column names; got {shown(features)}")
    chosen = list(features)
    errors = []
    for column in chosen:
        if column not in mapping:
            known = sorted(mapping)
            errors.append(f"feature {column!r} is not a record column that determines a node "
                          f"of the model (diagnosis_category and follow_up_date are not "
                          f"supported); known: {known}")
        elif mapping[column] == target:
            errors.append(f"feature {column!r} is the target {target!r} itself (it "
                          f"determines {target!r}); leave it out")
    nodes = [mapping.get(c, "") for c in chosen]
    twice = sorted({c for c, n in zip(chosen, nodes, strict=True) if n and nodes.count(n) > 1})
    if twice:
        errors.append(f"features {twice} determine the same node; keep one")
    if errors:
        raise ArgumentError(errors)
    return chosen, nodes


def _auc(score: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> float:
    """P(score of a positive > score of a negative) + half the ties, both drawn with the
    weights ``pos`` and ``neg`` over the patterns."""
    order = np.argsort(score, kind="stable")
    s, p, q = score[order], pos[order], neg[order]
    group = np.concatenate([[0], np.cumsum(np.diff(s) > _TIES)])
    p_g = np.bincount(group, p)
    q_g = np.bincount(group, q)
    below = np.concatenate([[0.0], np.cumsum(q_g)[:-1]])
    total = p_g.sum() * q_g.sum()
    return float(np.sum(p_g * (below + 0.5 * q_g)) / total) if total > 0 else float("nan")


def oracle(model: ClinicModel, target: str, features: Sequence[str] | None = None) -> Oracle:
    """See :meth:`ClinicModel.oracle`."""
    if not isinstance(target, str) or target not in model.nodes:
        raise ArgumentError(f"oracle target must be a node of the model {list(model.nodes)}; "
                            f"got {shown(target)}")
    columns, nodes = _features(model, target, features)
    net = factors(model)
    table = joint(net, [target, *nodes], {})
    table = table / table.sum()
    k = len(net.states[target])
    flat = table.reshape(k, -1)
    p_f = flat.sum(axis=0)
    seen = p_f > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        post = np.where(seen, flat / np.where(seen, p_f, 1), np.nan)
        logs = np.where(flat > 0, np.log(np.where(flat > 0, post, 1)), 0.0)
    post_seen = post[:, seen]
    joint_seen = flat[:, seen]
    accuracy = float(joint_seen.max(axis=0).sum())
    log_loss = float(-(flat * logs).sum())
    states = tuple(net.states[target])
    positive = ("True" if "True" in states else states[-1]) if k == 2 else None
    if k == 2 and positive is not None:
        i = states.index(positive)
        # (p - y)^2 averaged over rows: y = 1 with weight joint[i], 0 with the other
        brier = float(np.sum(joint_seen[i] * (post_seen[i] - 1) ** 2
                             + joint_seen[1 - i] * post_seen[i] ** 2))
        auc = _auc(post_seen[i], joint_seen[i], joint_seen[1 - i])
    else:
        # multi-class Brier: the sum over states of (p_s - 1{y = s})^2, averaged over rows
        sq = (post_seen ** 2).sum(axis=0)
        brier = float(np.sum(joint_seen * (sq[None, :] - 2 * post_seen + 1)))
        aucs = [_auc(post_seen[i], joint_seen[i], p_f[seen] - joint_seen[i]) for i in range(k)]
        auc = float(np.nanmean(aucs)) if not np.isnan(aucs).all() else float("nan")
    codes = tuple({s: j for j, s in enumerate(net.states[n])} for n in nodes)
    bands = tuple(model.age_bands[s] for s in net.states["age_group"])
    leaks = tuple(c for c in _LEAKS.get(target, ()) if c not in columns)
    if not np.isfinite(log_loss):
        raise ModelError(f"oracle for {target!r}: log loss is not finite")
    return Oracle(target, tuple(columns), tuple(nodes), states, positive, leaks, accuracy,
                  log_loss, brier, auc, post, codes, bands)
