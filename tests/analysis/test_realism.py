"""The realism table: the model's exact figures against the published figures they came from."""


import numpy as np
import pytest

import clinicsim
from clinicsim.analysis._realism import COLUMNS, realism_figure, realism_table
from clinicsim.model import model_from_dict, model_to_dict


@pytest.fixture(scope="module")
def table():
    return realism_table()


def rows(table, quantity):
    return table[table.quantity == quantity].set_index("group")


def test_columns_and_difference(table):
    assert tuple(table.columns) == COLUMNS
    assert not table.isna().any().any()
    np.testing.assert_allclose(table.difference, table.model - table.reference)
    assert table.source.str.len().gt(10).all()


def test_reference_figures_are_the_published_ones(table):
    chronic = rows(table, "chronic share of visits")
    assert chronic.loc["75_89", "reference"] == pytest.approx(0.554 + 0.068)  # NAMCS 75+
    assert rows(table, "preventive share of visits").loc["0_14", "reference"] == 0.43
    months = rows(table, "viral share of visits / yearly share")
    ratio = months.loc["jan", "reference"] / months.loc["jul", "reference"]
    assert ratio == pytest.approx(3.79 / 0.83)


def test_model_figures_are_exact(table):
    """Chronic share by band recomputed from the CPDs by hand (gender is the only other parent)."""
    model = clinicsim.default_model()
    dx = model.cpd("diagnosis")
    gender = model.marginal("gender")
    chronic = [d for d, c in model.diagnosis_categories.items() if c == "chronic"]
    for band in model.states("age_group"):
        expected = sum(gender[g] * dx.loc[chronic, (g, band)].sum() for g in gender.index)
        assert rows(table, "chronic share of visits").loc[band, "model"] == pytest.approx(expected)
    month = rows(table, "month's share of viral visits").model
    assert month["jan"] / month["jul"] == pytest.approx(3.79 / 0.83, rel=1e-3)


def test_default_model_sits_close_to_namcs_by_age(table):
    for quantity in ("chronic share of visits", "preventive share of visits",
                     "surgical share of visits"):
        assert rows(table, quantity).difference.abs().max() < 0.01, quantity
    # The brief's evenly spread ages and 45/43/12 genders are not NAMCS's, and say so.
    assert rows(table, "age band share of visits").difference.abs().max() > 0.03


def test_us_office_visits_preset_matches_namcs_demography():
    table = realism_table(clinicsim.load_model("us-office-visits"))
    for quantity in ("age band share of visits", "share of male + female visits"):
        assert rows(table, quantity).difference.abs().max() < 1e-5, quantity


def test_model_without_visit_month_has_no_seasonal_rows():
    data = model_to_dict(clinicsim.default_model())
    del data["nodes"]["visit_month"]
    table = realism_table(model_from_dict(data))
    assert not table.quantity.str.contains("viral").any()
    assert len(table) == 6 * 3 + 6 + 2


def test_figure_has_a_panel_per_quantity(table):
    fig = realism_figure(table)
    titles = [b.text for b in fig.boxes if b.role == "title"]
    assert [q for q in dict.fromkeys(table.quantity) if q not in titles] == []
    assert fig.svg.count('<title>') == 2 * len(table)  # a bar each, numbers on hover
