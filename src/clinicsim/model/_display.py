"""The rich display of a :class:`ClinicModel` in a notebook: a drawing of the network and a
table of its nodes, parents and states.

It reads the model only through its public API (``name``, ``description``, ``nodes``,
``parents(node)``, ``states(node)``) and draws the network as SVG written here, so that
showing a model loads no plotting library. Styles are scoped to the display's wrapper.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._model import ClinicModel

__all__ = ["model_html", "network_svg"]

_SHOWN_STATES = 8  # states listed per node; the rest are counted
_CHAR = 7.2  # px per character of the SVG's 12 px sans-serif text (an estimate for layout)
_BOX_H, _GAP_Y, _PAD = 30, 44, 12
_CSS = """
.clinicsim-model{font-family:system-ui,sans-serif;color:#222}
.clinicsim-model table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
.clinicsim-model th,.clinicsim-model td{border:1px solid #ccc;padding:.25em .6em;
text-align:left;vertical-align:top}
.clinicsim-model .muted{color:#666}
"""


def _layers(model: ClinicModel) -> list[list[str]]:
    """Nodes by depth (longest path from a root), each layer ordered to limit crossings."""
    depth: dict[str, int] = {}
    for node in model.nodes:  # topological order: parents first
        depth[node] = 1 + max((depth[p] for p in model.parents(node)), default=-1)
    layers: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for node in model.nodes:
        layers[depth[node]].append(node)
    return layers


def network_svg(model: ClinicModel, width: int = 640) -> str:
    """The network as an SVG drawing: one row of boxes per depth, arrows parent to child."""
    layers = _layers(model)
    x: dict[str, float] = {}
    y: dict[str, float] = {}
    for row, layer in enumerate(layers):
        if row:  # order a layer by the mean position of each node's parents
            layer.sort(key=lambda n: sum(x[p] for p in model.parents(n))
                       / len(model.parents(n)))
        for i, node in enumerate(layer):
            x[node] = width * (2 * i + 1) / (2 * len(layer))
            y[node] = _PAD + row * (_BOX_H + _GAP_Y)
    height = _PAD * 2 + len(layers) * _BOX_H + (len(layers) - 1) * _GAP_Y
    labels = {n: f"{n} [{len(model.states(n))}]" for n in model.nodes}
    half = {n: (len(labels[n]) * _CHAR + 16) / 2 for n in model.nodes}
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
              f'viewBox="0 0 {width} {height}" role="img" aria-label="network of '
              f'{html.escape(model.name or "the model")}" font-family="sans-serif" '
              'font-size="12">'),
             ('<defs><marker id="clinicsim-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
              'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
              '<path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>')]
    for node in model.nodes:
        for parent in model.parents(node):
            parts.append(f'<line x1="{x[parent]:.1f}" y1="{y[parent] + _BOX_H:.1f}" '
                         f'x2="{x[node]:.1f}" y2="{y[node]:.1f}" stroke="#555" '
                         'stroke-width="1.3" marker-end="url(#clinicsim-arrow)"/>')
    for node in model.nodes:
        parts.append(f'<rect x="{x[node] - half[node]:.1f}" y="{y[node]:.1f}" '
                     f'width="{2 * half[node]:.1f}" height="{_BOX_H}" rx="6" fill="#e3f2fd" '
                     'stroke="#1f77b4"/>'
                     f'<text x="{x[node]:.1f}" y="{y[node] + _BOX_H / 2 + 4:.1f}" '
                     f'text-anchor="middle">{html.escape(labels[node])}</text>')
    return "".join(parts) + "</svg>"


def _states(states: list[str]) -> str:
    shown = ", ".join(html.escape(s) for s in states[:_SHOWN_STATES])
    rest = len(states) - _SHOWN_STATES
    return shown + (f' <span class="muted">… and {rest} more</span>' if rest > 0 else "")


def model_html(model: ClinicModel) -> str:
    """The model as a scoped HTML fragment: name, description, network drawing, nodes table.

    Examples
    --------
    >>> import clinicsim
    >>> page = model_html(clinicsim.default_model())
    >>> page.startswith('<div class="clinicsim-model">'), "<svg" in page
    (True, True)
    """
    e = html.escape
    rows = "".join(
        f"<tr><td><b>{e(n)}</b></td><td>{e(', '.join(model.parents(n))) or '–'}</td>"
        f"<td>{len(model.states(n))}</td><td>{_states(model.states(n))}</td></tr>"
        for n in model.nodes)
    description = f"<p>{e(model.description)}</p>" if model.description else ""
    return (f'<div class="clinicsim-model"><style>{_CSS}</style>'
            f"<p><b>ClinicModel {e(repr(model.name))}</b>: {len(model.nodes)} nodes; "
            '<span class="muted">CPDs by <code>model.cpd(node)</code></span></p>'
            f"{description}{network_svg(model)}"
            "<table><thead><tr><th>node</th><th>parents</th><th>states</th><th></th></tr>"
            f"</thead><tbody>{rows}</tbody></table></div>")
