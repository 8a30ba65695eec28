"""`clinicsim model show` and the notebook display with further nodes (the example model)."""

import itertools
import re

import pytest

import clinicsim
from clinicsim._cli import main
from clinicsim.model._display import model_html, network_svg
from tests.test_examples import PAYMENT


def test_model_show_lists_every_node_with_its_parents(capsys):
    with pytest.raises(SystemExit) as info:
        main(["model", "show", "-m", str(PAYMENT)])
    out = capsys.readouterr().out
    model = clinicsim.load_model(PAYMENT)
    assert info.value.code == 0
    rows = re.findall(r"^  (\S+) +parents: (.*)$", out, re.M)
    assert rows == [(n, ", ".join(model.parents(n)) or "-") for n in model.nodes]
    # one column for the names, the longest (patient_status) included
    starts = {line.index("parents:") for line in out.splitlines() if "parents:" in line}
    assert starts == {len("  patient_status ")}
    assert "  payment        parents: age_group\n" in out
    assert "states: private_insurance, medicare, medicaid_chip" in out


def test_model_show_of_the_default_keeps_its_layout(capsys):
    with pytest.raises(SystemExit):
        main(["model", "show"])
    out = capsys.readouterr().out
    assert "  diagnosis    parents: gender, age_group\n" in out
    assert "\n               states: male, female, other\n" in out


def test_the_notebook_display_draws_the_further_nodes():
    model = clinicsim.load_model(PAYMENT)
    svg = network_svg(model)
    boxes = re.findall(r'<rect x="([\d.-]+)" y="([\d.]+)" width="([\d.]+)"', svg)
    labels = re.findall(r'text-anchor="middle">([^<]+)<', svg)
    assert labels == [f"{n} [{len(model.states(n))}]" for n in model.nodes]
    assert svg.count("<line ") == sum(len(model.parents(n)) for n in model.nodes)
    width = float(re.search(r'<svg [^>]*width="(\d+)"', svg).group(1))
    rows: dict[str, list[tuple[float, float]]] = {}
    for x, y, w in boxes:  # inside the drawing, and no two boxes of a row overlap
        assert 0 <= float(x) and float(x) + float(w) <= width
        rows.setdefault(y, []).append((float(x), float(x) + float(w)))
    for spans in rows.values():
        spans.sort()
        assert all(a[1] < b[0] for a, b in itertools.pairwise(spans))
    page = model_html(model)
    assert "<td><b>payment</b></td><td>age_group</td><td>5</td>" in page
    assert "<td><b>patient_status</b></td><td>age_group</td><td>2</td>" in page
