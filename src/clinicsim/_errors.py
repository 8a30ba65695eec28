"""Exceptions raised by clinicsim.

The hierarchy::

    ClinicSimError                  base of everything clinicsim raises on bad input
    ├── ArgumentError(ValueError)   a bad argument to a function or the command line
    ├── ModelError(ValueError)      a model (file, dict or edit) is invalid
    │   └── InvalidCPDError         a CPD table is invalid; the model is left unchanged
    └── RecordsError(ValueError)    a records table given to the report is unusable

Every error carries ``errors``: the list of individual problems, each naming what
is wrong and where (node, column, state, row, file). ``str(error)`` joins them.

And one warning::

    TargetWarning(UserWarning)      a model edit moved an exact figure that a stated target
                                    names outside its margin; the edit is made
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["ArgumentError", "ClinicSimError", "InvalidCPDError", "ModelError", "RecordsError",
           "TargetWarning"]


class ClinicSimError(Exception):
    """Base class of every clinicsim error."""

    def __init__(self, errors: str | Iterable[str]) -> None:
        self.errors: list[str] = [errors] if isinstance(errors, str) else list(errors)
        super().__init__("; ".join(self.errors))


class ArgumentError(ClinicSimError, ValueError):
    """A bad argument: ``n``, ``seed``, ``engine``, ``alpha``, an output suffix, ...

    Raised by the checks in :mod:`clinicsim._validate`; the message names the argument and
    the value: ``"`n` must be a positive integer; got -3"``.
    """


class ModelError(ClinicSimError, ValueError):
    """A model file, model dictionary or model edit is invalid."""


class InvalidCPDError(ModelError):
    """A conditional probability table is invalid; the model it was meant for is unchanged."""


class RecordsError(ClinicSimError, ValueError):
    """A records table cannot be checked (missing columns, unparseable values, ...)."""


class TargetWarning(UserWarning):
    """A model edit (``set_cpd``, ``add_state``, ``remove_state``) moved the model's exact
    value of a stated target outside the target's margin.

    The edit is made; records sampled from the model would fail that target in the
    conformance report. The message names the target, the new exact value and the fix:
    state the new figure (``model.with_targets``) or refit the other CPDs to the target
    (``model.fit_targets(keep=...)``).
    """
