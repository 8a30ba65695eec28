"""Model edits beyond one CPD: the exact figures that stated targets name (warned about when
an edit moves one outside its margin), and adding or removing a state of a node.

An edit is checked against the targets by the model's own exact inference: each target's
figure (a share, a rate, a difference of rates, the spread of ages) is computed before and
after the edit, and a :class:`~clinicsim.TargetWarning` names every figure that the edit
changed and that now lies outside its target's margin.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .._errors import ModelError, TargetWarning

if TYPE_CHECKING:
    from ._model import ClinicModel

__all__ = ["Figure", "target_figures", "warn_moved_targets"]

_SAME = 1e-12  # a figure that moved by less has not been moved by the edit


@dataclass(frozen=True)
class Figure:
    """A stated target's exact value in a model.

    ``target`` names it as the report does (``share gender``, ``rate follow_up=True``);
    ``node`` is the node whose CPD ``fit_targets`` tilts to meet it (None: fitting does
    not meet this kind of target).
    """

    target: str
    values: tuple[float, ...]
    inside: bool
    text: str
    node: str | None


def target_figures(model: ClinicModel) -> list[Figure]:
    """The exact value of each stated target in ``model`` that exact inference gives.

    Shares, rates and differences of rates are exact queries; the spread of ages follows
    from the age_group marginal (ages are uniform within a band). The age trend has no
    single exact figure here (the report tests a stratified slope) and is left out.
    """
    t = model.targets
    out = []
    gender = model.marginal("gender")
    shares = [float(gender[s]) for s in t.gender_shares]
    out.append(Figure(
        "share gender", tuple(shares),
        all(abs(v - t.gender_shares[s]) <= t.gender_margin + _SAME
            for s, v in zip(t.gender_shares, shares, strict=True)),
        "the exact shares are now " + _pairs(t.gender_shares, shares)
        + f" (target {_pairs(t.gender_shares, t.gender_shares.values())}, each "
        f"± {t.gender_margin:g})", "gender"))
    rate = float(model.marginal("follow_up")["True"])
    out.append(Figure("rate follow_up=True", (rate,),
                      abs(rate - t.follow_up_rate) <= t.follow_up_margin + _SAME,
                      f"the exact rate is now {rate:.4g} (target {t.follow_up_rate:g} "
                      f"± {t.follow_up_margin:g})", "follow_up"))
    categories = model.diagnosis_categories
    group = [d for d, c in categories.items() if c in t.priority_categories]
    rest = [d for d in categories if d not in group]
    try:
        inside, outside = (float(model.query("follow_up", {"diagnosis": g})["True"])
                           for g in (group, rest))
    except ModelError:  # a group that is empty or never occurs: no difference to state
        pass
    else:
        diff = inside - outside
        out.append(Figure(
            f"difference follow_up=True where diagnosis_category="
            f"{','.join(t.priority_categories)}", (diff,),
            diff >= t.priority_min_difference - _SAME,
            f"the exact rates are now {inside:.4g} in these categories and {outside:.4g} "
            f"elsewhere, a difference of {diff:.4g} (target: at least "
            f"{t.priority_min_difference:g})", None))
    if t.age_margin is not None:
        ages = model.marginal("age_group")
        span = t.age_max - t.age_min + 1
        per_year = np.zeros(span)
        for band, (lo, hi) in model.age_bands.items():
            years = np.arange(max(lo, t.age_min), min(hi, t.age_max) + 1) - t.age_min
            per_year[years] += float(ages[band]) / (hi - lo + 1)
        gap = float(np.max(np.abs(np.cumsum(per_year) - np.arange(1, span + 1) / span)))
        out.append(Figure(
            f"even age {t.age_min}..{t.age_max}", (gap,), gap <= t.age_margin + _SAME,
            f"the exact distribution of ages is now {gap:.4g} from an even spread at its "
            f"furthest (target: within {t.age_margin:g})", None))
    return out


def _pairs(states: Iterable[str], values: Iterable[float]) -> str:
    return ", ".join(f"{s} {v:.4g}" for s, v in zip(states, values, strict=True))


def warn_moved_targets(before: list[Figure], model: ClinicModel, edit: str,
                       keep: Sequence[tuple[str, dict[str, str]]], stacklevel: int) -> None:
    """Warn (:class:`TargetWarning`) about every target that ``edit`` moved outside its margin.

    ``before`` are the figures before the edit; ``keep`` the CPD columns the edit set,
    as ``fit_targets(keep=...)`` names them (``(node, {})``: every column of a node).
    ``stacklevel`` is what the public method would pass to ``warnings.warn`` to point
    at its caller.
    """
    old = {f.target: f.values for f in before}
    moved = [f for f in target_figures(model) if not f.inside and (
        f.target not in old or len(old[f.target]) != len(f.values)
        or max(abs(a - b) for a, b in zip(old[f.target], f.values, strict=True)) > _SAME)]
    if not moved:
        return
    whole = {node for node, combo in keep if not combo}
    fits = [f for f in moved if f.node is not None and f.node not in whole]
    what, it = ("a stated target", "it") if len(moved) == 1 else \
        (f"{len(moved)} stated targets", "them")
    lines = [f"{edit} moved {what} outside the margin, so records sampled from this model "
             f"are expected to fail {it} in the conformance report:",
             *(f"  {f.target}: {f.text}" for f in moved)]
    fix = "To keep the edit, state the new figures in the targets: model = model.with_targets(...)"
    if fits:
        named = repr(list(keep)) if len(keep) <= 3 else \
            f"{repr(list(keep[:2]))[:-1]}, ...] (the {len(keep)} edited columns)"
        fix += (f"; or, for {', '.join(f.target for f in fits)}, keep the edited columns and "
                f"refit the other CPDs: model = model.fit_targets(keep={named})")
    warnings.warn("\n".join([*lines, fix + "."]), TargetWarning, stacklevel=stacklevel + 1)
