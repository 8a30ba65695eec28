"""Least-change fitting of CPDs to equality statements (issue 11, step 3; partial).

A statement about node X is met by tilting X's own CPD, P'(x | pa) ∝ P(x | pa)·exp(Σ_k
λ_k f_k(x) r_k(pa)), the least Kullback–Leibler change of the table given its parents'
distribution (r_k = P(pa | where_k) / P(pa)). The statements on one node are solved together
by Newton's method; nodes are swept in topological order until every equality statement is
met to ``tol`` (exact queries). Zeros stay zero (a tilt multiplies); kept columns get no tilt.
``Even`` statements are not fitted yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from .._errors import ModelError
from ._table import Table
from ._targets import DIAGNOSIS_CATEGORY, Rate, Share, Statement

__all__ = ["fit_statements"]

MAX_STEP = 4.0  # largest change of a log-odds multiplier per Newton step


def _evidence(model, where) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for col, states in where:
        if col == DIAGNOSIS_CATEGORY:
            cats = model.diagnosis_categories
            out["diagnosis"] = [d for d in model.states("diagnosis") if cats[d] in states]
        else:
            out[col] = list(states)
    return out


def _descendants(model, node: str) -> set[str]:
    found = {node}
    for n in model.nodes:  # topological order: parents come first
        if found & set(model.parents(n)):
            found.add(n)
    return found


def _features(model, s: Share | Rate) -> tuple[str, list[tuple[np.ndarray, float]]]:
    """The node tilted for ``s`` and its (indicator over the node's states, target) pairs."""
    node = "diagnosis" if s.node == DIAGNOSIS_CATEGORY else s.node
    # a share's last state follows from the others
    pairs = [(s.state, s.value)] if isinstance(s, Rate) else list(s.values)[:-1]
    states = model.states(node)
    label = [model.diagnosis_categories[d] for d in states] if node != s.node else states
    return node, [(np.array([x == v for x in label], float), t) for v, t in pairs]


def fit_statements(model, statements: Iterable[Statement],
                   keep: Sequence[tuple[str, Mapping[str, str]]] = (), *,
                   tol: float = 1e-9, max_sweeps: int = 200):
    """A copy of ``model`` whose exact values meet every ``Share``/``Rate`` statement.

    Raises :class:`ModelError` naming the statements when they cannot all be met; the
    given model never changes.
    """
    eq = [s for s in statements if isinstance(s, (Share, Rate))]
    new = model.copy()
    groups: dict[str, list] = {}
    for s in eq:
        node, feats = _features(new, s)
        bad = _descendants(new, node) & set(_evidence(new, s.where))
        if bad:
            raise ModelError(f"{s}: conditions on {sorted(bad)}, {node} itself or its "
                             "descendants; fitting cannot meet it")
        groups.setdefault(node, []).extend((s, f, t) for f, t in feats)
    order = [n for n in new.nodes if n in groups]
    for _ in range(max_sweeps):
        unmet: set[str] = set()
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
                     f"zeros make them impossible): {named}")


def _fit_node(model, node: str, rows: list, keep, tol: float) -> tuple[float, set[str]]:
    """Tilt ``node``'s CPD to meet ``rows``: the largest residual before, the unmet after."""
    t = model.table(node)
    m = t.matrix
    n_cols = m.shape[1]

    def parents_given(evidence) -> np.ndarray:
        if not t.parents:
            return np.ones(1)
        return model.query(list(t.parents), evidence or None).to_numpy()

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
    for k, (s, _, _) in enumerate(rows):
        evidence = _evidence(model, s.where)
        qk[k] = parents_given(evidence)
        if set(evidence) <= set(t.parents):  # r = P(where | pa) / P(where), for every pa
            inside = columns_in(evidence)
            r[k] = inside / (q @ inside)
        else:  # a column of probability 0 does not matter: left as it is
            r[k] = np.where(q > 0, qk[k] / np.where(q > 0, q, 1), 0.0)
    r *= free
    f = np.array([f for _, f, _ in rows])
    target = np.array([v for _, _, v in rows])
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
        eff = np.einsum("kx,lx,xc->klc", f, f, p) - ef[:, None, :] * ef[None, :, :]
        jac = np.einsum("kc,lc,klc->kl", qk, r, eff)
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
    p = np.where(np.any(r != 0, axis=0), p, m)  # kept and unreachable columns: untouched
    model._tables[node] = Table(node, t.states, t.parents, t.parent_states,
                                p.reshape(t.values.shape))
    return float(first), {str(s) for (s, _, _), e in zip(rows, resid, strict=True)
                          if abs(e) > tol}
