"""The command line: outputs by suffix, exit codes, one-line errors, no partial files."""

import pandas as pd
import pytest

import clinicsim
from clinicsim._cli import main


def run(capsys, *argv):
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    out, err = capsys.readouterr()
    return info.value.code, out, err


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_sample_writes_by_suffix(capsys, tmp_path, suffix):
    path = tmp_path / f"r{suffix}"
    code, _, err = run(capsys, "sample", "-n", "300", "--seed", "4", "-o", str(path))
    assert code == 0 and "wrote 300 records" in err
    read = {".csv": pd.read_csv, ".parquet": pd.read_parquet,
            ".jsonl": lambda p: pd.read_json(p, lines=True)}[suffix]
    frame = read(path)
    expected = clinicsim.sample(300, seed=4)
    assert list(frame.columns) == list(expected.columns)
    assert frame.patient_id.tolist() == expected.patient_id.tolist()
    assert frame.diagnosis.astype(str).tolist() == expected.diagnosis.astype(str).tolist()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_sample_chunk_size_changes_nothing(capsys, tmp_path):
    for size in ("1000", "70000"):
        code, _, err = run(capsys, "sample", "-n", "70000", "--seed", "3", "--chunk-size", size,
                           "-o", str(tmp_path / f"r{size}.parquet"))
        assert code == 0 and "wrote 70,000 records" in err
    assert (tmp_path / "r1000.parquet").read_bytes() == (tmp_path / "r70000.parquet").read_bytes()


def test_sample_to_stdout(capsys):
    code, out, _ = run(capsys, "sample", "-n", "3", "--seed", "1", "--extended",
                       "--engine", "pgmpy")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 4
    assert lines[0].endswith("diagnosis_category,follow_up_date")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sample", "-n", "-5"], "`n` must be a positive integer; got -5"),
        (["sample", "-n", "0"], "`n` must be a positive integer; got 0"),
        (["sample", "-n", "abc"], "Invalid value for '-n'"),
        (["sample", "--engine", "pgmp"], "`engine` must be one of numpy, pgmpy; got 'pgmp'"),
        (["sample", "-o", "out.txt"], "unknown records format '.txt'"),
        (["sample", "-o", "missing/out.csv"], "folder 'missing' does not exist"),
        (["sample", "--model", "nope.yaml"], "cannot read model file 'nope.yaml'"),
        (["sample", "--bogus"], "No such option: --bogus"),
        (["model", "show", "mood"], "unknown node 'mood'"),
        (["sample", "--chunk-size", "0"], "`chunk_size` must be a positive integer; got 0"),
        (["sample", "--chunk-size", "-2"], "`chunk_size` must be a positive integer; got -2"),
        (["sample", "--workers", "0"], "`workers` must be a positive integer; got 0"),
        (["sample", "--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"],
         "give either `workers` or `scheduler`, not both"),
        (["sample", "-o", "no/such/dir/"], "folder 'no/such' does not exist"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_model_show_export_validate(capsys, tmp_path):
    code, out, _ = run(capsys, "model", "show")
    assert code == 0 and "diagnosis    parents: gender, age_group" in out
    code, out, _ = run(capsys, "model", "show", "gender")
    assert code == 0 and "0.4500" in out
    code, out, _ = run(capsys, "model", "show", "follow_up")
    assert code == 0 and "marginal" in out
    path = tmp_path / "m.yaml"
    assert run(capsys, "model", "export", "-o", str(path))[0] == 0
    code, out, _ = run(capsys, "model", "validate", str(path))
    assert code == 0 and out.startswith("ok:")
    head, tail = path.read_text().split("\nnodes:")
    path.write_text(head + "\nnodes:" + tail.replace("male: 0.45", "male: 0.55", 1))
    code, _, err = run(capsys, "model", "validate", str(path))
    assert code == 2 and "'gender' sums to 1.1, not 1" in err


def test_interrupted_write_leaves_nothing(tmp_path, monkeypatch):
    """Ctrl-C in the middle of a write: no file, no temporary."""
    from clinicsim.simulate import _writers

    def chunks():
        yield clinicsim.sample(10, seed=1)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _writers.write_records(chunks(), tmp_path / "r.csv")
    assert list(tmp_path.iterdir()) == []
