"""`clinicsim model fit` and `clinicsim model show --targets`."""

import pytest
import yaml

import clinicsim
from clinicsim._cli import main


def run(capsys, *argv):
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    out, err = capsys.readouterr()
    return exit_.value.code, out, err


@pytest.fixture(scope="module")
def edited(tmp_path_factory):
    """The default model with asthma's follow-up set to 0.9 in every age band."""
    model = clinicsim.default_model()
    cpd = model.cpd("follow_up")
    cols = [c for c in cpd.columns if c[1] == "asthma"]
    cpd.loc["True", cols], cpd.loc["False", cols] = 0.9, 0.1
    with pytest.warns(clinicsim.TargetWarning, match="rate follow_up=True"):
        model.set_cpd("follow_up", cpd)
    path = tmp_path_factory.mktemp("fit") / "edited.yaml"
    model.save(path)
    return path


def test_show_targets_lists_each_statement_with_its_exact_value(capsys, edited):
    code, out, _ = run(capsys, "model", "show", "--targets")
    assert code == 0
    assert "  rate follow_up=True\n    met: 0.3000 (target 0.3 ± 0.02)" in out
    assert "even age 0..89" in out and "MISSED" not in out
    code, out, _ = run(capsys, "model", "show", "--targets", "--model", str(edited))
    rate = clinicsim.load_model(edited).marginal("follow_up")["True"]
    assert code == 0 and f"MISSED: {rate:.4f} (target 0.3 ± 0.02)" in out


def test_fit_with_a_kept_column_writes_a_model_meeting_the_rate(capsys, edited, tmp_path):
    out_file = tmp_path / "fitted.yaml"
    code, out, err = run(capsys, "model", "fit", "--model", str(edited), "-o", str(out_file),
                         "--keep", "follow_up:diagnosis=asthma")
    assert code == 0 and f"wrote {out_file}" in err
    assert out.startswith("90 CPD columns changed")  # 96 follow_up columns, 6 kept
    assert "asthma" not in out and "follow_up" in out
    fitted = clinicsim.load_model(out_file)
    assert abs(fitted.marginal("follow_up")["True"] - 0.30) <= 1e-9
    before = clinicsim.load_model(edited).cpd("follow_up")
    kept = [c for c in before.columns if c[1] == "asthma"]
    assert (fitted.cpd("follow_up")[kept] == before[kept]).all().all()
    code, out, _ = run(capsys, "model", "fit", "--model", str(out_file), "-o",
                       str(tmp_path / "again.yaml"))
    assert code == 0 and out.startswith("nothing to change")


@pytest.mark.parametrize("keep, message", [
    ("follow_up", "--keep must be NODE:PARENT=STATE"),
    ("follow_up:diagnosis", "--keep must be NODE:PARENT=STATE"),
    # named as typed, not as the Python argument keep[0]
    ("follow_up:gender=male", "--keep 'follow_up:gender=male': 'gender' is not a parent of "
                              "'follow_up'"),
    ("nope:diagnosis=asthma", "--keep 'nope:diagnosis=asthma': unknown node 'nope'"),
    # one column is one state per parent: asthma was silently dropped before
    ("follow_up:diagnosis=asthma,diagnosis=copd",
     "--keep 'follow_up:diagnosis=asthma,diagnosis=copd': 'diagnosis' named twice; a column "
     "gives each parent one state (keep two columns with two --keep options)"),
    ("follow_up:diagnosis=asthma, diagnosis =asthma", "'diagnosis' named twice"),
])
def test_bad_keep_is_refused_and_nothing_written(capsys, tmp_path, keep, message):
    out_file = tmp_path / "fitted.yaml"
    code, _, err = run(capsys, "model", "fit", "-o", str(out_file), "--keep", keep)
    assert code == 2 and message in err and not out_file.exists()


def test_impossible_targets_are_refused_naming_them(capsys, tmp_path):
    model = clinicsim.default_model()
    statement = {"rate": {"follow_up": "True"}, "value": 0.9, "margin": 0.02,
                 "where": {"diagnosis": ["adult_checkup"], "age_group": ["0_14"]}}
    # adult_checkup has probability 0 under 15: refused where the model is made (issue 20)
    with pytest.raises(clinicsim.ModelError, match="its group has probability 0"):
        model.with_targets([*model.targets, statement])
    data = clinicsim.model.model_to_dict(model)
    data["targets"].append(statement)
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(data))
    out_file = tmp_path / "fitted.yaml"
    code, _, err = run(capsys, "model", "fit", "--model", str(tmp_path / "bad.yaml"),
                       "-o", str(out_file))
    assert code == 2 and err.startswith("error: ") and not out_file.exists()
    assert "rate follow_up=True where age_group=0_14 where diagnosis=adult_checkup" in err
