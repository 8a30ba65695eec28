"""The guide table gives exactly searchsorted's answers, for any power-of-two range."""

import numpy as np
import pytest

from clinicsim.simulate._guide import GuideTable


@pytest.mark.parametrize("top", [2.0, 16.0, 1024.0])
def test_one_sorted_array_over_any_range(top):
    rng = np.random.default_rng(8)
    cdf = np.sort(rng.random(500) * top * 0.9)
    cdf[100:110] = cdf[100]  # repeated entries (zero weights)
    x = rng.random(200_000) * top * 0.95
    x[:500] = cdf  # keys exactly on entries, and one ulp either side
    x[500:1000] = np.nextafter(cdf, 0)
    x[1000:1500] = np.nextafter(cdf, top)
    x[1500:1510] = 0.0
    x[1510:1520] = np.nextafter(top, 0)  # past the last entry
    got = GuideTable(cdf, top=top).find(x)
    assert got.tolist() == np.searchsorted(cdf, x, side="right").tolist()


def test_top_must_be_a_power_of_two():
    with pytest.raises(ValueError, match="power of two"):
        GuideTable(np.array([0.5, 1.0]), top=12.0)
