"""What a person sees: figures legible at page width, one interval level, scoped and light
HTML, figures on demand, and the model's rich display."""

import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
from scipy import stats

import clinicsim
from clinicsim.analysis._figures import (
    _TARGET,
    DPI,
    MAX_ROWS,
    SMALL,
    WIDTH,
    _binom_ppf,
    _clopper_pearson,
    _significant,
    largest_residuals,
)
from clinicsim.analysis._svg import SvgFigure
from clinicsim.model._display import model_html


@pytest.fixture(scope="module")
def report():
    return clinicsim.conformance_report(clinicsim.sample(5000, seed=42))


@pytest.fixture(scope="module")
def figures(report):
    return dict(report.figures().items())  # drawn once for the module


def test_figures_on_demand(report, figures, tmp_path):
    shown = report.figures()
    assert list(shown) == ["gender", "age", "follow_up", "cpd:diagnosis", "cpd:treatment",
                           "cpd:follow_up", "cpd:visit_month"]
    assert all(isinstance(f, SvgFigure) for f in figures.values())
    with pytest.raises(KeyError):
        shown["cpd:gender"]
    assert shown._repr_html_().count("<svg") == len(shown)
    path = figures["age"].savefig(tmp_path / "age.svg")
    assert path.read_text(encoding="utf-8") == figures["age"].svg
    with pytest.raises(clinicsim.ClinicSimError, match=r"figure 'age': .*\.svg"):
        figures["age"].savefig(tmp_path / "age.png")
    assert not (tmp_path / "age.png").exists()


def test_figures_fit_the_page_and_their_text_is_legible(figures):
    for key, fig in figures.items():
        assert fig.width <= WIDTH * DPI, key  # shown at its own size, not scaled down
        small = [b.text for b in fig.boxes if b.points < SMALL]
        assert not small, (key, small)
        assert all(0 <= b.x0 and b.x1 <= fig.width and 0 <= b.y0 and b.y1 <= fig.height
                   for b in fig.boxes), key  # no text cut off at the edge


def _ticks(fig: SvgFigure, start: str = "") -> list[str]:
    return [b.text for b in fig.boxes if b.role == "tick" and b.text.startswith(start)]


def test_large_cpd_shows_the_columns_that_deviate_most(report, figures):
    table = report._figures["cpd"]["treatment"]
    counts, model = table["counts"].astype(float), table["model"]
    rows = counts.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z2 = (counts - rows * model) ** 2 / (rows * model * (1 - model))
    score = np.where((model > 0) & (model < 1), z2, 0.0).sum(axis=0)
    assert (rows > 0).sum() > MAX_ROWS
    worst = table["labels"][int(np.argmax(np.where(rows > 0, score, -1)))]
    labels = [t for t in _ticks(figures["cpd:treatment"]) if "  (n=" in t]
    assert len(labels) == MAX_ROWS
    parents = " / ".join(part.split("=", 1)[1] for part in worst.split(", "))
    assert labels[0].startswith(parents + "  (n=")


def test_one_interval_level_across_figures(figures):
    levels = set()
    for key in ("gender", "age", "follow_up"):
        for box in figures[key].boxes:
            if box.role in ("legend", "title", "label"):
                levels |= set(re.findall(r"\d+%", box.text))
    assert levels == {"99%"}  # 1 - alpha, the checks' intervals at alpha 0.01


def test_clopper_pearson_matches_the_checks_intervals():
    alpha = 0.01
    for k, n in [(0, 10), (3, 10), (10, 10), (1539, 5000), (7, 393)]:
        ci = stats.binomtest(k, n).proportion_ci(1 - alpha, method="exact")
        lo, hi = _clopper_pearson(np.array([k]), np.array([n]), alpha)
        assert lo[0] == pytest.approx(ci.low, abs=1e-12)
        assert hi[0] == pytest.approx(ci.high, abs=1e-12)
    for q, n, p in [(0.005, 5000, 1 / 90), (0.995, 5000, 1 / 90), (0.5, 10, 0.3), (0.995, 7, 0.9)]:
        assert _binom_ppf(q, n, p) == stats.binom.ppf(q, n, p)
    lo, hi = _clopper_pearson(np.array([0]), np.array([0]), alpha)
    assert np.isnan(lo[0]) and np.isnan(hi[0])


def test_age_histogram_has_no_translucent_band(figures):
    assert "fill-opacity" not in figures["age"].svg


def test_overall_follow_up_target_is_drawn_over_its_own_bar_only(report, figures):
    fig = figures["follow_up"]
    red = [[float(v) for v in m] for m in re.findall(
        r'<line x1="([\d.]+)" y1="[\d.]+" x2="([\d.]+)" y2="[\d.]+" stroke="' + _TARGET, fig.svg)]
    assert red
    names = tuple(report._figures["follow_up"]["by_category"])
    first = min(b.x0 for b in fig.boxes if b.role == "tick" and b.text.startswith(names))
    assert max(max(line) for line in red) < first  # left of every category's label


def test_significant_cells_are_holm_over_the_table():
    z = np.array([[4.0, -3.0, np.nan], [0.5, 2.9, -4.5]])
    p = {v: 2 * stats.norm.sf(abs(v)) for v in (4.0, -3.0, 0.5, 2.9, -4.5)}
    m, alpha = 5, 0.01
    # Holm: -4.5 (p 7e-6 * 5), 4.0 (6e-5 * 4), -3.0 (0.0027 * 3 = 0.008), 2.9 (0.0037 * 2)
    assert p[-3.0] * 3 < alpha and p[2.9] * 2 < alpha and p[0.5] > alpha
    assert _significant(z, alpha).tolist() == [[True, True, False], [False, True, True]]
    assert _significant(z, 0.001).tolist() == [[True, False, False], [False, False, True]]
    assert m == int((~np.isnan(z)).sum())


def test_heatmap_cells_show_their_numbers_on_hover(report, figures):
    svg = figures["cpd:follow_up"].svg
    table = report._figures["cpd"]["follow_up"]
    j = int(np.argmax(table["counts"].sum(axis=0)))
    k, rows = table["counts"][:, j], table["counts"][:, j].sum()
    assert re.search(rf"observed {k[0]:,} of {rows:,}, expected [\d,.]+ \(P [\d.]+\); "
                     r"residual [+-]\d\.\d\d", svg)


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
    assert len(fragment.encode()) < 50_000 and "<svg" not in fragment
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


def _forty_diagnoses() -> clinicsim.ClinicModel:
    model = clinicsim.default_model()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", clinicsim.TargetWarning)  # the edit moves targets
        for i in range(40 - len(model.states("diagnosis"))):
            model.add_state("diagnosis", f"rare_condition_{i:02d}", like="influenza", p=0.004,
                            metadata={"code": f"Z{i:02d}", "category": "viral"})
    return model


def _edited() -> clinicsim.ClinicModel:
    model = clinicsim.default_model()
    smoker = {("female",): [0.2, 0.8], ("male",): [0.25, 0.75], ("other",): [0.2, 0.8]}
    import pandas as pd

    cpd = pd.DataFrame({k[0]: v for k, v in smoker.items()}, index=["yes", "no"])
    model.add_node("smoker", ["yes", "no"], parents=["gender"], cpd=cpd)
    return model


COHORT = {"diagnosis": "type2_diabetes", "age": (65, 89)}


def _report(name: str):
    if name == "default":
        return clinicsim.conformance_report(clinicsim.sample(5000, seed=42), realism=True)
    if name == "cohort":
        return clinicsim.conformance_report(clinicsim.sample(3000, seed=5, given=COHORT),
                                            given=COHORT)
    if name == "history":
        return clinicsim.conformance_report(clinicsim.sample_patients(2000, seed=8).visits)
    model = _forty_diagnoses() if name == "40 diagnoses" else _edited()
    return clinicsim.conformance_report(model.sample(5000, seed=3), model)


@pytest.mark.parametrize("name", ["default", "40 diagnoses", "cohort", "edited", "history"])
def test_every_figure_is_legible(name):
    """No two tick labels, cell annotations or legend entries overlap (from the drawn text
    extents, measured with the font metric the figures are laid out with) and no text is
    under 9 pt at the size shown (each figure is shown at its own size)."""
    report = _report(name)
    assert (name == "history") == ("history:visits" in report.figures())
    for key, fig in report.figures().items():
        assert fig.width <= WIDTH * DPI, (name, key)
        assert not [b.text for b in fig.boxes if b.points < SMALL], (name, key)
        boxes = [b for b in fig.boxes if b.role in ("tick", "annotation", "legend")]
        clashes = [(a.text, b.text) for i, a in enumerate(boxes) for b in boxes[i + 1:]
                   if a.overlaps(b)]
        assert not clashes, (name, key, clashes[:5])
        assert all(0 <= b.x0 and b.x1 <= fig.width and 0 <= b.y0 and b.y1 <= fig.height
                   for b in fig.boxes), (name, key)
