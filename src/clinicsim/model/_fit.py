"""Least-change fitting of CPDs to the stated equality targets (``model.fit_targets``).

A statement about node X is met by tilting X's own CPD, P'(x | pa) ∝ P(x | pa)·exp(Σ_k
λ_k f_k(x) r_k(pa)), the least Kullback–Leibler change of the table given its parents'
distribution (r_k = P(pa | where_k) / P(pa)): the tilt is the stationary point of
Σ_pa P(pa) KL(P'(·|pa) ‖ P(·|pa)) under the statements' linear constraints. The statements
on one node are solved together by damped Newton steps on the convex dual; nodes are swept
in topological order until every equality statement is met to ``tol`` (exact queries),
since fitting a node moves its descendants' parent distributions. Zeros stay zero (a tilt
multiplies); kept columns get no tilt. An ``even`` statement is a share of ``age_group``:
each band's share of the years in the range.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._errors import ArgumentError, ModelError
from .._validate import shown
from ._limits import MAX_FIT_CELLS, MAX_FIT_CONDITIONS
from ._table import Table
from ._targets import (
    Difference,
    Even,
    Rate,
    Share,
    Statement,
    Trend,
    describe_value,
    even_shares,
    evidence_of,
    exact_value,
    is_met,
    node_of,
)

if TYPE_CHECKING:
    from ._model import ClinicModel

__all__ = ["check_keep", "cpd_changes", "fit_statements", "fit_targets", "parse_keep"]

MAX_STEP = 4.0  # largest change of a log-odds multiplier per Newton step
Keep = Sequence[tuple[str, Mapping[str, str]]]


def _descendants(model: ClinicModel, node: str) -> set[str]:
    found = {node}
    for n in model.nodes:  # topological order: parents come first
        if found & set(model.parents(n)):
            found.add(n)
    return found


def _features(model: ClinicModel, s: Share | Rate
              ) -> tuple[str, list[tuple[np.ndarray, float]]]:
    """The node tilted for ``s`` and its (indicator over the node's states, target) pairs."""
    node = node_of(s.node)
    # a share's last state follows from the others
    pairs = [(s.state, s.value)] if isinstance(s, Rate) else list(s.values)[:-1]
    states = model.states(node)
    label = [model.diagnosis_categories[d] for d in states] if node != s.node else states
    return node, [(np.array([x == v for x in label], float), t) for v, t in pairs]


def _as_share(model: ClinicModel, s: Statement) -> Share | Rate | None:
    """The equality statement fitted for ``s`` (an ``even`` one as age_group shares)."""
    if isinstance(s, Even):
        return Share("age_group", even_shares(model, s), s.margin)
    return s if isinstance(s, (Share, Rate)) else None


def check_keep(model: ClinicModel, keep: Iterable[Any], names: Sequence[str] = ()
               ) -> list[tuple[str, dict[str, str]]]:
    """``keep`` as (node, {parent: state}) pairs, or an :class:`ArgumentError` naming the
    bad entry: ``names[i]`` if given (the command line's ``--keep 'TEXT'``), else
    ``keep[i]``.

    Examples
    --------
    >>> import clinicsim
    >>> from clinicsim.model import check_keep
    >>> check_keep(clinicsim.default_model(), [("follow_up", {"diagnosis": "asthma"})])
    [('follow_up', {'diagnosis': 'asthma'})]
    """
    if isinstance(keep, (str, Mapping)) or not isinstance(keep, Iterable):
        raise ArgumentError(f"`keep` must be a list of (node, {{parent: state}}) pairs; "
                            f"got {shown(keep)}")
    out = []
    for i, item in enumerate(keep):
        at = names[i] if i < len(names) else f"`keep[{i}]`"
        if not (isinstance(item, (tuple, list)) and len(item) == 2
                and isinstance(item[1], Mapping)):
            raise ArgumentError(f"{at} must be a pair (node, {{parent: state}}); "
                                f"got {shown(item)}")
        node, combo = item
        if not (isinstance(node, str) and node in model.nodes):
            raise ArgumentError(f"{at}: unknown node {shown(node)}; the model's nodes are "
                                f"{list(model.nodes)}")
        parents = model.parents(node)
        for p, state in combo.items():
            if p not in parents:
                raise ArgumentError(f"{at}: {shown(p)} is not a parent of {node!r} "
                                    f"(its parents: {list(parents)})")
            if str(state) not in model.states(p):
                raise ArgumentError(f"{at}: {shown(state)} is not a state of {p!r} "
                                    f"({', '.join(model.states(p))})")
        out.append((str(node), {str(p): str(v) for p, v in combo.items()}))
    return out


def parse_keep(text: str) -> tuple[str, dict[str, str]]:
    """``'follow_up:diagnosis=asthma,age_group=65_74'`` as ``("follow_up", {...})``.

    A column gives each parent one state, so a parent named twice is refused (two
    columns are two ``--keep``).

    >>> parse_keep("follow_up:diagnosis=asthma")
    ('follow_up', {'diagnosis': 'asthma'})
    """
    node, sep, rest = text.partition(":")
    pairs = [p.partition("=") for p in rest.split(",")] if rest else []
    if not sep or not node or not pairs or any(not k or not e or not v for k, e, v in pairs):
        raise ArgumentError(f"--keep must be NODE:PARENT=STATE[,PARENT=STATE...]; got {text!r}")
    names = [k.strip() for k, _, _ in pairs]
    twice = sorted({k for k in names if names.count(k) > 1})
    if twice:
        raise ArgumentError(f"--keep {text!r}: {', '.join(map(repr, twice))} named twice; a "
                            "column gives each parent one state (keep two columns with two "
                            "--keep options)")
    return node.strip(), {k.strip(): v.strip() for k, _, v in pairs}


def fit_targets(model: ClinicModel, keep: Iterable[Any] = ()) -> ClinicModel:
    """``model.fit_targets(keep)``: see :meth:`ClinicModel.fit_targets`."""
    fitted = fit_statements(model, model.targets, check_keep(model, keep))
    missed = [s for s in model.targets
              if isinstance(s, (Difference, Trend)) and not is_met(fitted, s)]
    if missed:
        raise ModelError(
            "after fitting the equality targets, the exact model misses "
            + "; ".join(f"{s}: {_value_text(fitted, s)}" for s in missed)
            + " (edit the CPDs or the statements; nothing was changed)")
    if any(not np.array_equal(fitted.table(n).values, model.table(n).values)
           for n in model.nodes):
        fitted._record_edit("fit_targets()")
    return fitted


def _value_text(model: ClinicModel, s: Statement) -> str:
    return describe_value(s, exact_value(model, s))


def fit_statements(model: ClinicModel, statements: Iterable[Statement], keep: Keep = (), *,
                   tol: float = 1e-9, max_sweeps: int = 200) -> ClinicModel:
    """A copy of ``model`` whose exact values meet every equality statement.

    Raises :class:`ModelError` naming the statements when they cannot all be met; the
    given model never changes.
    """
    new = model.copy()
    groups: dict[str, list] = {}
    eq = []
    for original in statements:
        s = _as_share(new, original)
        if s is None:
            continue
        eq.append(original)
        node, feats = _features(new, s)
        bad = _descendants(new, node) & set(evidence_of(new, s.where))
        if bad:
            raise ModelError(f"{original}: conditions on {', '.join(sorted(bad))}, {node} "
                             "itself or its descendants; fitting cannot meet it")
        groups.setdefault(node, []).extend((original, s, f, t) for f, t in feats)
    order = [n for n in new.nodes if n in groups]
    for n in order:
        _check_fit_size(n, len(groups[n]), new.table(n).matrix.shape[1])
    unmet: set[str] = set()
    for _ in range(max_sweeps):
        worst = 0.0
        for n in order:
            err, missed = _fit_node(new, n, groups[n], keep, tol)
            worst, unmet = max(worst, err), unmet | missed
            if missed:  # the node's own tilt cannot meet them: they conflict
                break
        if worst <= tol:
            return new
        if unmet:
            break
    named = sorted(unmet or {str(s) for s in eq})
    raise ModelError("statements cannot all be met (they conflict, or kept columns or "
                     f"zeros make them impossible): {'; '.join(named)}")


def _check_fit_size(node: str, conditions: int, columns: int) -> None:
    """Refuse a node whose conditions would take minutes or gigabytes to solve together."""
    if conditions > MAX_FIT_CONDITIONS:
        raise ModelError(f"fitting {node!r} would solve {conditions:,} conditions together "
                         "(a rate is one, a share one per state but the last); the limit is "
                         f"MAX_FIT_CONDITIONS = {MAX_FIT_CONDITIONS:,} per node")
    if conditions * columns > MAX_FIT_CELLS:
        raise ModelError(f"fitting {node!r}: {conditions:,} conditions times {columns:,} CPD "
                         f"columns is {conditions * columns:,} cells; the limit is "
                         f"MAX_FIT_CELLS = {MAX_FIT_CELLS:,} per node")


def cpd_changes(before: ClinicModel, after: ClinicModel) -> pd.DataFrame:
    """What moved from ``before`` to ``after``, one row per CPD column that changed.

    Columns: ``node``, ``column`` (``diagnosis=asthma, age_group=65_74``; ``p`` for a
    root), ``largest_change`` (largest absolute change of a probability) and ``kl``
    (Kullback–Leibler divergence of the new column from the old, in nats), largest
    change first. Both models must have the same nodes and states.

    >>> import clinicsim
    >>> model = clinicsim.default_model()
    >>> cpd_changes(model, model.fit_targets()).empty  # the default model is a fixed point
    True
    """
    rows = []
    for node in before.nodes:
        old, new = before.table(node), after.table(node)
        if old.states != new.states or old.parents != new.parents:
            raise ModelError(f"cpd_changes: {node!r} has other states or parents in the "
                             "second model")
        a, b = old.matrix, new.matrix
        moved = np.flatnonzero((a != b).any(axis=0))
        labels = before.cpd(node).columns
        for j in moved:
            label = labels[int(j)]
            combo = label if isinstance(label, tuple) else (label,)
            text = ", ".join(f"{p}={v}" for p, v in zip(old.parents, combo, strict=True)) \
                if old.parents else "p"
            with np.errstate(divide="ignore", invalid="ignore"):
                kl = float(np.where(b[:, j] > 0, b[:, j] * np.log(b[:, j] / a[:, j]), 0).sum())
            rows.append((node, text, float(np.abs(b[:, j] - a[:, j]).max()), max(kl, 0.0)))
    frame = pd.DataFrame(rows, columns=["node", "column", "largest_change", "kl"])
    return frame.sort_values("largest_change", ascending=False, kind="stable",
                             ignore_index=True)


def _jacobian(f: np.ndarray, p: np.ndarray, ef: np.ndarray, qk: np.ndarray, r: np.ndarray
              ) -> np.ndarray:
    """d resid_k / d lam_l = Σ_c qk_kc r_lc Cov_c(f_k, f_l), without the (k, l, c) array.

    Cov_c(f_k, f_l) = Σ_x f_kx f_lx p_xc − ef_kc ef_lc, so the sum is one product of
    (k, c) matrices per state x, over the statements whose feature holds at x (a rate's
    feature is one state), and one for the means: memory k·c + k², not k²·c.
    """
    jac = -(qk * ef) @ (r * ef).T
    for x in range(f.shape[1]):
        rows = np.flatnonzero(f[:, x])
        if rows.size:
            w = f[rows, x]
            jac[np.ix_(rows, rows)] += ((qk[rows] * w[:, None]) * p[x]) @ (r[rows] * w[:, None]).T
    return jac


def _fit_node(model: ClinicModel, node: str, rows: list, keep: Keep, tol: float
              ) -> tuple[float, set[str]]:
    """Tilt ``node``'s CPD to meet ``rows``: the largest residual before, the unmet after."""
    t = model.table(node)
    m = t.matrix
    n_cols = m.shape[1]

    given: dict[tuple, np.ndarray] = {}  # statements share groups: one query per group

    def parents_given(evidence) -> np.ndarray:
        if not t.parents:
            return np.ones(1)
        key = tuple(sorted((k, tuple(v)) for k, v in evidence.items()))
        if key not in given:
            given[key] = model.query(list(t.parents), evidence or None).to_numpy()
        return given[key]

    q = parents_given({})
    grids = [g.ravel() for g in
             np.meshgrid(*[np.array(s) for s in t.parent_states], indexing="ij")]

    def columns_in(states: Mapping[str, Sequence[str]]) -> np.ndarray:
        mask = np.ones(n_cols, bool)
        for p, chosen in states.items():
            mask &= np.isin(grids[t.parents.index(p)], list(chosen))
        return mask

    free = np.ones(n_cols, bool)
    for k_node, combo in keep:
        if k_node == node:
            free &= ~columns_in({p: [s] for p, s in combo.items()})
    qk = np.empty((len(rows), n_cols))
    r = np.empty((len(rows), n_cols))
    for k, (original, s, _, _) in enumerate(rows):
        evidence = evidence_of(model, s.where)
        try:
            qk[k] = parents_given(evidence)
        except ModelError as exc:
            raise ModelError(f"{original}: {exc}; the statement cannot be met") from None
        if set(evidence) <= set(t.parents):  # r = P(where | pa) / P(where), for every pa
            inside = columns_in(evidence)
            r[k] = inside / (q @ inside)
        else:  # a column of probability 0 does not matter: left as it is
            r[k] = np.where(q > 0, qk[k] / np.where(q > 0, q, 1), 0.0)
    r *= free
    f = np.array([f for _, _, f, _ in rows])
    target = np.array([v for _, _, _, v in rows])
    with np.errstate(divide="ignore"):
        logm = np.log(m)

    fixed = ((qk - q * r) * (f @ m)).sum(axis=1)  # from columns the tilt leaves alone

    def evaluate(lam: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """The tilted table, E[f], the residuals and the (convex) dual objective."""
        z = logm + np.einsum("k,kx,kc->xc", lam, f, r)
        top = z.max(axis=0)
        p = np.exp(z - top)
        total = p.sum(axis=0)
        p /= total
        ef = f @ p  # (k, c): E_c[f_k]
        dual = float(q @ (np.log(total) + top) - lam @ (target - fixed))
        return p, ef, (qk * ef).sum(axis=1) - target, dual

    lam = np.zeros(len(rows))
    p, ef, resid, dual = evaluate(lam)
    first = err = float(np.abs(resid).max())
    for _ in range(500):
        if err <= tol * 1e-3:
            break
        jac = _jacobian(f, p, ef, qk, r)
        step = np.linalg.lstsq(jac, resid, rcond=None)[0]
        step *= min(1.0, MAX_STEP / max(float(np.abs(step).max()), 1e-300))  # trust region
        for _ in range(40):  # damped Newton: halve the step until the residual falls
            trial = evaluate(lam - step)
            flat = abs(trial[3] - dual) <= 1e-15 * (1 + abs(dual))  # rounding: use residuals
            if trial[3] < dual and not flat or flat and np.abs(trial[2]).max() < err:
                break
            step /= 2
        else:
            break  # no progress: the statements on this node conflict
        lam -= step
        p, ef, resid, dual = trial
        err = float(np.abs(resid).max())
    unmet = {str(s) for (s, _, _, _), e in zip(rows, resid, strict=True) if abs(e) > tol}
    if lam.any():  # else met already (or stuck): the table stays as it is, bit for bit
        # kept and unreachable columns, and those with one possible state, stay as they are
        p = np.where(np.any(r != 0, axis=0) & ((m > 0).sum(axis=0) > 1), p, m)
        model._tables[node] = Table(node, t.states, t.parents, t.parent_states,
                                    p.reshape(t.values.shape))
    return float(first), unmet
