import os

import pytest
from hypothesis import settings

import clinicsim
from clinicsim._pgmpy import quiet_import

with quiet_import():
    # Some tests use pgmpy's inference directly; clinicsim itself imports it only when
    # needed (tests/test_imports.py checks that it does so quietly, in a fresh process).
    import pgmpy.inference  # noqa: F401

# CI replays the same examples every run (a fixed seed for hypothesis); locally each run
# explores new ones, so a bug found there is found by a developer, not by a landing CI.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def model() -> clinicsim.ClinicModel:
    """A fresh default model that a test may edit."""
    return clinicsim.default_model()


def se(p: float, n: int) -> float:
    """Standard error of a proportion ``p`` estimated from ``n`` rows."""
    return (p * (1 - p) / n) ** 0.5


def assert_same_frame(left, right) -> None:
    """Same columns, dtypes, index and values; much quicker than pandas' assert_frame_equal
    on large categorical columns (which it compares value by value)."""
    assert list(left.columns) == list(right.columns)
    assert left.dtypes.equals(right.dtypes), (left.dtypes, right.dtypes)
    assert left.index.equals(right.index)
    assert left.equals(right)
