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
