"""``clinicsim report`` and ``clinicsim sample --report``: exit 0 passed, 1 failed, 2 bad input."""

import json

import pytest

import clinicsim
from clinicsim._cli import main
from tests.analysis import helpers


def run(capsys, *argv):
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    out, err = capsys.readouterr()
    return info.value.code, out, err


def test_sample_with_report_writes_both_and_passes(capsys, tmp_path):
    records, report = tmp_path / "clinic_records.csv", tmp_path / "conformance.json"
    code, out, err = run(capsys, "sample", "-n", "5000", "--seed", "42", "-o", str(records),
                         "--report", str(report))
    assert code == 0, err
    assert "wrote 5,000 records" in err and "PASSED: 5,000 records" in err and out == ""
    assert json.loads(report.read_text())["passed"] is True
    code, out, _ = run(capsys, "report", str(records))
    assert code == 0 and out.startswith("PASSED: 5,000 records")


def test_sample_to_stdout_keeps_the_summary_off_the_csv(capsys, tmp_path):
    code, out, err = run(capsys, "sample", "-n", "50", "--seed", "1", "--report",
                         str(tmp_path / "r.md"))
    assert code == 0 and len(out.splitlines()) == 51 and "PASSED" in err


def test_skewed_table_fails_with_exit_1_naming_check_and_deviation(capsys, tmp_path):
    model = clinicsim.default_model()
    records = tmp_path / "skewed.parquet"
    clinicsim.sample(5000, model=helpers.follow_up_rate(model, 0.38), seed=3).to_parquet(records)
    report = tmp_path / "report.md"
    code, out, _ = run(capsys, "report", str(records), "-o", str(report))
    assert code == 1
    assert out.startswith("FAILED") and "FAILED target: rate follow_up=True:" in out
    text = report.read_text()
    line = next(row for row in text.splitlines() if row.startswith("| rate follow_up=True |"))
    deviation = float(line.split("|")[3])
    assert "| failed |" in line and deviation == pytest.approx(0.08, abs=0.03)


def test_report_with_model_file_and_alpha(capsys, tmp_path):
    model = helpers.gender_off(clinicsim.default_model())
    model.save(tmp_path / "m.yaml")
    records = tmp_path / "r.csv"
    model.sample(3000, seed=5).to_csv(records, index=False)
    # against its own model the gender marginal fits, but the stated target (45%) does not
    code, out, _ = run(capsys, "report", str(records), "--model", str(tmp_path / "m.yaml"),
                       "--alpha", "0.05")
    assert code == 1 and "at alpha 0.05" in out
    assert "FAILED target: share gender" in out and "FAILED model" not in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["report", "missing.csv"], "cannot read records file 'missing.csv': no such file"),
        (["report", "records.txt"], "unknown format '.txt'"),
        (["report", "cut.csv"], "records are missing column(s) 'gender'"),
        (["report", "good.csv", "--alpha", "0"], "`alpha` must be a number in (0, 0.5); got 0.0"),
        (["report", "good.csv", "--alpha", "x"], "Invalid value for '--alpha'"),
        (["report", "good.csv", "-o", "report.pdf"], "unknown report format '.pdf'"),
        (["report", "good.csv", "-o", "missing/report.md"], "folder 'missing' does not exist"),
        (["sample", "-n", "10", "-o", "r2.csv", "--report", "r.txt"], "unknown report format"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    records = clinicsim.sample(100, seed=1)
    records.to_csv("good.csv", index=False)
    records.drop(columns="gender").to_csv("cut.csv", index=False)
    (tmp_path / "records.txt").write_text("x\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == before
