"""Argument checks: one function per kind of argument, all raising :class:`ArgumentError`.

Public functions check their arguments first, with these (CONVENTIONS.md 4 and 12, after
scipy's ``_bootstrap_iv``), so every bad argument gets the same type of error and a
message of the same shape, naming the argument and the value::

    `n` must be a positive integer; got -3

Integers may be Python or numpy integers; ``bool`` (an ``int`` subclass) and floats, even
whole ones such as ``5.0``, are refused: ``n=5.0`` is more likely a mistake than a wish.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ._errors import ArgumentError

__all__ = ["check_alpha", "check_choice", "check_int", "check_path", "check_suffix", "shown"]

_SHOWN_CHARS = 60  # of a value quoted in a message


def shown(value: object) -> str:
    """``value`` as quoted in a message: its repr, numpy scalars as Python ones, cut short.

    >>> shown(np.int64(-3)), shown("pgmp"), shown(10**5000), shown(np.zeros((2, 3)))
    ('-3', "'pgmp'", 'an integer of 5,001 digits', 'a ndarray of shape (2, 3)')
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 10_000:
        # repr of an int over 4,300 digits raises ValueError (sys.int_info)
        return f"an integer of {_digits(value):,} digits"
    if hasattr(value, "shape") and not np.isscalar(value):  # a table or an array: its kind
        return f"a {type(value).__name__} of shape {value.shape}"
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS - 3] + "..."


def _digits(value: int) -> int:
    """Decimal digits of a huge ``value``, without converting it to a string."""
    value = abs(value)
    digits = int(value.bit_length() * 0.30102999566398120)  # log10(2): may be one short
    return digits + (value >= 10**digits)


def _integer(value: object) -> int | None:
    """``value`` as an int if it is a Python or numpy integer (not a bool), else None."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        return None
    return int(value)


def check_int(value: object, name: str, *, low: int = 1, high: int | None = None,
              high_name: str = "") -> int:
    """``value`` as an int in ``low..high`` (no upper bound if ``high`` is None).

    ``high_name`` names the bound in the message (``"n=10"``).

    >>> check_int(np.int64(2), "npartitions")
    2
    >>> check_int(5.0, "n")
    Traceback (most recent call last):
    ...
    clinicsim._errors.ArgumentError: `n` must be a positive integer; got 5.0
    """
    number = _integer(value)
    if number is not None and number >= low and (high is None or number <= high):
        return number
    named = {0: "a non-negative integer", 1: "a positive integer"}
    kind = (f"an integer from {low} to {high_name or high}" if high is not None
            else named.get(low, f"an integer of at least {low}"))
    raise ArgumentError(f"`{name}` must be {kind}; got {shown(value)}")


def check_choice(value: object, name: str, choices: Sequence[str]) -> str:
    """``value`` if it is one of the strings ``choices``.

    >>> check_choice("pgmp", "engine", ("numpy", "pgmpy"))
    Traceback (most recent call last):
    ...
    clinicsim._errors.ArgumentError: `engine` must be one of numpy, pgmpy; got 'pgmp'
    """
    if isinstance(value, str) and value in choices:
        return value
    raise ArgumentError(f"`{name}` must be one of {', '.join(choices)}; got {shown(value)}")


def check_alpha(value: object, name: str = "alpha") -> float:
    """``value`` as a float significance level in (0, 0.5).

    >>> check_alpha(0.05)
    0.05
    """
    if not isinstance(value, (bool, np.bool_)) \
            and isinstance(value, (int, float, np.integer, np.floating)) and 0 < value < 0.5:
        return float(value)
    raise ArgumentError(f"`{name}` must be a number in (0, 0.5); got {shown(value)}")


def check_path(value: object, name: str) -> Path:
    """``value`` as a Path if it is a str or os.PathLike without a NUL byte.

    >>> check_path(5, "p")
    Traceback (most recent call last):
    ...
    clinicsim._errors.ArgumentError: `p` must be a path (a str or os.PathLike, no NUL byte); got 5
    """
    if isinstance(value, (str, os.PathLike)):
        text = os.fspath(value)
        if isinstance(text, str) and "\x00" not in text:
            return Path(text)
    raise ArgumentError(f"`{name}` must be a path (a str or os.PathLike, no NUL byte); "
                        f"got {shown(value)}")


def check_suffix(path: str | os.PathLike[str], what: str, kind: str,
                 suffixes: Sequence[str]) -> Path:
    """``path`` as a Path if its suffix (any case) is one of ``suffixes``, a ``kind`` format;
    the message names the file as ``what``.

    >>> check_suffix("r.txt", "output", "records", (".csv", ".jsonl"))
    Traceback (most recent call last):
    ...
    clinicsim._errors.ArgumentError: output 'r.txt': unknown records format '.txt'; use .csv, .jsonl
    """
    if not isinstance(path, (str, os.PathLike)) or "\x00" in str(os.fspath(path)):
        raise ArgumentError(f"{what} must be a path to a {', '.join(suffixes)} file; "
                            f"got {shown(path)}")
    path = Path(path)
    if path.suffix.lower() not in suffixes:
        raise ArgumentError(f"{what} {str(path)!r}: unknown {kind} format "
                            f"{path.suffix or '(no suffix)'!r}; use {', '.join(suffixes)}")
    return path
