"""clinicsim defects: both outputs or none, the log's cells, one-line refusals."""

import pandas as pd
import pytest

import clinicsim
from clinicsim._cli import main

SPEC = "schema_version: 1\ndefects:\n  - {kind: missing, column: gender, rate: 0.05}\n" \
       "  - {kind: impossible_age, rate: 0.01}\n  - {kind: typo, column: diagnosis, rate: 0.02}\n"


def run(capsys, *argv):
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def test_writes_both(capsys, tmp_path):
    clinicsim.sample(2000, seed=1).to_csv(tmp_path / "r.csv", index=False)
    (tmp_path / "d.yaml").write_text(SPEC)
    code, _, err = run(capsys, "defects", tmp_path / "r.csv", "--spec", tmp_path / "d.yaml",
                       "-o", tmp_path / "x.csv", "--log", tmp_path / "log.csv", "--seed", 3)
    assert code == 0, err
    log = pd.read_csv(tmp_path / "log.csv", keep_default_na=False)
    assert set(log["kind"]) == {"missing", "impossible_age", "typo"}
    damaged = pd.read_csv(tmp_path / "x.csv")
    assert int(damaged["gender"].isna().sum()) == int((log["kind"] == "missing").sum())


@pytest.mark.parametrize(("spec", "message"), [
    ("defects:\n  - {kind: typo, column: gender, rate: 2}\n", "rate must be a number"),
    ("defects:\n  - {kind: typo, column: shoe, rate: 0.1}\n", "no column 'shoe'"),
    ("defects: [\n", "defects spec"),
])
def test_bad_spec_is_one_line_and_no_output(capsys, tmp_path, spec, message):
    clinicsim.sample(50, seed=1).to_csv(tmp_path / "r.csv", index=False)
    (tmp_path / "d.yaml").write_text(spec)
    code, _, err = run(capsys, "defects", tmp_path / "r.csv", "--spec", tmp_path / "d.yaml",
                       "-o", tmp_path / "x.csv", "--log", tmp_path / "log.csv")
    assert code == 2 and err.startswith("error: ") and message in err
    assert "Traceback" not in err
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "log.csv").exists()


SAMPLE_SPEC = SPEC + "  - {kind: wrong_code, rate: 0.01}\n  - {kind: swapped_date, rate: 0.02}\n" \
    "  - {kind: typo, column: age, rate: 0.01}\n  - {kind: duplicate, rate: 0.01}\n"


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_sample_defects_is_defects_on_the_clean_records(capsys, tmp_path, suffix):
    """sample --defects: the bytes of `clinicsim defects` on the clean file, same seed."""
    (tmp_path / "d.yaml").write_text(SAMPLE_SPEC)
    base = ["-n", 3000, "--seed", 9, "--extended"]
    assert run(capsys, "sample", *base, "-o", tmp_path / f"r{suffix}")[0] == 0
    code, _, err = run(capsys, "defects", tmp_path / f"r{suffix}", "--spec",
                       tmp_path / "d.yaml", "-o", tmp_path / f"a{suffix}", "--log",
                       tmp_path / f"la{suffix}", "--seed", 9)
    assert code == 0, err
    code, _, err = run(capsys, "sample", *base, "--defects", tmp_path / "d.yaml",
                       "--defects-log", tmp_path / f"lb{suffix}", "-o", tmp_path / f"b{suffix}")
    assert code == 0, err
    assert "changed cells" in err
    for a, b in [("a", "b"), ("la", "lb")]:
        assert (tmp_path / f"{a}{suffix}").read_bytes() == (tmp_path / f"{b}{suffix}").read_bytes()
    log = pd.read_csv(tmp_path / "lb.csv", keep_default_na=False) if suffix == ".csv" else None
    if log is not None:
        assert set(log["kind"]) == {"missing", "impossible_age", "typo", "wrong_code",
                                    "swapped_date", "duplicate"}


def test_sample_defects_report_checks_the_damaged_records(capsys, tmp_path):
    (tmp_path / "d.yaml").write_text(SPEC)
    code, _, err = run(capsys, "sample", "-n", 2000, "--seed", 1, "--defects",
                       tmp_path / "d.yaml", "--defects-log", tmp_path / "log.csv",
                       "-o", tmp_path / "x.csv", "--report", tmp_path / "r.md")
    assert code == 1, err  # the report finds the damage
    log = pd.read_csv(tmp_path / "log.csv", keep_default_na=False)
    missing = int(((log["kind"] == "missing") & (log["column"] == "gender")).sum())
    report = (tmp_path / "r.md").read_text()
    assert f"| gender | failed | {missing} | {missing} rows missing" in report


@pytest.mark.parametrize(("args", "message"), [
    (["--defects-log", "L.csv"], "not standard output"),
    (["-o", "X.csv"], "--defects needs --defects-log"),
    (["--patients", 5, "-o", "X.csv", "--defects-log", "L.csv"], "--defects, --defects-log"),
    (["-o", "X.csv", "--defects-log", "L.csv", "--format", "fhir"], "does not take --format"),
    (["-o", "X/", "--defects-log", "L.csv", "--format", "omop"], "does not take --format"),
    (["-o", "X.duckdb", "--defects-log", "L.csv"], "not standard output, a folder or a database"),
    (["--database", "postgresql://u:p@localhost/db", "--defects-log", "L.csv"],
     "does not take --database"),
    (["-o", "X.csv", "--defects-log", "L.csv", "--workers", 2], "does not take --workers"),
    (["-o", "X.csv", "--defects-log", "L.csv", "--chunk-size", 100], "--chunk-size"),
    (["-o", "X/", "--defects-log", "L.csv"], "a folder"),
    (["-o", "X.csv", "--defects-log", "L.txt"], "unknown log format"),
    (["-o", "X.csv", "--defects-log", "X.csv"], "two files"),
    (["-o", "X.csv", "--defects-log", "L.csv", "-n", 10**9], "in memory: at most"),
    (["-o", "X.csv", "--defects-log", "L.csv", "--spec-typo"], "No such option"),
])
def test_sample_defects_refusals(capsys, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d.yaml").write_text(SPEC)
    code, out, err = run(capsys, "sample", "-n", 20, "--defects", "d.yaml", *args)
    assert code == 2 and err.startswith("error: ") and message in err, err
    assert "Traceback" not in err and out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.yaml"]


def test_sample_defects_log_alone_and_late_errors_leave_nothing(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "sample", "-n", 20, "-o", "X.csv", "--defects-log", "L.csv")
    assert code == 2 and "--defects-log applies to --defects" in err
    # diagnosis_code is an --extended column: refused after sampling, before writing
    (tmp_path / "d.yaml").write_text(SPEC + "  - {kind: wrong_code, rate: 0.1}\n")
    (tmp_path / "X.csv").write_text("old")
    code, _, err = run(capsys, "sample", "-n", 20, "-o", "X.csv", "--defects", "d.yaml",
                       "--defects-log", "L.csv")
    assert code == 2 and "defects[3] (wrong_code): records have no column" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["X.csv", "d.yaml"]
    assert (tmp_path / "X.csv").read_text() == "old"
