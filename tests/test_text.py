"""Text that is not valid Unicode (a lone surrogate, U+D800..U+DFFF) is refused where it
comes in: a model names the node or state, records the column and row; nothing fails later
with a ``UnicodeEncodeError`` when it is written."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import clinicsim
import clinicsim.fhir
from clinicsim import ArgumentError, ModelError, RecordsError
from clinicsim._cli import main
from clinicsim._text import not_unicode
from clinicsim.analysis._records import read_records
from clinicsim.model import model_from_dict, model_to_dict

BAD = "fl\ud800u"
WHY = "is not valid Unicode text (lone surrogate U+D800 at character 3)"


def with_bad_diagnosis(model: clinicsim.ClinicModel) -> str:
    """The model as a JSON file's text, ``influenza`` renamed 'fl\\ud800u' everywhere:
    valid UTF-8, as JSON spells the surrogate with an escape."""
    return json.dumps(model_to_dict(model), indent=1).replace('"influenza"', '"fl\\ud800u"')


def test_a_model_file_with_a_lone_surrogate_is_refused_naming_node_and_state(model, tmp_path):
    path = tmp_path / "m.json"
    path.write_text(with_bad_diagnosis(model), encoding="utf-8")
    with pytest.raises(ModelError) as info:
        clinicsim.load_model(path)
    # once, though the state is also a key of CPD columns and metadata
    assert info.value.errors == [f"{path}: state 'fl\\ud800u' of node 'diagnosis' {WHY}"]
    yaml_path = tmp_path / "m.yaml"
    yaml_path.write_text('schema_version: 1\nnodes: {"x\\udc00": {}}\n', encoding="utf-8")
    # libyaml refuses the escape itself; PyYAML's own parser reads it, and the model refuses it
    with pytest.raises(ModelError, match=r"invalid Unicode character escape code \(line 2, "
                                         r"column 13\)|node 'x\\udc00' is not valid Unicode text "
                                         r"\(lone surrogate U\+DC00 at character 2\)"):
        clinicsim.load_model(yaml_path)


def test_other_text_is_named_by_its_place(model):
    data = model_to_dict(model)
    data["metadata"]["diagnoses"]["asthma"]["code"] = "J45\udfff"
    data["description"] = "\ud83d"
    with pytest.raises(ModelError) as info:
        model_from_dict(data, source="m")
    assert info.value.errors == [
        "m: description: '\\ud83d' is not valid Unicode text (lone surrogate U+D83D at "
        "character 1)",
        "m: metadata.diagnoses.asthma.code: 'J45\\udfff' is not valid Unicode text (lone "
        "surrogate U+DFFF at character 4)"]
    str(info.value).encode("utf-8")  # the message itself can be printed anywhere


def test_edits_refuse_it_and_leave_the_model_unchanged(model):
    before = model_to_dict(model)
    with pytest.raises(ModelError) as info:
        model.add_state("diagnosis", BAD, like="influenza", p=0.05,
                        metadata={"code": "J11", "category": "viral"})
    assert info.value.errors == [f"add_state('diagnosis', 'fl\\ud800u'): state 'fl\\ud800u' "
                                 f"of node 'diagnosis' {WHY}"]
    with pytest.raises(ModelError, match=r"targets\[0\]\.where: 'x\\ud800' is not valid"):
        model.with_targets([{"rate": {"follow_up": "True"}, "value": 0.3, "margin": 0.02,
                             "where": {"x\ud800": "y"}}])
    assert model_to_dict(model) == before


def test_a_model_renamed_so_is_not_saved(model, tmp_path):
    model.name = "clinic \udc80"
    for suffix in (".yaml", ".json", ".bif"):
        with pytest.raises(ModelError, match=r"cannot write model file .*: name: 'clinic "
                                             r"\\udc80' is not valid Unicode text"):
            model.save(tmp_path / f"m{suffix}")
    assert list(tmp_path.iterdir()) == []


def test_the_command_line_names_it_in_one_line(model, tmp_path, capsys):
    path = tmp_path / "m.json"
    path.write_text(with_bad_diagnosis(model), encoding="utf-8")
    with pytest.raises(SystemExit) as info:
        main(["model", "validate", str(path)])
    out, err = capsys.readouterr()
    assert info.value.code == 2 and out == ""
    assert err == f"error: {path}: state 'fl\\ud800u' of node 'diagnosis' {WHY}\n"


@settings(max_examples=40)
@given(st.text(min_size=1, max_size=6))  # st.characters() draws lone surrogates too
@example("fl\ud800u")
@example('a "b",\n=c\x00')
def test_any_state_name_is_kept_exactly_or_refused_as_not_unicode(tmp_path_factory, name):
    """Whatever the text, a model either keeps it through a file and the records, or
    refuses it as not valid Unicode; never a UnicodeEncodeError."""
    default = clinicsim.default_model()
    model = default.with_targets(default.targets[1:])  # no share of gender to restate
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", clinicsim.TargetWarning)
        try:
            model.add_state("gender", name, like="other", p=0.1)
        except ModelError as exc:
            assert not_unicode(name) or name in model.states("gender"), exc
            if not_unicode(name):
                assert str(exc).endswith(f"{not_unicode(name)})")
            return
    assert not_unicode(name) is None
    path = tmp_path_factory.mktemp("state") / "m.json"
    model.save(path)
    loaded = clinicsim.load_model(path)
    assert loaded.states("gender")[-1] == name
    records = loaded.sample(50, seed=3)
    assert set(records.gender.cat.categories) == set(loaded.states("gender"))


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    return clinicsim.sample(1000, seed=17)


def test_records_with_it_fail_the_column_naming_the_row(records, tmp_path):
    columns = ["patient_id", "visit_date", "age", "treatment", "follow_up"]
    damaged = records.copy()
    for row, column in enumerate(columns, 3):
        cells = records[column].astype(str).astype(object)
        cells[row] = "ab\udc00"
        damaged[column] = cells
    report = clinicsim.conformance_report(damaged)
    assert [(c.name, c.detail) for c in report.failed] == [
        (f"records: {column}", f"1 row not valid Unicode text (a lone surrogate) (row {row + 1} "
                               "'ab\\udc00')") for row, column in enumerate(columns, 3)]
    assert report.n_used == 995  # the rows are left out, as one with a missing id is
    report.save(tmp_path / "r.html")  # the report itself is valid text


def test_a_records_column_named_with_it_is_refused(records):
    named = records.copy()
    named.columns = pd.Index([*records.columns[:-1], "follow\ud800up"], dtype=object)
    with pytest.raises(RecordsError, match=r"records column 'follow\\ud800up' is not valid "
                                           r"Unicode text \(lone surrogate U\+D800 at "
                                           r"character 7\); rename it"):
        clinicsim.conformance_report(named)


def test_fhir_and_sample_remaining_refuse_it_naming_column_and_row(records, tmp_path):
    ids = records.patient_id.astype(object)
    ids[1] = "P\udc80"
    with pytest.raises(RecordsError, match=r"records: patient_id: 1 row not valid Unicode "
                                           r"text .*row 2 'P\\udc80'"):
        clinicsim.fhir.write(tmp_path / "fhir", records.assign(patient_id=ids))
    assert list(tmp_path.iterdir()) == []
    known = pd.DataFrame({"gender": pd.Series(["male", "fe\ud800"], dtype=object),
                          "patient_id": pd.Series(["a", "b"], dtype=object)})
    with pytest.raises(ArgumentError) as info:
        clinicsim.sample_remaining(known, seed=1)
    assert info.value.errors == ["`known` column 'gender' row 2: 'fe\\ud800' is not valid "
                                 "Unicode text (lone surrogate U+D800 at character 3)"]
    assert np.array_equal(clinicsim.sample_remaining(known.iloc[:1], seed=1).gender, ["male"])


def test_a_json_lines_file_with_it_is_refused_naming_line_and_column(records, tmp_path):
    path = tmp_path / "r.jsonl"
    records.head(5).to_json(path, orient="records", lines=True, date_format="iso")
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace('"P0000002"', '"P\\ud83d\\ude00"')  # a pair: U+1F600
    lines[2] = lines[2].replace('"P0000003"', '"P\\ud800"')  # valid UTF-8: a JSON escape
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(RecordsError) as info:
        clinicsim.conformance_report(path)
    assert info.value.errors == [f"cannot read records file {str(path)!r}: line 3: column "
                                 "'patient_id': 'P\\ud800' is not valid Unicode text (lone "
                                 "surrogate U+D800 at character 2)"]
    # pandas' own parser would have read it as 'P', silently
    path.write_text("\n".join(lines[:2]) + "\n")
    assert clinicsim.conformance_report(path).n_used == 2
    assert read_records(path).patient_id.tolist() == ["P0000001", "P😀"]
