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
    """Base class of every clinicsim error.

    Examples
    --------
    >>> import clinicsim
    >>> try:
    ...     clinicsim.sample(-3)
    ... except clinicsim.ClinicSimError as error:
    ...     print(type(error).__name__, error.errors)
    ArgumentError ['`n` must be a positive integer; got -3']
    """

    def __init__(self, errors: str | Iterable[str]) -> None:
        self.errors: list[str] = [errors] if isinstance(errors, str) else list(errors)
        super().__init__("; ".join(self.errors))


class ArgumentError(ClinicSimError, ValueError):
    """A bad argument: ``n``, ``seed``, ``engine``, ``alpha``, an output suffix, ...

    Raised by the checks in :mod:`clinicsim._validate`; the message names the argument and
    the value: ``"`n` must be a positive integer; got -3"``.

    Examples
    --------
    >>> import clinicsim
    >>> issubclass(clinicsim.ArgumentError, clinicsim.ModelError)
    False
    >>> clinicsim.sample(10, engine="pgmp")
    Traceback (most recent call last):
        ...
    clinicsim._errors.ArgumentError: `engine` must be one of numpy, pgmpy; got 'pgmp'
    """


class ModelError(ClinicSimError, ValueError):
    """A model file, model dictionary or model edit is invalid.

    Examples
    --------
    >>> import clinicsim
    >>> clinicsim.load_model("missing.yaml")
    Traceback (most recent call last):
        ...
    clinicsim._errors.ModelError: cannot read model file 'missing.yaml': no such file
    """


class InvalidCPDError(ModelError):
    """A conditional probability table is invalid; the model it was meant for is unchanged.

    Examples
    --------
    >>> import clinicsim
    >>> clinicsim.default_model().set_cpd("gender", {"male": 0.5, "female": 0.5, "other": 0.1})
    Traceback (most recent call last):
        ...
    clinicsim._errors.InvalidCPDError: CPD for 'gender' sums to 1.1, not 1
    """


class RecordsError(ClinicSimError, ValueError):
    """A records table cannot be checked (missing columns, unparseable values, ...).

    Examples
    --------
    >>> import clinicsim
    >>> clinicsim.conformance_report("missing.csv")
    Traceback (most recent call last):
        ...
    clinicsim._errors.RecordsError: cannot read records file 'missing.csv': no such file
    """


class TargetWarning(UserWarning):
    """A model edit (``set_cpd``, ``add_state``, ``remove_state``) moved the model's exact
    value of a stated target outside the target's margin.

    The edit is made; records sampled from the model would fail that target in the
    conformance report. The message names the target, the new exact value and the fix:
    state the new figure (``model.with_targets``) or refit the other CPDs to the target
    (``model.fit_targets(keep=...)``).

    Examples
    --------
    >>> import warnings, clinicsim
    >>> model = clinicsim.default_model()
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     model.set_cpd("gender", {"male": 0.5, "female": 0.5, "other": 0.0})
    >>> caught[0].category.__name__, model.marginal("gender")["male"]
    ('TargetWarning', np.float64(0.5))
    """
