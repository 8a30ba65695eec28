"""Model files: round trips through every format, and every problem reported at once."""

import json
import os
import re

import numpy as np
import pandas as pd
import pytest
import yaml
from pgmpy.factors.discrete import TabularCPD
from pgmpy.models import DiscreteBayesianNetwork
from pgmpy.readwrite import BIFWriter, XMLBIFWriter

import clinicsim
from clinicsim import ModelError
from clinicsim.model import model_to_dict


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json", ".bif", ".xmlbif"])
def test_round_trip_keeps_cpds(model, tmp_path, suffix):
    with pytest.warns(clinicsim.TargetWarning):
        model.set_cpd("gender", {"male": 0.5, "female": 0.3, "other": 0.2})
    path = tmp_path / f"m{suffix}"
    model.save(path)
    loaded = clinicsim.load_model(path)
    assert loaded.nodes == model.nodes
    for node in model.nodes:
        pd.testing.assert_frame_equal(loaded.cpd(node), model.cpd(node), atol=1e-12)
    assert loaded.diagnosis_categories == model.diagnosis_categories
    assert loaded.age_bands == model.age_bands
    if suffix in (".yaml", ".yml", ".json"):
        assert model_to_dict(loaded) == model_to_dict(model)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left behind


def write(tmp_path, data, name="m.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data) if name.endswith(".yaml") else json.dumps(data))
    return path


def test_every_problem_is_reported_at_once(model, tmp_path):
    data = model_to_dict(model)
    data["nodes"]["gender"]["cpd"]["male"] = 0.5
    data["nodes"]["follow_up"]["cpd"][3]["p"]["True"] = -0.1
    del data["nodes"]["treatment"]["cpd"][0]
    data["metadata"]["visit_window"]["end"] = "2023-01-01"
    with pytest.raises(ModelError) as info:
        clinicsim.load_model(write(tmp_path, data))
    errors = info.value.errors
    assert len(errors) == 4, errors
    assert any("'gender' sums to 1.05" in e for e in errors)
    assert any("'follow_up' column (age_group=0_14, diagnosis=copd)" in e for e in errors)
    assert any("'treatment' is missing columns (age_group=0_14, diagnosis=hypertension)" in e
               for e in errors)
    assert any("ends (2023-01-01) before it starts" in e for e in errors)
    assert all(e.startswith(str(tmp_path)) for e in errors)


def test_structure_errors(model, tmp_path):
    data = model_to_dict(model)
    data["nodes"]["gender"]["parents"] = ["follow_up"]
    data["nodes"]["gender"]["cpd"] = [
        {"given": {"follow_up": s}, "p": {"male": 0.45, "female": 0.43, "other": 0.12}}
        for s in ("True", "False")]
    with pytest.raises(ModelError, match="cycle"):
        clinicsim.load_model(write(tmp_path, data))
    data = model_to_dict(model)
    del data["nodes"]["treatment"]
    with pytest.raises(ModelError, match="required node 'treatment' is missing"):
        clinicsim.load_model(write(tmp_path, data, "m.json"))
    data = model_to_dict(model)
    data["schema_version"] = 99
    with pytest.raises(ModelError, match="unsupported schema_version 99"):
        clinicsim.load_model(write(tmp_path, data))


def test_unsafe_or_malformed_files_are_refused(tmp_path):
    evil = tmp_path / "evil.yaml"
    evil.write_text("!!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ModelError, match="cannot parse model file"):
        clinicsim.load_model(evil)
    broken = tmp_path / "broken.json"
    broken.write_text("{ not json")
    with pytest.raises(ModelError, match="broken.json"):
        clinicsim.load_model(broken)
    with pytest.raises(ModelError, match="unknown model format '.txt'"):
        clinicsim.load_model(tmp_path / "m.txt")
    with pytest.raises(ModelError, match="cannot read model file"):
        clinicsim.load_model(tmp_path / "absent.yaml")


def test_non_default_edges_and_extra_nodes(model, tmp_path):
    """A model file may add nodes and edges; sampling and inference follow them."""
    data = model_to_dict(model)
    data["nodes"]["smoker"] = {"states": ["yes", "no"], "parents": ["age_group"], "cpd": [
        {"given": {"age_group": b}, "p": {"yes": 0.0 if b == "0_14" else 0.2,
                                          "no": 1.0 if b == "0_14" else 0.8}}
        for b in model.states("age_group")]}
    fu = data["nodes"]["follow_up"]
    fu["parents"] = ["diagnosis", "age_group", "smoker"]
    fu["cpd"] = [{"given": {**c["given"], "smoker": s}, "p": c["p"]}
                 for c in fu["cpd"] for s in ("yes", "no")]
    loaded = clinicsim.load_model(write(tmp_path, data))
    assert loaded.nodes.index("smoker") < loaded.nodes.index("follow_up")
    assert loaded.parents("follow_up") == ("age_group", "diagnosis", "smoker")  # topological
    np.testing.assert_allclose(loaded.marginal("follow_up"), model.marginal("follow_up"))
    assert len(loaded.sample(100, seed=1)) == 100


# -- the adversarial sweep: every bad file refused with the file and the entry named --------

BAD_TEXT = {
    "malformed YAML": ("m.yaml", "a: [1, 2\nb: {", "did not find expected ',' or ']' \\(line 2"),
    "malformed JSON": ("m.json", "{ not json", "Expecting property name"),
    "empty YAML": ("m.yaml", "", "expected a mapping at the top level; got NoneType"),
    "empty JSON": ("m.json", "", "Expecting value"),
    "YAML list at top level": ("m.yaml", "- 1\n- 2\n", "expected a mapping .* got list"),
    "YAML duplicate key": ("m.yaml", "schema_version: 1\nschema_version: 1\n",
                           "duplicate key 'schema_version' \\(line 2"),
    "JSON duplicate key": ("m.json", '{"nodes": {}, "nodes": {}}', "duplicate key 'nodes'"),
    "YAML python/object tag": ("m.yaml", "!!python/object/apply:os.system ['echo pwned']\n",
                               "could not determine a constructor"),
    "YAML python/name tag": ("m.yaml", "schema_version: !!python/name:os.system\n",
                             "could not determine a constructor"),
    "not UTF-8": ("m.yaml", b"schema_version: 1\n\xff\xfe", "not UTF-8 text \\(byte 18\\)"),
}


@pytest.mark.parametrize("case", BAD_TEXT.values(), ids=BAD_TEXT.keys())
def test_malformed_files_are_refused(tmp_path, case):
    name, content, message = case
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ModelError, match=message) as info:
        clinicsim.load_model(path)
    assert all(str(path) in e for e in info.value.errors)


def edit(path, value):
    """An edit that sets ``data[path...] = value`` (``...`` removed when value is DELETE)."""
    def apply(data):
        *head, last = path
        for key in head:
            data = data[key]
        if value is DELETE:
            del data[last]
        else:
            data[last] = value
    return apply


DELETE = object()
GENDER = ("nodes", "gender", "cpd")
WINDOW = ("metadata", "visit_window")
BAD_DATA = {
    "schema_version 2": (edit(("schema_version",), 2), "unsupported schema_version 2"),
    "schema_version '1'": (edit(("schema_version",), "1"), "unsupported schema_version '1'"),
    "schema_version 1.0": (edit(("schema_version",), 1.0), "unsupported schema_version 1.0"),
    "schema_version missing": (edit(("schema_version",), DELETE), "schema_version None"),
    "nodes missing": (edit(("nodes",), DELETE), "'nodes' must be a mapping"),
    "CPD missing": (edit(("nodes", "gender", "cpd"), DELETE), "'gender': a root node's cpd is"),
    "duplicate states": (edit(("nodes", "gender", "states"), ["male", "male", "other"]),
                         "node 'gender': duplicate states \\['male'\\]"),
    "integer states": (edit(("nodes", "treatment", "states"), list(range(13))),
                       "node 'treatment': states must be non-empty strings"),
    "follow_up states yes/no": (edit(("nodes", "follow_up", "states"), ["yes", "no"]),
                                "'follow_up': states must be 'True' and 'False'"),
    "probability as a string": (edit((*GENDER, "male"), "0.45"),
                                "'gender': probability of 'male' must be a number; got '0.45'"),
    "probability as a bool": (edit((*GENDER, "other"), True),
                              "of 'other' must be a number; got True"),
    "probability NaN (JSON)": (edit((*GENDER, "male"), float("nan")),
                               "'gender' has a non-finite probability nan for 'male'"),
    "probability 10**400 (JSON)": (edit((*GENDER, "male"), 10**400), "non-finite probability inf"),
    "unhashable parent": (edit(("nodes", "follow_up", "parents"), [["diagnosis"]]),
                          "'parents' must list other nodes once each"),
    "unhashable parent state": (edit(("nodes", "follow_up", "cpd", 0, "given", "diagnosis"), ["x"]),
                                "unknown parent state diagnosis=\\['x'\\]"),
    "unknown node entry": (edit(("nodes", "gender", "parent"), []),
                           "node 'gender': unknown entries \\['parent'\\]"),
    "unknown top-level entry": (edit(("target",), {}), "unknown top-level entries \\['target'\\]"),
    "name not a string": (edit(("name",), ["x"]), "'name' must be a string"),
    "age bands overlap": (edit(("metadata", "age_bands", "15_24"), [14, 24]),
                          "age_bands '0_14' and '15_24' overlap"),
    "age bands gap": (edit(("metadata", "age_bands", "15_24"), [16, 24]),
                      "gap between '0_14' and '15_24' \\(ages 15-15\\)"),
    "age band reversed": (edit(("metadata", "age_bands", "15_24"), [24, 15]),
                          "age_bands\\['15_24'\\] = \\[24, 15\\] is reversed"),
    "age band not integers": (edit(("metadata", "age_bands", "15_24"), [15.0, 24]),
                              "age_bands\\['15_24'\\] must be \\[min, max\\] integers"),
    "age band bool": (edit(("metadata", "age_bands", "0_14"), [False, 14]),
                      "must be \\[min, max\\]"),
    "age band key missing": (edit(("metadata", "age_bands", "0_14"), DELETE),
                             "age_bands must give \\[min, max\\] for each age_group"),
    "window ends before it starts": (edit((*WINDOW, "end"), "2023-12-31"),
                                     "ends \\(2023-12-31\\) before it starts \\(2024-01-01\\)"),
    "window not a date": (edit((*WINDOW, "start"), "next monday"),
                          "visit_window.start must be a date YYYY-MM-DD; got 'next monday'"),
    "window impossible date": (edit((*WINDOW, "end"), "2024-02-30"), "got '2024-02-30'"),
    "window as a number": (edit((*WINDOW, "start"), 20240101), "got 20240101"),
    "window missing": (edit(WINDOW, DELETE), "visit_window must be a mapping"),
    "weekday weights a string": (edit((*WINDOW, "weekday_weights"), "1111111"),
                                 "weekday_weights must be 7 non-negative numbers"),
    "weekday weights bools": (edit((*WINDOW, "weekday_weights"), [True] * 7), "got \\[True"),
    "follow_up_days bools": (edit(("metadata", "follow_up_days", "viral"), [True, 9]),
                             "follow_up_days\\['viral'\\] must be"),
    "diagnosis metadata missing": (edit(("metadata", "diagnoses", "asthma"), DELETE),
                                   "missing \\['asthma'\\]"),
    "targets not summing to 1": (edit(("targets", 0, "values", "male"), 0.40),
                                 "targets\\[0\\].values sum to 0.95, not 1"),
    "targets naming unknown states": (edit(("targets", 0, "values", "robot"), 0.0),
                                      "targets\\[0\\].values must map each state of gender"),
    "target as a string": (edit(("targets", 1, "value"), "0.3"),
                           "targets\\[1\\].value must be a number in \\[0, 1\\]; got '0.3'"),
    "target age not an integer": (edit(("targets", 4, "range"), [0, 89.5]),
                                  "targets\\[4\\].range must be \\[low, high\\], integers"),
    "target ages reversed": (edit(("targets", 4, "range"), [95, 89]),
                             "targets\\[4\\].range must be"),
    "targets missing": (edit(("targets",), DELETE), "'targets' must be a list of statements"),
    "unknown target category": (edit(("targets", 3, "where", "diagnosis_category"), ["dental"]),
                                "targets\\[3\\].where.diagnosis_category: \\['dental'\\] not"),
}


@pytest.mark.parametrize("case", BAD_DATA.values(), ids=BAD_DATA.keys())
def test_invalid_model_files_name_file_and_entry(model, tmp_path, case):
    change, message = case
    data = model_to_dict(model)
    change(data)
    path = write(tmp_path, data, "m.json")  # JSON holds NaN and 10**400 too
    with pytest.raises(ModelError, match=message) as info:
        clinicsim.load_model(path)
    assert all(e.startswith(str(path)) for e in info.value.errors), info.value.errors


def test_yaml_spellings_that_are_not_strings(model, tmp_path):
    """Unquoted True/False and 1 are YAML bools and ints, not the state names they look like."""
    text = yaml.safe_dump(model_to_dict(model), sort_keys=False)
    text = text.replace("'True'", "True").replace("'False'", "False")
    path = tmp_path / "m.yaml"
    path.write_text(text)
    with pytest.raises(ModelError, match="'follow_up': states must be non-empty strings; got "
                                         "\\[True, False\\] \\(quote them"):
        clinicsim.load_model(path)


def test_unquoted_yaml_dates_are_read_and_saved_as_strings(model, tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(model_to_dict(model), sort_keys=False)
                    .replace("start: '2024-01-01'", "start: 2024-01-01"))
    loaded = clinicsim.load_model(path)
    assert loaded.metadata["visit_window"]["start"] == "2024-01-01"
    loaded.save(tmp_path / "m.json")  # a datetime.date here used to crash json.dumps
    assert clinicsim.load_model(tmp_path / "m.json").visit_window == model.visit_window


def test_model_from_dict_keeps_no_reference_to_the_callers_data(model):
    data = model_to_dict(model)
    loaded = clinicsim.model.model_from_dict(data)
    data["metadata"]["age_bands"]["0_14"][1] = 99
    assert loaded.age_bands["0_14"] == (0, 14)


def test_huge_file_is_refused_without_reading(tmp_path):
    path = tmp_path / "huge.yaml"
    with path.open("wb") as f:
        f.truncate(100 * 2**20)  # sparse: no disk used, and never read
    with pytest.raises(ModelError, match="is 100.0 MiB; the limit is 4 MiB"):
        clinicsim.load_model(path)


def test_folders_pipes_and_unreadable_files_are_refused(model, tmp_path):
    (tmp_path / "dir.yaml").mkdir()
    with pytest.raises(ModelError, match="dir.yaml': it is a folder"):
        clinicsim.load_model(tmp_path / "dir.yaml")
    os.mkfifo(tmp_path / "pipe.yaml")  # reading it would block forever
    with pytest.raises(ModelError, match="pipe.yaml': it is not a regular file"):
        clinicsim.load_model(tmp_path / "pipe.yaml")
    with pytest.raises(ModelError, match="must be a str or os.PathLike; got None"):
        clinicsim.load_model(None)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_is_refused(model, tmp_path):
    path = tmp_path / "m.yaml"
    model.save(path)
    path.chmod(0)
    with pytest.raises(ModelError, match="cannot read model file .*Permission denied"):
        clinicsim.load_model(path)


# -- BIF / XMLBIF: pgmpy's files, aligned by label -------------------------------------------


def permuted(model, seed):
    """``model``'s network with every node's states and every CPD's parents in another order."""
    rng = np.random.default_rng(seed)
    order = {n: [str(s) for s in rng.permutation(model.states(n))] for n in model.nodes}
    network = DiscreteBayesianNetwork(model.network.edges())
    for node in model.nodes:
        parents = [str(p) for p in rng.permutation(model.parents(node))]
        table = model.cpd(node).loc[order[node]]
        if len(parents) > 1:
            table.columns = table.columns.reorder_levels(parents)
            table = table[pd.MultiIndex.from_product([order[p] for p in parents])]
        elif parents:
            table = table[order[parents[0]]]
        network.add_cpds(TabularCPD(
            node, len(order[node]), table.to_numpy(), evidence=parents or None,
            evidence_card=[len(order[p]) for p in parents] or None,
            state_names={v: order[v] for v in (node, *parents)}))
    return network


def assert_same_cpds_by_label(loaded, model):
    for node in model.nodes:
        expected, got = model.cpd(node), loaded.cpd(node)
        assert set(loaded.parents(node)) == set(model.parents(node))
        if got.columns.nlevels > 1:
            got.columns = got.columns.reorder_levels(list(model.parents(node)))
        got = got.loc[expected.index, expected.columns]
        np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("writer", [BIFWriter, XMLBIFWriter])
def test_pgmpy_files_with_other_state_orders_align_by_label(model, tmp_path, writer):
    path = tmp_path / ("m.bif" if writer is BIFWriter else "m.xmlbif")
    writer(permuted(model, seed=5)).write(str(path))
    loaded = clinicsim.load_model(path)
    assert loaded.states("follow_up") != model.states("follow_up") or \
        loaded.states("treatment") != model.states("treatment")  # the orders really differ
    assert_same_cpds_by_label(loaded, model)
    assert_frame_equal_by_label(loaded.marginal("diagnosis"), model.marginal("diagnosis"))


def assert_frame_equal_by_label(a, b):
    pd.testing.assert_series_equal(a.loc[b.index], b, atol=1e-12)


def test_hand_written_bif_with_rows_in_any_order(model, tmp_path):
    """BIF rows are labelled by parent states; pgmpy must place them by label."""
    path = tmp_path / "m.bif"
    model.save(path)
    text = path.read_text()

    def reverse_rows(match):
        rows = match.group(2).strip("\n").split("\n")
        return match.group(1) + "\n".join(reversed(rows)) + "\n" + match.group(3)

    text = re.sub(r"(probability \( \w+ \| [^)]*\) \{\n)(.*?)(\n?\})", reverse_rows, text,
                  flags=re.S)
    text = text.replace("{ True, False }", "{ False, True }")  # follow_up's declared order
    path.write_text(text)
    loaded = clinicsim.load_model(path)
    assert loaded.states("follow_up") == ["False", "True"]
    # follow_up's rows are listed per state in the declared order: values were swapped too,
    # so compare with the model whose follow_up table has its two rows exchanged.
    swapped = model.copy()
    table = model.cpd("follow_up")
    with pytest.warns(clinicsim.TargetWarning):  # the follow-up rate becomes 0.7
        swapped.set_cpd("follow_up", table.set_axis(["False", "True"], axis=0))
    assert_same_cpds_by_label(loaded, swapped)


BAD_PGMPY = {
    "empty BIF": ("m.bif", "", "no variables found; is it a BIF file"),
    "garbage BIF": ("m.bif", "hello {{{", "no variables found"),
    "empty XMLBIF": ("m.xmlbif", "", "cannot parse XMLBIF file .*no element found"),
    "wrong count in a BIF table": ("m.bif", "table 0.45, 0.55", "cannot parse BIF file"),
    "BIF without follow_up": ("m.bif", "-follow_up", "required node 'follow_up' is missing"),
    "BIF without gender's table": ("m.bif", "-table gender",
                                   "no probability table for \\['gender'\\]"),
    "XMLBIF without gender's table": ("m.xmlbif", "-table gender", "no probability table"),
    "BIF whose gender differs from the default targets": (
        "m.bif", "gender states", "targets\\[0\\].values must map each state of gender .*"
        "metadata and targets come from the default model"),
}


@pytest.mark.parametrize("case", BAD_PGMPY.values(), ids=BAD_PGMPY.keys())
def test_malformed_pgmpy_files_are_refused(model, tmp_path, case):
    name, change, message = case
    path = tmp_path / name
    model.save(path)
    text = path.read_text()
    if change == "-follow_up":
        text = re.sub(r"variable follow_up \{.*?\n\}\n", "", text, flags=re.S)
        text = re.sub(r"probability \( follow_up .*?\n\}\n", "", text, flags=re.S)
    elif change == "-table gender" and name.endswith(".bif"):
        text = re.sub(r"probability \( gender \).*?\n\}\n", "", text, flags=re.S)
    elif change == "-table gender":
        text = re.sub(r"<DEFINITION>\s*<FOR>gender</FOR>.*?</DEFINITION>", "", text, flags=re.S)
    elif change == "gender states":
        text = text.replace("male, female, other", "m, f, x")
        text = re.sub(r"\( male,", "( m,", text)
        text = re.sub(r"\( female,", "( f,", text)
        text = re.sub(r"\( other,", "( x,", text)
    elif change.startswith("table"):
        text = text.replace("table 0.45, 0.43, 0.12", change)
    else:
        text = change
    path.write_text(text)
    with pytest.raises(ModelError, match=message) as info:
        clinicsim.load_model(path)
    assert all(str(path) in e for e in info.value.errors)


# -- saving: refused before anything is written, nothing left behind ------------------------


def test_refused_saves_leave_nothing_behind(model, tmp_path):
    with pytest.raises(clinicsim.ClinicSimError, match="folder .*nope' does not exist"):
        model.save(tmp_path / "nope" / "m.yaml")
    with pytest.raises(ModelError, match="unknown model format '.txt'"):
        model.save(tmp_path / "m.txt")
    (tmp_path / "d.yaml").mkdir()
    with pytest.raises(ModelError, match="d.yaml': it is a folder"):
        model.save(tmp_path / "d.yaml")
    with pytest.raises(ModelError, match="must be a str or os.PathLike; got None"):
        model.save(None)
    assert [p.name for p in tmp_path.iterdir()] == ["d.yaml"]
    assert not any((tmp_path / "d.yaml").iterdir())


@pytest.mark.parametrize("suffix", [".bif", ".xmlbif"])
def test_names_pgmpy_would_rewrite_are_refused(model, tmp_path, suffix):
    data = model_to_dict(model)
    tx = data["nodes"]["treatment"]
    tx["states"][0] = "lifestyle-counselling"  # XMLBIF would silently write lifestyle_counselling
    for column in tx["cpd"]:
        column["p"]["lifestyle-counselling"] = column["p"].pop("lifestyle_counselling")
    codes = data["metadata"]["treatments"]
    codes["lifestyle-counselling"] = codes.pop("lifestyle_counselling")
    renamed = clinicsim.model.model_from_dict(data)
    with pytest.raises(ModelError, match="state 'lifestyle-counselling' of 'treatment'.*"
                                         "save as .yaml or .json instead"):
        renamed.save(tmp_path / f"m{suffix}")
    renamed.save(tmp_path / "m.yaml")  # our own format keeps any string
    loaded = clinicsim.load_model(tmp_path / "m.yaml")
    assert loaded.states("treatment")[0] == "lifestyle-counselling"
    assert [p.name for p in tmp_path.iterdir()] == ["m.yaml"]


def test_metadata_json_cannot_hold_is_refused(model, tmp_path):
    path = tmp_path / "m.yaml"
    text = yaml.safe_dump(model_to_dict(model), sort_keys=False)
    path.write_text(text.replace("metadata:\n", "metadata:\n  extra: !!set {a: null}\n", 1))
    loaded = clinicsim.load_model(path)  # extra metadata is the caller's business
    with pytest.raises(ModelError, match="cannot write .*m.json' as JSON: .*set"):
        loaded.save(tmp_path / "m.json")
    assert [p.name for p in tmp_path.iterdir()] == ["m.yaml"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into a read-only folder")
def test_read_only_folder(model, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(clinicsim.ClinicSimError, match="Permission denied"):
            model.save(folder / "m.yaml")
        assert not any(folder.iterdir())
    finally:
        folder.chmod(0o700)


def test_permission_errors_are_refused_even_when_running_as_root(model, tmp_path, monkeypatch):
    """The two cases above, with the PermissionError simulated so that root runs them too."""
    path = tmp_path / "m.yaml"
    model.save(path)

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    with monkeypatch.context() as patch:
        patch.setattr(type(path), "read_text", denied)
        with pytest.raises(ModelError, match="cannot read model file .*m.yaml': Permission denied"):
            clinicsim.load_model(path)
    with monkeypatch.context() as patch:
        patch.setattr("os.open", denied)  # creating the temporary file
        with pytest.raises(clinicsim.ClinicSimError, match="cannot write .*Permission denied"):
            model.save(tmp_path / "other.yaml")
    with monkeypatch.context() as patch:
        patch.setattr("os.replace", denied)  # fails at the very end: the temporary must go
        with pytest.raises(ModelError, match="cannot write model file .*Permission denied"):
            model.save(tmp_path / "other.yaml")
    assert [p.name for p in tmp_path.iterdir()] == ["m.yaml"]


def test_saved_yaml_writes_one_line_per_cpd_column(model, tmp_path):
    path = tmp_path / "m.yaml"
    model.save(path)
    lines = path.read_text().splitlines()
    columns = [line for line in lines if line.lstrip().startswith("- {given: {")]
    assert len(columns) == sum(model.cpd(n).shape[1] for n in model.nodes if model.parents(n))
    assert "    cpd: {male: 0.45, female: 0.43, other: 0.12}" in lines
    assert "    hypertension: {code: I10, category: chronic}" in lines
    assert "- {given: {age_group: '0_14', diagnosis: hypertension}, " \
        "p: {'True': 0.33470120716502805, 'False': 0.665298792834972}}" \
        in [line.strip() for line in columns]
    assert len(lines) < 400  # was 3,031 block-style lines
    loaded = clinicsim.load_model(path)
    assert loaded.content_key() == model.content_key()
    assert model_to_dict(loaded) == model_to_dict(model)
