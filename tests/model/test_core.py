"""The model core: tables by label, a detached pgmpy network, BIF alignment, layers, holidays."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

import clinicsim
from clinicsim.model import Table, model_from_dict, model_to_dict


@pytest.fixture
def model():
    return clinicsim.default_model()


def test_tables_are_frozen_and_labelled(model):
    t = model.table("treatment")
    assert t.parents == ("age_group", "diagnosis")
    assert t.parent_states == (tuple(model.states("age_group")), tuple(model.states("diagnosis")))
    assert t.values.shape == (13, 6, 16)
    with pytest.raises(ValueError):
        t.values[0, 0, 0] = 1.0
    cpd = model.cpd("treatment")
    assert cpd.columns.names == ["age_group", "diagnosis"]
    np.testing.assert_array_equal(t.column(("65_74", "asthma")), cpd[("65_74", "asthma")])


def test_file_parent_order_does_not_matter(model):
    data = model_to_dict(model)
    fu = data["nodes"]["follow_up"]
    fu["parents"] = ["diagnosis", "age_group"]  # another order, aligned by label
    fu["cpd"] = [{"given": {"diagnosis": c["given"]["diagnosis"],
                            "age_group": c["given"]["age_group"]}, "p": c["p"]}
                 for c in reversed(fu["cpd"])]
    other = model_from_dict(data)
    assert other.parents("follow_up") == ("age_group", "diagnosis")
    assert other.content_key() == model.content_key()


def test_network_is_detached(model):
    """The issue's edit: the treatment CPD with a parent's states reversed, through network."""
    from pgmpy.factors.discrete import TabularCPD

    network = model.network
    old = network.get_cpds("treatment")
    values = old.values[:, :, ::-1]  # axes (treatment, age_group, diagnosis): diagnosis reversed
    names = {v: list(old.state_names[v]) for v in old.variables}
    names["diagnosis"] = names["diagnosis"][::-1]
    network.remove_cpds(old)
    network.add_cpds(TabularCPD("treatment", values.shape[0], values.reshape(values.shape[0], -1),
                                evidence=old.variables[1:], evidence_card=list(values.shape[1:]),
                                state_names=names))
    key = model.content_key()
    records = model.sample(200_000, seed=5, extended=True)
    assert model.content_key() == key
    t = model.table("treatment")
    codes = (records["treatment"].cat.codes.to_numpy(), records["age_group"].cat.codes.to_numpy(),
             records["diagnosis"].cat.codes.to_numpy())
    assert (t.values[codes] > 0).all()  # no treatment the CPD gives probability 0
    assert model.network is not model.network  # built on each access


@pytest.mark.parametrize("suffix", [".bif", ".xmlbif"])
def test_pgmpy_files_with_reordered_states_and_parents(model, tmp_path, suffix):
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork
    from pgmpy.readwrite import BIFWriter, XMLBIFWriter

    network = DiscreteBayesianNetwork()
    network.add_nodes_from(model.nodes)
    network.add_edges_from((p, n) for n in model.nodes for p in model.parents(n))
    for node in model.nodes:
        t = model.table(node)
        parents = t.parents[::-1]  # reversed parents, every state list reversed
        values = t.values[::-1]
        if parents:
            values = np.flip(values.transpose([0, *range(len(parents), 0, -1)]), axis=tuple(
                range(1, len(parents) + 1)))
        names = {node: list(t.states)[::-1],
                 **{p: list(model.states(p))[::-1] for p in parents}}
        network.add_cpds(TabularCPD(node, len(t.states), values.reshape(len(t.states), -1),
                                    evidence=list(parents) or None,
                                    evidence_card=[len(names[p]) for p in parents] or None,
                                    state_names=names))
    path = tmp_path / f"m{suffix}"
    writer = BIFWriter if suffix == ".bif" else XMLBIFWriter
    path.write_text(str(writer(network)))
    loaded = clinicsim.load_model(path)
    for node in model.nodes:
        pd.testing.assert_frame_equal(loaded.cpd(node).sort_index(), model.cpd(node).sort_index(),
                                      check_like=True, atol=1e-6, rtol=0)


def test_model_imports_neither_simulate_nor_analysis():
    code = ("import sys; import clinicsim.model as m; m.default_model(); "
            "print(sorted(k for k in sys.modules if k.startswith(('clinicsim.simulate', "
            "'clinicsim.analysis', 'pgmpy', 'networkx', 'holidays'))))")
    # clinicsim/__init__ imports simulate, so load model without the package's __init__ body
    code = ("import importlib.util, sys, types; pkg = types.ModuleType('clinicsim'); "
            "pkg.__path__ = [__import__('os').path.dirname(importlib.util.find_spec('clinicsim')"
            ".origin)]; sys.modules['clinicsim'] = pkg; " + code.replace("import sys; ", ""))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_holidays_are_saved_and_used(model, tmp_path):
    saved = model.metadata["holidays"]
    assert saved["country"] == "US" and "2024-12-25" in saved["dates"]
    model.save(tmp_path / "m.yaml")
    assert yaml.safe_load((tmp_path / "m.yaml").read_text())["metadata"]["holidays"] == saved
    # A file's own dates are what the calendar uses: drop Christmas, Christmas gets weight 1.
    data = model_to_dict(model)
    data["metadata"]["holidays"]["dates"].remove("2024-12-25")
    other = model_from_dict(data)
    assert np.datetime64("2024-12-25") not in np.array(other.visit_window.holidays, "datetime64[D]")
    assert other.content_key() != model.content_key()
    # Without them, they are resolved from the holidays package, as before.
    del data["metadata"]["holidays"]
    assert model_from_dict(data).metadata["holidays"] == saved


def test_targets_are_hashable_and_immutable(model):
    t = model.targets
    assert hash(t) == hash(clinicsim.default_model().targets)
    with pytest.raises((AttributeError, TypeError)):
        t[0] = t[1]  # type: ignore[index]
    with pytest.raises((AttributeError, TypeError)):
        t[0].margin = 0.5  # type: ignore[misc]
    assert dict(t[0].values) == {"male": 0.45, "female": 0.43, "other": 0.12}


def test_a_table_checks_its_shape():
    with pytest.raises(clinicsim.InvalidCPDError, match="shape"):
        Table("x", ("a", "b"), ("y",), (("c",),), np.array([0.5, 0.5]))


def test_content_key_is_kept_between_queries_and_follows_every_edit():
    """The digest is cached while tables, metadata and targets are the same objects."""
    model = clinicsim.default_model()
    key = model.content_key()
    model.name = "renamed"
    assert model.content_key() != key
    model.name = "default"
    assert model.content_key() == key
    fewer = model.with_targets(model.targets[:2])
    assert fewer.content_key() != key and model.content_key() == key
    with pytest.warns(clinicsim.TargetWarning):
        model.set_cpd("gender", {"male": 0.4, "female": 0.48, "other": 0.12})
    edited = model.content_key()
    assert edited != key and model.copy().content_key() == edited
    model.remove_state("diagnosis", "low_back_pain")
    assert model.content_key() != edited
