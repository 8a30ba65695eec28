import os

import pytest
from hypothesis import HealthCheck, settings

import clinicsim
from clinicsim._pgmpy import quiet_import

with quiet_import():
    # Some tests use pgmpy's inference directly; clinicsim itself imports it only when
    # needed (tests/test_imports.py checks that it does so quietly, in a fresh process).
    import pgmpy.inference  # noqa: F401

# Every run of the suite tests the same examples, locally and in CI (CI's script runs a plain
# `pytest`, no CI variable), so no run can go red by chance: derandomize takes each test's
# seed from its own code, database=None keeps an example one run found (.hypothesis/) from
# being replayed by the next, and nothing depends on time (no deadline, no too_slow check:
# two cores shared by several jobs make any test slow now and then). To look for new
# examples, run a file with HYPOTHESIS_PROFILE=explore, and pin what it finds with @example.
_UNTIMED = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow], "print_blob": True}
settings.register_profile("deterministic", derandomize=True, database=None, **_UNTIMED)
settings.register_profile("explore", **_UNTIMED)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))


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
