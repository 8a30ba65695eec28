"""Dask: to_dask equals sample(); a real LocalCluster on loopback writes the same bytes."""

import sys

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import clinicsim
from clinicsim.simulate import BLOCK_ROWS, to_dask, write_sample
from clinicsim.simulate._dask import partition_bounds
from tests.conftest import assert_same_frame

distributed = pytest.importorskip("distributed")

N = 2 * BLOCK_ROWS + 555


@pytest.mark.parametrize("npartitions", [None, 1, 2, 3, 9])
def test_to_dask_equals_sample(npartitions):
    frame = to_dask(N, seed=21, npartitions=npartitions)
    assert frame.npartitions == (npartitions or 1)
    assert frame.known_divisions and frame.divisions[0] == 0 and frame.divisions[-1] == N - 1
    computed = frame.compute(scheduler="sync")
    assert_same_frame(computed, clinicsim.sample(N, seed=21))  # index 0..n-1, dtypes


def test_to_dask_extended_edited_model_and_fresh_seed(model):
    with pytest.warns(clinicsim.TargetWarning):
        model.set_cpd("gender", {"male": 0.2, "female": 0.2, "other": 0.6})
    frame = to_dask(3000, model=model, seed=4, npartitions=2, extended=True)
    with pytest.warns(clinicsim.TargetWarning):
        model.set_cpd("gender", {"male": 1.0, "female": 0.0, "other": 0.0})  # too late to matter
    computed = frame.compute(scheduler="sync")
    assert computed.gender.value_counts(normalize=True)["other"] > 0.5
    assert computed.columns.tolist() == list(clinicsim.simulate.EXTENDED_COLUMNS)
    fresh = to_dask(1000, seed=None, npartitions=3)
    assert_same_frame(fresh.compute(scheduler="sync"), fresh.compute(scheduler="sync"))


def test_partitions_are_whole_blocks():
    assert partition_bounds(N, 3) == [0, BLOCK_ROWS, 2 * BLOCK_ROWS, N]
    assert partition_bounds(N, 2) == [0, BLOCK_ROWS, N]
    assert partition_bounds(10, 3) == [0, 3, 6, 10]  # fewer blocks than partitions: slices


@pytest.mark.parametrize("npartitions", [0, -1, 11, 2.0])
def test_bad_npartitions(npartitions):
    message = f"`npartitions` must be .*got {npartitions!r}"
    with pytest.raises(clinicsim.ArgumentError, match=message):
        to_dask(10, seed=1, npartitions=npartitions)


def test_missing_dask_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.dataframe", None)  # `import dask.dataframe` fails
    with pytest.raises(clinicsim.ClinicSimError, match=r"pip install 'clinicsim\[dask\]'"):
        to_dask(10, seed=1)


@pytest.fixture(scope="module")
def scheduler():
    """A real two-worker cluster, loopback only (threads: quick to start)."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  protocol="tcp", host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0") as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        yield cluster.scheduler_address


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_cluster_writes_the_serial_bytes(tmp_path, scheduler, suffix):
    serial, clustered = tmp_path / f"serial{suffix}", tmp_path / f"cluster{suffix}"
    write_sample(serial, N, seed=77, extended=True)
    write_sample(clustered, N, seed=77, extended=True, scheduler=scheduler, chunk_size=BLOCK_ROWS)
    assert serial.read_bytes() == clustered.read_bytes()


def test_cluster_writes_partitioned_parquet(tmp_path, scheduler):
    out = tmp_path / "records"
    assert write_sample(f"{out}/", N, seed=5, scheduler=scheduler, chunk_size=BLOCK_ROWS) == N
    assert sorted(p.name for p in out.iterdir()) == ["part.0.parquet", "part.1.parquet",
                                                       "part.2.parquet"]
    assert [p.name for p in tmp_path.iterdir()] == ["records"]  # no temporary left
    assert pq.read_schema(out / "part.0.parquet").field("visit_date").type == pa.date32()
    read = pd.read_parquet(out)  # pandas reads date32 as datetime.date objects
    read["visit_date"] = pd.to_datetime(read.visit_date).astype("datetime64[s]")
    assert_same_frame(read, clinicsim.sample(N, seed=5))


def test_cli_workers_processes(tmp_path, capsys):
    """`--workers 2` starts two local worker processes on 127.0.0.1; same bytes as serial."""
    from clinicsim._cli import main

    for name, extra in [("serial.jsonl", []), ("workers.jsonl", ["--workers", "2"])]:
        with pytest.raises(SystemExit) as info:
            main(["sample", "-n", "70000", "--seed", "12", "--chunk-size", "65536",
                  "-o", str(tmp_path / name), *extra])
        assert info.value.code == 0
    assert (tmp_path / "serial.jsonl").read_bytes() == (tmp_path / "workers.jsonl").read_bytes()
    assert "wrote 70,000 records" in capsys.readouterr().err
