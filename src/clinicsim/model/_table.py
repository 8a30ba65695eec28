"""A CPD as clinicsim holds it: a small frozen labelled array, checked by clinicsim itself.

Axis order, the one every reader relies on: ``values[i, j1, j2, ...]`` is
P(node = ``states[i]`` | ``parents[0]`` = ``parent_states[0][j1]``, ...). Parents are in
the model's topological order (whatever order a file lists them in) and each parent's
states are in that parent node's own state order, so a table is read by label, never by
the position of another library's state list.
"""

from __future__ import annotations

import decimal
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._errors import InvalidCPDError
from .._validate import shown

__all__ = ["NORMALIZE_TOLERANCE", "SUM_TOLERANCE", "Table", "as_probability", "check_column",
           "column_label"]

SUM_TOLERANCE = 1e-9  # pgmpy's check_model accepts 0.01: too loose for hand-set tables
# set_cpd(normalize=True) rescales columns typed to a few decimals (0.3333 x 3 = 0.9999);
# a column further than this from 1 is more likely a typo than rounding.
NORMALIZE_TOLERANCE = 0.01


@dataclass(frozen=True, eq=False)
class Table:
    """The CPD of ``node``: ``values`` of shape ``(len(states), *parent cardinalities)``.

    Built only from validated numbers (the model-file parser and ``set_cpd`` check every
    column first); the constructor re-checks the shape and the column sums, and makes
    ``values`` a read-only float array, so a table can be shared and never changes.

    Examples
    --------
    >>> import numpy as np
    >>> t = Table("coin", ("heads", "tails"), (), (), np.array([0.5, 0.5]))
    >>> t.values.shape, t.column(())
    ((2,), array([0.5, 0.5]))
    """

    node: str
    states: tuple[str, ...]
    parents: tuple[str, ...]
    parent_states: tuple[tuple[str, ...], ...]
    values: np.ndarray

    def __post_init__(self) -> None:
        values = np.array(self.values, dtype=float)  # a private copy
        shape = (len(self.states), *map(len, self.parent_states))
        if len(self.parent_states) != len(self.parents) or values.shape != shape:
            raise InvalidCPDError(f"CPD for {self.node!r} has shape {values.shape}; "
                                  f"its states and parents need {shape}")
        sums = values.sum(axis=0)
        if not (np.all(values >= 0) and np.all(np.abs(sums - 1.0) <= SUM_TOLERANCE)):
            raise InvalidCPDError(f"CPD for {self.node!r}: every column must be non-negative "
                                  "and sum to 1")
        values.flags.writeable = False
        object.__setattr__(self, "values", values)

    @property
    def matrix(self) -> np.ndarray:
        """``values`` as ``(states, parent combinations)``, the last parent varying fastest."""
        return self.values.reshape(len(self.states), -1)

    def column(self, combo: Sequence[str]) -> np.ndarray:
        """P(node | parents = ``combo``), ``combo`` given as state names in parent order.

        Examples
        --------
        >>> import clinicsim
        >>> table = clinicsim.default_model().table("follow_up")
        >>> table.column(("75_89", "copd")).round(4).tolist()
        [0.6599, 0.3401]
        """
        index = tuple(s.index(c) for s, c in zip(self.parent_states, combo, strict=True))
        key: tuple[slice | int, ...] = (slice(None), *index)
        return self.values[key]

    def key(self) -> tuple:
        """Everything that defines the table, for digests: labels and the exact bytes."""
        return (self.node, self.states, self.parents, self.parent_states,
                np.ascontiguousarray(self.values).tobytes())


def column_label(parents: tuple[str, ...], combo: tuple[str, ...]) -> str:
    """``(gender=male, age_group=0_14)``: how errors name a CPD column."""
    return "(" + ", ".join(f"{p}={s}" for p, s in zip(parents, combo, strict=True)) + ")"


def as_probability(value: object) -> float | None:
    """``value`` as a float if it is a real number (int, float, Fraction, Decimal, a numpy
    number), else None.

    Strings (even ``"0.5"``), bools, None and ``pd.NA`` are not numbers: a hand-edited
    ``"0.5"`` or ``True`` is more likely a mistake than a probability.

    >>> from fractions import Fraction
    >>> from decimal import Decimal
    >>> as_probability(Fraction(1, 4)), as_probability(Decimal("0.5")), as_probability(True)
    (0.25, 0.5, None)
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (numbers.Real, decimal.Decimal, np.integer, np.floating)):
        return None
    try:
        return float(value)
    except OverflowError:  # an int beyond float range (JSON allows 10**400): not finite
        return math.inf
    except ValueError:  # Decimal("sNaN")
        return math.nan


def check_column(
    node: str, label: str, states: Sequence[str], values: Sequence[object] | np.ndarray,
    normalize: bool = False,
) -> tuple[np.ndarray | None, list[str]]:
    """One CPD column as floats, and every problem with it.

    Each value must be a real number, finite and non-negative, and the column must sum
    to 1 within ``SUM_TOLERANCE`` -- or, with ``normalize``, within ``NORMALIZE_TOLERANCE``
    and not be all zero; it is then divided by its sum. ``label`` names the column (empty
    for a root node). Shared by :meth:`ClinicModel.set_cpd` and the model-file parser, so
    both refuse the same things with the same words.

    >>> check_column("coin", "", ["heads", "tails"], [0.3333, 0.6666], normalize=True)[0]
    array([0.33333333, 0.66666667])
    >>> check_column("coin", "", ["heads", "tails"], [0.3, 0.6], normalize=True)[1]
    ["CPD for 'coin' sums to 0.9, more than 1% from 1: normalize=True only rescales rounding"]
    """
    where = f"CPD for {node!r}" + (f" column {label}" if label else "")
    probs = [as_probability(v) for v in values]
    errors = [f"{where}: probability of {s!r} must be a number; got {shown(v)} (a real "
              "number: int, float, Fraction, Decimal or numpy, not text or a bool)"
              for s, v, p in zip(states, values, probs, strict=True) if p is None]
    if errors:
        return None, errors
    array = np.array(probs, dtype=float)
    errors = [f"{where} has a non-finite probability {p:g} for {s!r}"
              for s, p in zip(states, array, strict=True) if not math.isfinite(p)]
    errors += [f"{where} has a negative probability {p:g} for {s!r}"
               for s, p in zip(states, array, strict=True) if -math.inf < p < 0]
    if errors:
        return None, errors
    total = array.sum()
    if not normalize:
        if abs(total - 1.0) > SUM_TOLERANCE:
            errors.append(f"{where} sums to {total:.12g}, not 1")
    elif total == 0:
        errors.append(f"{where} is all zero: normalize=True cannot rescale it")
    elif abs(total - 1.0) > NORMALIZE_TOLERANCE:
        errors.append(f"{where} sums to {total:.12g}, more than {NORMALIZE_TOLERANCE:.0%} "
                      "from 1: normalize=True only rescales rounding")
    else:
        array = array / total
    return (None, errors) if errors else (array, [])
