"""``clinicsim sample --patients N``: visits and patients, written together or not at all."""

import pandas as pd
import pytest

import clinicsim
from clinicsim.simulate import _patients, write_patients

from .test_cli import run


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_visits_and_patients_beside_them(capsys, tmp_path, suffix):
    path = tmp_path / f"visits{suffix}"
    code, _, err = run(capsys, "sample", "--patients", "60", "--seed", "4", "-o", str(path))
    assert code == 0, err
    read = {".csv": pd.read_csv, ".parquet": pd.read_parquet,
            ".jsonl": lambda p: pd.read_json(p, lines=True)}[suffix]
    visits, patients = read(path), read(tmp_path / f"visits.patients{suffix}")
    expected = clinicsim.sample_patients(60, seed=4)
    assert visits.visit_id.tolist() == expected.visits.visit_id.tolist()
    assert patients.patient_id.tolist() == expected.patients.patient_id.tolist()
    assert f"wrote {len(visits):,} visits of 60 patients" in err


def test_a_folder_gets_visits_and_patients(capsys, tmp_path):
    folder = tmp_path / "out"
    code, _, err = run(capsys, "sample", "--patients", "30", "--seed", "4", "-o", f"{folder}/")
    assert code == 0, err
    assert sorted(p.name for p in folder.iterdir()) == ["patients.parquet", "visits.parquet"]
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "visits.parquet"),
                                  pd.read_parquet(tmp_path / "out" / "visits.parquet"))


def test_the_same_bytes_for_any_block_size(tmp_path, monkeypatch):
    write_patients(tmp_path / "a.csv", 50, seed=9)
    monkeypatch.setattr(_patients, "PATIENT_BLOCK", 8)
    write_patients(tmp_path / "b.csv", 50, seed=9)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "a.patients.csv").read_bytes() == (tmp_path / "b.patients.csv").read_bytes()


@pytest.mark.parametrize(("args", "message"), [
    (["-n", "10"], "does not take -n"),
    (["--extended", "--engine", "pgmpy"], "does not take --engine, --extended"),
    (["--report", "r.html"], "does not take --report"),
    ([], "give -o visits.parquet"),
])
def test_refused_combinations(capsys, tmp_path, args, message):
    out = [] if not args else ["-o", str(tmp_path / "v.csv")]
    code, _, err = run(capsys, "sample", "--patients", "5", *args, *out)
    assert code == 2 and message in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())


def test_zero_patients_is_refused(capsys, tmp_path):
    code, _, err = run(capsys, "sample", "--patients", "0", "-o", str(tmp_path / "v.csv"))
    assert code == 2 and "--patients must be a positive number" in err


def test_a_failure_midway_leaves_neither_file(tmp_path, monkeypatch):
    monkeypatch.setattr(_patients, "PATIENT_BLOCK", 8)
    (tmp_path / "v.csv").write_text("old\n")
    real = _patients.PatientSampler.block

    def broken(self, index):
        if index == 3:
            raise clinicsim.ClinicSimError("disk on fire")
        return real(self, index)

    monkeypatch.setattr(_patients.PatientSampler, "block", broken)
    with pytest.raises(clinicsim.ClinicSimError, match="disk on fire"):
        write_patients(tmp_path / "v.csv", 50, seed=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.csv"]
    assert (tmp_path / "v.csv").read_text() == "old\n"


def test_a_patients_file_that_cannot_be_written_stops_the_visits_too(tmp_path):
    (tmp_path / "v.patients.csv").mkdir()
    with pytest.raises(clinicsim.ClinicSimError):
        write_patients(tmp_path / "v.csv", 20, seed=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.patients.csv"]
