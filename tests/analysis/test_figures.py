"""What a person sees: figures legible at page width, one interval level, scoped and light
HTML, figures on demand, and the model's rich display."""

import re
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text
from scipy import stats

import clinicsim
from clinicsim.analysis._figures import (
    _TARGET,
    DPI,
    MAX_ROWS,
    SMALL,
    WIDTH,
    _clopper_pearson,
    largest_residuals,
)
from clinicsim.model._display import model_html


@pytest.fixture(scope="module")
def report():
    return clinicsim.conformance_report(clinicsim.sample(5000, seed=42))


@pytest.fixture(scope="module")
def figures(report):
    return dict(report.figures().items())  # drawn once for the module


def _texts(fig: Figure) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def test_figures_on_demand(report, figures):
    shown = report.figures()
    assert list(shown) == ["gender", "age", "follow_up", "cpd:diagnosis", "cpd:treatment",
                           "cpd:follow_up", "cpd:visit_month"]
    assert all(isinstance(f, Figure) for f in figures.values())
    with pytest.raises(KeyError):
        shown["cpd:gender"]
    assert shown._repr_html_().count("<img") == len(shown)


def test_figures_fit_the_page_and_their_text_is_legible(figures):
    for key, fig in figures.items():
        width = fig.get_figwidth() * DPI
        assert width <= WIDTH * DPI, key  # shown at its own size, not scaled down
        sizes = {t.get_text(): t.get_fontsize() for t in _texts(fig)}
        small = {text: size for text, size in sizes.items() if size < SMALL - 1}
        assert not small, (key, small)  # >= 8 pt, i.e. >= 10.7 px at DPI
        for ax in fig.axes:
            for label in ax.get_xticklabels() + ax.get_yticklabels():
                if label.get_text():
                    assert label.get_fontsize() >= SMALL, (key, label.get_text())


def test_every_cpd_panel_has_row_labels(figures):
    for key, fig in figures.items():
        if key.startswith("cpd:"):
            heatmaps = [ax for ax in fig.axes if ax.images]
            assert heatmaps
            for ax in heatmaps:
                rows = ax.images[0].get_array().shape[0]
                assert len([t for t in ax.get_yticklabels() if t.get_text()]) == rows, key


def test_large_cpd_shows_the_columns_that_deviate_most(report, figures):
    table = report._figures["cpd"]["treatment"]
    counts, model = table["counts"].astype(float), table["model"]
    rows = counts.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z2 = (counts - rows * model) ** 2 / (rows * model * (1 - model))
    score = np.where((model > 0) & (model < 1), z2, 0.0).sum(axis=0)
    assert (rows > 0).sum() > MAX_ROWS
    worst = table["labels"][int(np.argmax(np.where(rows > 0, score, -1)))]
    ax = next(ax for ax in figures["cpd:treatment"].axes if ax.images)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == MAX_ROWS
    parents = " / ".join(part.split("=", 1)[1] for part in worst.split(", "))
    assert labels[0].startswith(parents + "  (n=")


def test_one_interval_level_across_figures(figures):
    levels = set()
    for key in ("gender", "age", "follow_up"):
        for text in _texts(figures[key]):
            levels |= set(re.findall(r"\d+%", text.get_text()))
        for ax in figures[key].axes:
            legend = ax.get_legend()
            for text in legend.get_texts() if legend else ():
                levels |= set(re.findall(r"\d+%", text.get_text()))
    assert levels == {"99%"}  # 1 - alpha, the checks' intervals at alpha 0.01


def test_clopper_pearson_matches_the_checks_intervals():
    alpha = 0.01
    for k, n in [(0, 10), (3, 10), (10, 10), (1539, 5000), (7, 393)]:
        ci = stats.binomtest(k, n).proportion_ci(1 - alpha, method="exact")
        lo, hi = _clopper_pearson(np.array([k]), np.array([n]), alpha)
        assert lo[0] == pytest.approx(ci.low, abs=1e-12)
        assert hi[0] == pytest.approx(ci.high, abs=1e-12)
    lo, hi = _clopper_pearson(np.array([0]), np.array([0]), alpha)
    assert np.isnan(lo[0]) and np.isnan(hi[0])


def test_age_histogram_has_no_translucent_band(figures):
    ax = figures["age"].axes[0]
    assert all(p.get_alpha() in (None, 1.0) for p in ax.patches)
    assert not ax.collections  # no fill_between / axhspan polygons


def test_overall_follow_up_target_is_drawn_over_its_own_bar_only(figures):
    left = figures["follow_up"].axes[0]
    red = [line for line in left.lines if line.get_color() == _TARGET]
    assert red
    categories = [t.get_position()[0] for t in left.get_xticklabels()][1:]
    for line in red:
        assert max(line.get_xdata()) < min(categories) - 0.5  # left of every category bar


def test_largest_residuals_by_hand():
    d = {"states": ["a", "b"], "parents": ("p",), "labels": ["p=x", "p=y"],
         "model": np.array([[0.5, 0.0], [0.5, 1.0]]), "counts": np.array([[30, 1], [70, 9]])}
    cells = largest_residuals(d)
    # the impossible row first, then |z| = |30 - 50| / 5 = 4 for p=x (two states: the first
    # state's residual only, the second's is its negative)
    assert cells[0] == {"parents": "y", "state": "a", "rows": 10, "observed": 0.1, "model": 0.0,
                        "z": None}
    assert [(c["parents"], c["state"], c["z"]) for c in cells[1:]] == [("x", "a", -4.0)]
    d["model"] = np.array([[0.25, 0.0, 0.5], [0.5, 1.0, 0.5], [0.25, 0.0, 0.0]])
    d["states"], d["labels"] = ["a", "b", "c"], ["p=x", "p=y", "p=z"]
    d["counts"] = np.array([[30, 0, 0], [60, 9, 0], [10, 0, 0]])
    # three states: every cell with a residual; z = (k - 100 p) / sqrt(100 p (1 - p))
    z = [(30 - 25) / 18.75**0.5, (60 - 50) / 5, (10 - 25) / 18.75**0.5]
    assert [(c["parents"], c["state"], c["rows"]) for c in largest_residuals(d)] == [
        ("x", "c", 100), ("x", "b", 100), ("x", "a", 100)]  # |z| 3.46, 2, 1.15
    assert [c["z"] for c in largest_residuals(d)] == pytest.approx([z[2], z[1], z[0]])


def test_html_styles_are_scoped(report):
    for page in (report.to_html(figures=False), report._repr_html_()):
        css = "".join(re.findall(r"<style>(.*?)</style>", page, re.DOTALL))
        selectors = re.findall(r"(?:^|})\s*([^{}]+)\{", css)
        assert selectors
        for group in selectors:
            for selector in group.split(","):
                assert selector.strip().startswith((".clinicsim-report", ".clinicsim-model")), \
                    selector


def test_notebook_display_is_light(report):
    fragment = report._repr_html_()
    assert len(fragment.encode()) < 50_000 and "<img" not in fragment
    assert "report.figures()" in fragment
    assert f"All {sum(c.kind == 'model' for c in report.checks)} model checks" in fragment


def test_displays_load_no_plotting_library():
    code = ("import sys, clinicsim; m = clinicsim.default_model(); m._repr_html_(); "
            "clinicsim.conformance_report(m.sample(500, seed=1), m)._repr_html_(); "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True,
                         text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_model_display():
    model = clinicsim.default_model()
    page = model_html(model)
    assert page == model._repr_html_()
    edges = sum(len(model.parents(n)) for n in model.nodes)
    svg = page[page.index("<svg"):page.index("</svg>")]
    assert svg.count("<line") == edges and svg.count("<rect") == len(model.nodes)
    for node in model.nodes:
        assert f"<td><b>{node}</b></td><td>{', '.join(model.parents(node)) or '–'}</td>" in page
    assert "hypertension, type2_diabetes" in page and "… and 8 more" in page
    assert "body{" not in page.replace(" ", "") and len(page.encode()) < 20_000
