"""Importing pgmpy quietly: the one place that says which of its warnings clinicsim hides.

Only these two messages are silenced, only around imports, so any other warning (a new
deprecation, say) still reaches the user and fails the tests.

- pgmpy 1.1's ``inference`` and ``sampling`` modules import its deprecated
  ``pgmpy.estimators.StructureScore``, which emits a FutureWarning; clinicsim never uses it.
- ``pgmpy.models`` imports ``tqdm.auto``, which in a Jupyter kernel without ipywidgets
  warns "IProgress not found" (TqdmWarning); clinicsim never shows pgmpy's progress bars.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

from tqdm import TqdmWarning

__all__ = ["quiet_import"]


@contextlib.contextmanager
def quiet_import() -> Iterator[None]:
    """A context in which importing pgmpy modules does not print the warnings above."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"`pgmpy\.estimators\.\w+` is deprecated",
                                FutureWarning)
        warnings.filterwarnings("ignore", r"IProgress not found", TqdmWarning)
        yield
