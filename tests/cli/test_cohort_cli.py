"""``--given`` on ``clinicsim sample`` and ``clinicsim report``."""

import pandas as pd
import pytest

from .test_cli import run


def test_sample_and_report_a_cohort(capsys, tmp_path):
    path, report = tmp_path / "c.csv", tmp_path / "r.json"
    code, _, err = run(capsys, "sample", "-n", "800", "--seed", "5", "-o", str(path),
                       "--given", "diagnosis=type2_diabetes", "--given", "age=65-89",
                       "--report", str(report))
    assert code == 0, err
    records = pd.read_csv(path)
    assert len(records) == 800
    assert (records.diagnosis == "type2_diabetes").all() and records.age.between(65, 89).all()
    code, _, err = run(capsys, "report", str(path), "--given", "diagnosis=type2_diabetes",
                       "--given", "age=65-89")
    assert code == 0, err
    code, _, _ = run(capsys, "report", str(path))  # not the unconditional model's sample
    assert code == 1


def test_lists_of_states(capsys, tmp_path):
    path = tmp_path / "c.csv"
    code, _, err = run(capsys, "sample", "-n", "300", "--seed", "1", "-o", str(path),
                       "--given", "diagnosis_category=chronic,viral", "--given", "follow_up=True")
    assert code == 0, err
    records = pd.read_csv(path)
    assert records.follow_up.all()


@pytest.mark.parametrize(("given", "message"), [
    (["diagnosis=flu"], "unknown state"),
    (["age=90-99"], "no age band holds an age in 90..99"),
    (["age"], "expected NODE=STATE"),
    (["follow_up=True", "follow_up=False"], "appears twice"),
    (["diagnosis=well_child_visit", "age_group=75_89"], "probability 0"),
])
def test_bad_given_is_one_line_exit_2_and_nothing_written(capsys, tmp_path, given, message):
    path = tmp_path / "c.csv"
    argv = ["sample", "-n", "10", "-o", str(path)]
    for item in given:
        argv += ["--given", item]
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not path.exists() and list(tmp_path.iterdir()) == []
