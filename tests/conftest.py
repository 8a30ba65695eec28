import pytest

import clinicsim


@pytest.fixture
def model() -> clinicsim.ClinicModel:
    """A fresh default model that a test may edit."""
    return clinicsim.default_model()


def se(p: float, n: int) -> float:
    """Standard error of a proportion ``p`` estimated from ``n`` rows."""
    return (p * (1 - p) / n) ** 0.5
