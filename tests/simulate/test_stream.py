"""Streaming to files: identical bytes whatever the chunk size, bounded chunks, bad input."""

import hashlib

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import clinicsim
from clinicsim.simulate import BLOCK_ROWS, Sampler, _writers, write_sample
from tests.conftest import assert_same_frame

N = BLOCK_ROWS + 4321
CHUNK_SIZES = [None, 997, BLOCK_ROWS, 50_000, 10 * N]


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def small_row_groups(monkeypatch):
    """Several Parquet row groups at test size, so re-cutting chunks into them is exercised."""
    monkeypatch.setattr(_writers, "ROW_GROUP_ROWS", 20_000)


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
@pytest.mark.parametrize(("n", "sizes"), [(N, CHUNK_SIZES), (50, [1, 7, None])])
def test_same_bytes_whatever_the_chunk_size(tmp_path, small_row_groups, suffix, n, sizes):
    digests = set()
    for i, size in enumerate(sizes):
        path = tmp_path / f"r{i}{suffix}"
        assert write_sample(path, n, seed=99, chunk_size=size, extended=True) == n
        digests.add(digest(path))
    assert len(digests) == 1
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f"r{i}{suffix}" for i in range(len(sizes))]


def test_parquet_round_trip_and_row_groups(tmp_path, small_row_groups):
    path = tmp_path / "r.parquet"
    write_sample(path, N, seed=5, chunk_size=3000)
    assert pq.ParquetFile(path).metadata.num_row_groups == -(-N // 20_000)
    assert pq.read_schema(path).field("visit_date").type == pa.date32()
    expected = clinicsim.sample(N, seed=5)
    read = pd.read_parquet(path)  # pandas reads date32 as datetime.date objects
    read["visit_date"] = pd.to_datetime(read.visit_date).astype("datetime64[s]")
    assert_same_frame(read, expected)


def test_text_formats_hold_the_sampled_rows(tmp_path):
    expected = clinicsim.sample(N, seed=6, extended=True)
    write_sample(tmp_path / "r.csv", N, seed=6, extended=True, chunk_size=40_000)
    write_sample(tmp_path / "r.jsonl", N, seed=6, extended=True, chunk_size=40_000)
    for frame in (pd.read_csv(tmp_path / "r.csv"), pd.read_json(tmp_path / "r.jsonl", lines=True)):
        assert len(frame) == N and frame.patient_id.is_unique
        assert frame.patient_id.tolist() == expected.patient_id.tolist()
        assert frame.treatment.tolist() == expected.treatment.astype(str).tolist()
        assert (pd.to_datetime(frame.visit_date) == expected.visit_date).all()


def test_chunks_are_bounded_and_cover_the_table():
    sampler = Sampler(None, seed=8, engine="numpy", extended=False, n=N)
    sizes = [len(chunk) for chunk in sampler.chunks(30_000)]
    assert sizes == [30_000, 30_000, N - 60_000]
    assert_same_frame(
        pd.concat(sampler.chunks(30_000), ignore_index=True), clinicsim.sample(N, seed=8))


def test_progress_bar_does_not_change_the_output(tmp_path):
    write_sample(tmp_path / "a.csv", 3000, seed=2, chunk_size=500, show_progress=True)
    write_sample(tmp_path / "b.csv", 3000, seed=2)
    assert digest(tmp_path / "a.csv") == digest(tmp_path / "b.csv")


@pytest.mark.parametrize("size", [0, -5, 2.5, True])
def test_bad_chunk_size(tmp_path, size):
    message = f"`chunk_size` must be a positive integer; got {size!r}"
    with pytest.raises(clinicsim.ArgumentError, match=message):
        write_sample(tmp_path / "r.csv", 10, chunk_size=size)
    assert list(tmp_path.iterdir()) == []


def test_bad_outputs(tmp_path):
    with pytest.raises(clinicsim.ClinicSimError, match="unknown records format '.xlsx'"):
        write_sample(tmp_path / "r.xlsx", 10)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(clinicsim.ClinicSimError, match="'.*full': directory is not empty"):
        write_sample(tmp_path / "full", 10)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["keep.txt"]


def test_interrupted_stream_leaves_nothing(tmp_path, monkeypatch):
    calls = []

    def rows(self, start, stop, original=Sampler.rows):
        calls.append(start)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(self, start, stop)

    monkeypatch.setattr(Sampler, "rows", rows)
    with pytest.raises(KeyboardInterrupt):
        write_sample(tmp_path / "r.parquet", N, seed=1, chunk_size=10_000)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("suffix", "bytes_per_row"), [(".csv", 65.4), (".jsonl", 154.4),
                                                       (".parquet", 10.2), ("/", 10.2)])
def test_output_that_cannot_fit_is_refused_up_front(tmp_path, monkeypatch, suffix, bytes_per_row):
    """The estimate is the first block's size in the output format, times the rows."""
    from collections import namedtuple

    from clinicsim.simulate import _stream

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(_stream.shutil, "disk_usage", lambda path: usage(0, 0, 5_000_000))
    n = 2_000_000
    output = f"{tmp_path}/r{suffix}" if suffix != "/" else f"{tmp_path}/parts/"
    with pytest.raises(clinicsim.ClinicSimError) as info:
        write_sample(output, n, seed=1)
    message = str(info.value)
    assert message.startswith(f"output {output.rstrip('/')!r}: 2,000,000 records need about ")
    assert message.endswith(f"but {str(tmp_path)!r} has 5.0 MB free; sample fewer rows or write "
                            "elsewhere")
    estimate = float(message.split("about ")[1].split(" MB")[0])
    assert estimate == pytest.approx(n * bytes_per_row / 1e6, rel=0.02)
    assert list(tmp_path.iterdir()) == []


def test_space_is_not_measured_when_the_output_fits_at_1_kib_a_row(tmp_path, monkeypatch):
    from collections import namedtuple

    from clinicsim.simulate import _stream

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(_stream.shutil, "disk_usage", lambda path: usage(0, 0, 1024 * 100))
    monkeypatch.setattr(_stream, "encoded_bytes", lambda *a: pytest.fail("measured"))
    assert write_sample(tmp_path / "r.csv", 100, seed=1) == 100
