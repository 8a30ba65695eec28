"""Bad arguments: every public function refuses them with one ArgumentError (a ClinicSimError
and a ValueError) whose message names the argument and the value."""

import math

import numpy as np
import pytest

import clinicsim
from clinicsim._validate import check_int, shown
from clinicsim.simulate import Sampler, to_dask, write_sample


@pytest.fixture(scope="module")
def report():
    return clinicsim.conformance_report(clinicsim.sample(300, seed=1))


def _sample(**kwargs):
    return lambda tmp, report: clinicsim.sample(**{"n": 10, "seed": 1, **kwargs})


def _to_dask(**kwargs):
    return lambda tmp, report: to_dask(**{"n": 10, "seed": 1, **kwargs})


def _write(**kwargs):
    return lambda tmp, report: write_sample(tmp / "r.csv", **{"n": 10, "seed": 1, **kwargs})


def _report(**kwargs):
    return lambda tmp, report: clinicsim.conformance_report(clinicsim.sample(50, seed=2),
                                                            **kwargs)


POSITIVE = "`{}` must be a positive integer; got {}"
SEED = "`seed` must be a non-negative integer; got {}"
ALPHA = "`alpha` must be a number in (0, 0.5); got {}"

BAD = [
    # sample: n, seed, engine
    (_sample(n=-3), POSITIVE.format("n", "-3")),
    (_sample(n=0), POSITIVE.format("n", "0")),
    (_sample(n=5.0), POSITIVE.format("n", "5.0")),
    (_sample(n=2.5), POSITIVE.format("n", "2.5")),
    (_sample(n=True), POSITIVE.format("n", "True")),
    (_sample(n="10"), POSITIVE.format("n", "'10'")),
    (_sample(n=None), POSITIVE.format("n", "None")),
    (_sample(n=np.int64(-1)), POSITIVE.format("n", "-1")),
    (_sample(n=-(10**5000)), POSITIVE.format("n", "an integer of 5,001 digits")),
    (_sample(seed=-1), SEED.format("-1")),
    (_sample(seed="42"), SEED.format("'42'")),
    (_sample(seed=1.5), SEED.format("1.5")),
    (_sample(seed=True), SEED.format("True")),
    (_sample(seed=np.bool_(False)), SEED.format("False")),
    (_sample(seed=np.float64(3.0)), SEED.format("3.0")),
    (_sample(seed=[1, 2]), SEED.format("[1, 2]")),
    (_sample(engine="pgmp"), "`engine` must be one of numpy, pgmpy; got 'pgmp'"),
    (_sample(engine=None), "`engine` must be one of numpy, pgmpy; got None"),
    (lambda tmp, report: clinicsim.default_model().sample(0, seed=1),
     POSITIVE.format("n", "0")),
    # the Dask path
    (_to_dask(npartitions=0), "`npartitions` must be an integer from 1 to n=10; got 0"),
    (_to_dask(npartitions=11), "`npartitions` must be an integer from 1 to n=10; got 11"),
    (_to_dask(npartitions=2.0), "`npartitions` must be an integer from 1 to n=10; got 2.0"),
    (_to_dask(npartitions=np.int64(-2)), "`npartitions` must be an integer from 1 to n=10; got -2"),
    (_to_dask(n=-1), POSITIVE.format("n", "-1")),
    (_to_dask(seed="1"), SEED.format("'1'")),
    # streaming to a file
    (_write(chunk_size=0), POSITIVE.format("chunk_size", "0")),
    (_write(chunk_size=2.5), POSITIVE.format("chunk_size", "2.5")),
    (_write(chunk_size=True), POSITIVE.format("chunk_size", "True")),
    (_write(workers=0), POSITIVE.format("workers", "0")),
    (_write(workers=1.5), POSITIVE.format("workers", "1.5")),
    (_write(workers=2, scheduler="tcp://h:1"),
     "give either `workers` or `scheduler`, not both; got workers=2 and scheduler='tcp://h:1'"),
    (_write(scheduler=" "), "`scheduler` must be an address such as tcp://host:8786; got ' '"),
    (lambda tmp, report: write_sample("r.txt", 10, seed=1),
     "output 'r.txt': unknown records format '.txt'; use .csv, .parquet, .jsonl, .duckdb, "
     ".sqlite, .sqlite3"),
    (lambda tmp, report: Sampler(None, seed=1, engine="numpy", extended=False, n=10)
     .chunks(0).__next__(), POSITIVE.format("chunk_size", "0")),
    # the report
    (_report(alpha=1.5), ALPHA.format("1.5")),
    (_report(alpha=0), ALPHA.format("0")),
    (_report(alpha=0.5), ALPHA.format("0.5")),
    (_report(alpha=math.nan), ALPHA.format("nan")),
    (_report(alpha=True), ALPHA.format("True")),
    (_report(alpha="0.05"), ALPHA.format("'0.05'")),
    (lambda tmp, report: report.save("r.txt"),
     "report 'r.txt': unknown report format '.txt'; use .html, .md, .json"),
    (lambda tmp, report: report.save(3),
     "report must be a path to a .html, .md, .json file; got 3"),
]


@pytest.mark.parametrize(("call", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_argument(tmp_path, monkeypatch, report, call, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(clinicsim.ArgumentError) as info:
        call(tmp_path, report)
    assert isinstance(info.value, ValueError) and isinstance(info.value, clinicsim.ClinicSimError)
    assert str(info.value) == message
    assert list(tmp_path.iterdir()) == []  # refused before anything was written


def test_numpy_integers_and_huge_seeds_are_accepted():
    expected = clinicsim.sample(20, seed=7)
    assert clinicsim.sample(np.int64(20), seed=np.uint8(7)).equals(expected)
    assert to_dask(np.int64(20), seed=7, npartitions=np.int64(2)).compute().equals(expected)
    assert len(clinicsim.sample(3, seed=2**200)) == 3
    assert clinicsim.conformance_report(expected, alpha=np.float64(0.05)).alpha == 0.05


SHOWN = [
    (10**5000, "an integer of 5,001 digits"),
    (10**5000 - 1, "an integer of 5,000 digits"),
    (-(10**4000), "an integer of 4,001 digits"),
    (10**3000, "1" + "0" * 56 + "..."),  # repr works below 4,300 digits; cut to 60 characters
    ("x" * 100, "'" + "x" * 56 + "..."),
    (np.int32(-3), "-3"),
    (np.float32(0.5), "0.5"),
]


@pytest.mark.parametrize(("value", "text"), SHOWN, ids=[t for _, t in SHOWN])
def test_shown_values(value, text):
    assert shown(value) == text


def test_check_int_bounds():
    assert check_int(0, "seed", low=0) == 0
    with pytest.raises(clinicsim.ArgumentError,
                       match="^`k` must be an integer of at least 2; got 1$"):
        check_int(1, "k", low=2)
    assert check_int(np.uint64(2**63), "x", high=2**64) == 2**63
