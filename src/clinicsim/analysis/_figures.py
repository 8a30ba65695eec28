"""The report's figures, drawn with matplotlib's object API (no pyplot, no display).

``Figure`` objects are rendered by the Agg canvas when saved to PNG, so nothing here
touches matplotlib's global backend or pyplot's figure registry. Figures are only built
when HTML is rendered: the checks themselves never import matplotlib.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from scipy import stats

__all__ = ["render_figures"]

_TARGET = "#d62728"
_BAR = "#1f77b4"
_OTHER = "#9e9e9e"


def render_figures(data: dict[str, Any]) -> dict[str, str]:
    """Base64 PNGs keyed ``gender``, ``age``, ``follow_up`` and ``cpd:<node>``."""
    out = {}
    if "gender" in data:
        out["gender"] = _png(_gender(data["gender"]))
    if "age" in data:
        out["age"] = _png(_age(data["age"]))
    if "follow_up" in data:
        out["follow_up"] = _png(_follow_up(data["follow_up"], data["alpha"]))
    for node, table in data.get("cpd", {}).items():
        out[f"cpd:{node}"] = _png(_cpd(node, table))
    if "realism" in data:
        from ._realism import realism_figure

        out["realism"] = _png(realism_figure(data["realism"]))
    return out


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _wilson(k: np.ndarray, n: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson intervals (1 - alpha), elementwise; NaN where n is 0."""
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return centre - half, centre + half


def _gender(d: dict[str, Any]) -> Figure:
    fig = Figure(figsize=(6, 3.8), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(d["states"]))
    lo = np.array([i[0] for i in d["intervals"]])
    hi = np.array([i[1] for i in d["intervals"]])
    ax.bar(x, d["shares"], color=_BAR, width=0.6, label=f"observed ({d['n']:,} rows)")
    ax.errorbar(x, d["shares"], yerr=[d["shares"] - lo, hi - d["shares"]], fmt="none",
                ecolor="black", capsize=6, label=f"{d['level']} interval")
    for i, t in zip(x, d["target"], strict=True):
        ax.fill_between([i - 0.4, i + 0.4], t - d["margin"], t + d["margin"], color=_TARGET,
                        alpha=0.18, linewidth=0, label="target ± margin" if i == 0 else None)
        ax.plot([i - 0.4, i + 0.4], [t, t], color=_TARGET, lw=2, label="target" if i == 0 else None)
    ax.set_xticks(x, d["states"])
    ax.set_xlabel("gender")
    ax.set_ylabel("share of records")
    ax.set_title("Gender shares vs target")
    ax.legend(fontsize=8, loc="upper right")
    return fig


def _age(d: dict[str, Any]) -> Figure:
    fig = Figure(figsize=(9, 3.8), layout="constrained")
    ax = fig.subplots()
    ages, counts, n = d["ages"], d["counts"], d["n"]
    expected = n / len(ages)
    z = stats.norm.ppf(1 - d["alpha"] / 2)
    half = z * np.sqrt(expected * (1 - 1 / len(ages)))
    ax.bar(ages, counts, width=1.0, color=_BAR, alpha=0.8, label=f"records per year ({n:,})")
    ax.axhline(expected, color=_TARGET, lw=2, label="even spread (target)")
    ax.axhspan(expected - half, expected + half, color=_TARGET, alpha=0.15, linewidth=0,
               label=f"{1 - d['alpha']:.0%} range for one year")
    for name, (lo, hi) in d["bands"].items():
        ax.axvline(lo - 0.5, color="black", lw=0.6, ls=":")
        ax.text((lo + hi) / 2, 1.0, name, ha="center", va="bottom", fontsize=8,
                transform=ax.get_xaxis_transform())
    ax.set_xlabel("age (years); dotted lines: age bands")
    ax.set_ylabel("records")
    ax.set_title("Age distribution vs even spread", pad=16)
    ax.legend(fontsize=8, loc="lower right")
    return fig


def _follow_up(d: dict[str, Any], alpha: float) -> Figure:
    t = d["targets"]
    fig = Figure(figsize=(11, 4), layout="constrained")
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1]})
    names = list(d["by_category"])
    n = np.array([d["by_category"][c][0] for c in names], float)
    k = np.array([d["by_category"][c][1] for c in names], float)
    lo, hi = _wilson(k, n, alpha)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = k / n
    colours = [_BAR if c in t.priority_categories else _OTHER for c in names]
    x = np.arange(len(names))
    left.bar(x, rate, color=colours)
    left.errorbar(x, rate, yerr=[rate - lo, hi - rate], fmt="none", ecolor="black", capsize=4)
    left.axhspan(t.follow_up_rate - t.follow_up_margin, t.follow_up_rate + t.follow_up_margin,
                 color=_TARGET, alpha=0.15, linewidth=0)
    left.axhline(t.follow_up_rate, color=_TARGET, lw=2,
                 label=f"overall target {t.follow_up_rate:g} ± {t.follow_up_margin:g}")
    left.set_xticks(x, [f"{c}\n(n={int(m):,})" for c, m in zip(names, n, strict=True)], fontsize=8)
    left.set_ylabel("follow-up rate")
    left.set_xlabel(f"diagnosis category (blue: {', '.join(t.priority_categories)})")
    left.set_title(f"Follow-up by category ({1 - alpha:.0%} intervals)")
    left.legend(fontsize=8)
    bands = list(d["by_band"])
    xb = np.arange(len(bands))
    for key, label, colour in (("trend", t.trend_category, _BAR), ("all", "all records", _OTHER)):
        n = np.array([d["by_band"][b][key][0] for b in bands], float)
        k = np.array([d["by_band"][b][key][1] for b in bands], float)
        lo, hi = _wilson(k, n, alpha)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = k / n
        right.errorbar(xb, rate, yerr=[rate - lo, hi - rate], color=colour, marker="o",
                       capsize=4, label=label)
    right.set_xticks(xb, bands)
    right.set_xlabel("age band")
    right.set_ylabel("follow-up rate")
    right.set_title(f"Follow-up by age band (target: rising for {t.trend_category})")
    right.legend(fontsize=8)
    return fig


def _cpd(node: str, d: dict[str, Any]) -> Figure:
    """Model CPD, observed conditional frequencies and standardised residuals.

    A two-state node with two parents is drawn as a grid (first parent x second parent)
    of P(first state); any other node as one row per parent combination.
    """
    states, parents = d["states"], d["parents"]
    model = d["model"]  # (states, columns)
    counts = d["counts"].astype(float)
    rows = counts.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        observed = np.where(rows > 0, counts / rows, np.nan)
        # (observed - expected) / SE of each cell; NaN where the model and data are 0.
        z = (counts - rows * model) / np.sqrt(rows * model * (1 - model))
    z = np.where((rows > 0) & (model > 0) & (model < 1), z, np.nan)
    grid = len(states) == 2 and len(parents) == 2
    if grid:
        shape = (len(d["row_states"]), len(d["col_states"]))
        panels = [a[0].reshape(shape) for a in (model, observed, z)]
        xticks, yticks = d["col_states"], d["row_states"]
        xlabel, ylabel = parents[1], parents[0]
        what = f"P({node}={states[0]})"
        size = (4.2 * 3, max(3.5, 0.3 * shape[0] + 1.5))
    else:
        panels = [a.T for a in (model, observed, z)]
        xticks = states
        yticks = [" / ".join(part.split("=", 1)[1] for part in label.split(", "))
                  + f"  (n={int(m):,})" for label, m in zip(d["labels"], rows, strict=True)]
        xlabel, ylabel = node, " / ".join(parents)
        what = f"P({node} | {', '.join(parents)})"
        size = (max(9.0, 0.3 * len(states) * 3 + 5), max(3.5, 0.14 * len(yticks) + 1.8))
    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(1, 3, sharey=True)
    top = float(max(np.nanmax(panels[0]), np.nanmax(panels[1], initial=0.0)))
    specs = ((f"model {what}", "viridis", {"vmin": 0.0, "vmax": top}),
             ("observed frequency", "viridis", {"vmin": 0.0, "vmax": top}),
             ("standardised residual (obs - exp) / SE", "RdBu_r", {"vmin": -4.0, "vmax": 4.0}))
    for ax, values, (title, cmap, limits) in zip(axes, panels, specs, strict=True):
        image = ax.imshow(values, aspect="auto", interpolation="nearest",
                          cmap=colormaps[cmap].with_extremes(bad="#d9d9d9"), **limits)
        ax.set_xticks(np.arange(len(xticks)), xticks, rotation=90, fontsize=7)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(xlabel)
        fig.colorbar(image, ax=ax, shrink=0.8, aspect=30)
    axes[0].set_yticks(np.arange(len(yticks)), yticks, fontsize=6 if len(yticks) > 30 else 8)
    axes[0].set_ylabel(ylabel)
    fig.suptitle(f"CPD of {node}: model vs observed (grey: no rows or no variation)")
    return fig
