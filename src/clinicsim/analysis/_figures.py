"""The report's figures, drawn with matplotlib's object API (no pyplot, no display).

``Figure`` objects are rendered by the Agg canvas when saved to PNG, so nothing here
touches matplotlib's global backend or pyplot's figure registry. matplotlib is imported
only when a figure is drawn: the checks, the tables of largest residuals and a report
shown without figures never load it.

Every figure is drawn at most ``WIDTH`` inches wide at ``DPI``, so that on a page it is
shown at its own size (not scaled down) and its smallest text, ``SMALL`` points, stays
legible; every interval is at the report's one level, ``1 - alpha`` (the level of the
checks' intervals: a target is shown when its interval lies inside the margin).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["DPI", "ReportFigures", "draw", "figure_keys", "interval_level", "largest_residuals",
           "render_figures"]

DPI = 96
WIDTH = 10.5  # inches: 1008 px at DPI, inside the report's 1100 px column
SMALL = 9  # points; 12 px at DPI
_TARGET = "#d62728"
_BAR = "#1f77b4"
_OTHER = "#9e9e9e"
_ALL = "#444444"
MAX_ROWS = 20  # parent combinations drawn per CPD; the rest are in the table of residuals


def interval_level(alpha: float) -> str:
    """The report's interval level as a label, e.g. ``"99%"`` for alpha 0.01."""
    return f"{1 - alpha:.0%}"


def figure_keys(data: dict[str, Any]) -> list[str]:
    """The figures a report has: ``gender``, ``age``, ``follow_up``, ``cpd:<node>``, ``realism``."""
    keys: list[str] = [k for k in ("gender", "age", "follow_up") if k in data]
    keys += [f"cpd:{node}" for node in data.get("cpd", {})]
    return keys + (["realism"] if "realism" in data else [])


def draw(data: dict[str, Any], key: str) -> Figure:
    """The figure ``key`` (one of :func:`figure_keys`) of a report's figure data."""
    if key not in figure_keys(data):
        raise KeyError(key)
    alpha = data["alpha"]
    if key == "gender":
        return _gender(data["gender"], alpha)
    if key == "age":
        return _age(data["age"], alpha)
    if key == "follow_up":
        return _follow_up(data["follow_up"], alpha)
    if key == "realism":
        from ._realism import realism_figure

        return realism_figure(data["realism"])
    node = key.removeprefix("cpd:")
    return _cpd(node, data["cpd"][node])


def render_figures(data: dict[str, Any]) -> dict[str, str]:
    """Base64 PNGs keyed as :func:`figure_keys`."""
    return {key: _png(draw(data, key)) for key in figure_keys(data)}


class ReportFigures(Mapping[str, "Figure"]):
    """A report's figures, drawn when looked up; shown as images in a notebook.

    ``figures["follow_up"]`` is a matplotlib ``Figure`` (``.savefig(path)`` to keep it).
    """

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Figure:
        return draw(self._data, key)

    def __iter__(self) -> Iterator[str]:
        return iter(figure_keys(self._data))

    def __len__(self) -> int:
        return len(figure_keys(self._data))

    def __repr__(self) -> str:
        return f"<ReportFigures {', '.join(self)}>"

    def _repr_html_(self) -> str:
        from ._render import figures_html

        return figures_html(render_figures(self._data))


def _new(height: float, width: float = WIDTH) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(min(width, WIDTH), height), layout="constrained")


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _clopper_pearson(k: np.ndarray, n: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Clopper-Pearson intervals at the report's level ``1 - alpha``, elementwise.

    The same intervals as the checks' (``binomtest(...).proportion_ci(1 - alpha)``);
    NaN where n is 0.
    """
    k, n = np.asarray(k, float), np.asarray(n, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(k > 0, stats.beta.ppf(alpha / 2, k, n - k + 1), 0.0)
        hi = np.where(k < n, stats.beta.ppf(1 - alpha / 2, k + 1, n - k), 1.0)
    empty = n == 0
    return np.where(empty, np.nan, lo), np.where(empty, np.nan, hi)


def _errorbars(rate: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> list[np.ndarray]:
    return [rate - lo, hi - rate]


def _gender(d: dict[str, Any], alpha: float) -> Figure:
    fig = _new(3.8, 7)
    ax = fig.subplots()
    x = np.arange(len(d["states"]))
    shares = np.asarray(d["shares"])
    lo = np.array([i[0] for i in d["intervals"]])
    hi = np.array([i[1] for i in d["intervals"]])
    ax.bar(x, shares, color=_BAR, width=0.6, label=f"observed ({d['n']:,} rows)")
    ax.errorbar(x, shares, yerr=_errorbars(shares, lo, hi), fmt="none", ecolor="black",
                capsize=6, label=f"{interval_level(alpha)} interval")
    for i, t in zip(x, d["target"], strict=True):
        ax.fill_between([i - 0.4, i + 0.4], t - d["margin"], t + d["margin"], color=_TARGET,
                        alpha=0.18, linewidth=0, label="target ± margin" if i == 0 else None)
        ax.plot([i - 0.4, i + 0.4], [t, t], color=_TARGET, lw=2, label="target" if i == 0 else None)
    ax.set_xticks(x, d["states"])
    ax.set_xlabel("gender")
    ax.set_ylabel("share of records")
    ax.set_title("Gender shares vs target")
    ax.legend(fontsize=SMALL, loc="upper right")
    return fig


def _age(d: dict[str, Any], alpha: float) -> Figure:
    fig = _new(3.8)
    ax = fig.subplots()
    ages, counts, n = d["ages"], d["counts"], d["n"]
    p = 1 / len(ages)
    expected = n * p
    # One year's count is binomial(n, 1/years) under an even spread: its central
    # 1 - alpha range, drawn as two lines (a shaded band reads as a second series).
    low, high = stats.binom.ppf([alpha / 2, 1 - alpha / 2], n, p)
    ax.bar(ages, counts, width=0.9, color=_BAR, label=f"records per year of age ({n:,})")
    ax.axhline(expected, color=_TARGET, lw=2, label=f"even spread: {expected:,.1f} per year")
    for i, level in enumerate((low, high)):
        ax.axhline(level, color=_TARGET, lw=1, ls="--", label=(
            f"{interval_level(alpha)} range of one year's count if even" if i == 0 else None))
    for name, (lo, hi) in d["bands"].items():
        ax.axvline(lo - 0.5, color="black", lw=0.6, ls=":")
        ax.text((lo + hi) / 2, 1.0, name, ha="center", va="bottom", fontsize=SMALL,
                transform=ax.get_xaxis_transform())
    ax.set_xlabel("age (years); dotted lines: age bands")
    ax.set_ylabel("records")
    ax.set_title("Age distribution vs even spread", pad=18)
    ax.set_ylim(0, max(counts.max(), high) * 1.35)
    ax.legend(fontsize=SMALL, loc="upper center", ncols=3, frameon=False)
    return fig


def _follow_up(d: dict[str, Any], alpha: float) -> Figure:
    level = interval_level(alpha)
    fig = _new(4.3)
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.25, 1]})
    names = list(d["by_category"])
    n = np.array([d["by_category"][c][0] for c in names], float)
    k = np.array([d["by_category"][c][1] for c in names], float)
    # The overall rate is a bar of its own, left of the categories: the target line and
    # its margin are drawn over that bar only, since no category has that target.
    n, k = np.r_[n.sum(), n], np.r_[k.sum(), k]
    lo, hi = _clopper_pearson(k, n, alpha)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = k / n
    colours = ["white"] + [_BAR if c in d["priority"] else _OTHER for c in names]
    x = np.r_[0, np.arange(len(names)) + 1.5]
    left.bar(x, rate, color=colours, edgecolor=_ALL, linewidth=[1.5] + [0] * len(names))
    left.errorbar(x, rate, yerr=_errorbars(rate, lo, hi), fmt="none", ecolor="black",
                  capsize=4, label=f"{level} interval")
    if d["rate"] is not None:
        target, margin = d["rate"]
        left.fill_between([-0.45, 0.45], target - margin, target + margin, color=_TARGET,
                          alpha=0.18, linewidth=0, label="target ± margin (all records)")
        left.plot([-0.45, 0.45], [target] * 2, color=_TARGET, lw=2,
                  label=f"target {target:g} (all records)")
    left.axvline(0.75, color="black", lw=0.6, ls=":")
    labels = ["all"] + [c.replace("preventive", "prevent-\nive") for c in names]
    left.set_xticks(x, [f"{c}\n{int(m):,}" for c, m in zip(labels, n, strict=True)],
                    fontsize=SMALL)
    left.set_ylabel("follow-up rate")
    left.set_xlabel(f"diagnosis category and rows (blue: {', '.join(d['priority'])})",
                    fontsize=SMALL)
    left.set_title("Follow-up rate, all records and by category", fontsize=11)
    left.set_ylim(0, min(1.0, float(np.nanmax(hi)) * 1.3))
    left.legend(fontsize=SMALL, loc="upper left", frameon=False)
    bands = list(d["by_band"])
    xb = np.arange(len(bands))
    lines = [("all", "all records", _OTHER)]
    if d["trend_category"] is not None:
        lines.insert(0, ("trend", d["trend_category"], _BAR))
    for key, label, colour in lines:
        n = np.array([d["by_band"][b][key][0] for b in bands], float)
        k = np.array([d["by_band"][b][key][1] for b in bands], float)
        lo, hi = _clopper_pearson(k, n, alpha)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = k / n
        right.errorbar(xb, rate, yerr=_errorbars(rate, lo, hi), color=colour, marker="o",
                       capsize=4, label=f"{label} ({level} intervals)")
    right.set_xticks(xb, bands, fontsize=SMALL)
    right.set_xlabel("age band", fontsize=SMALL)
    right.set_ylabel("follow-up rate")
    right.set_title("By age band" + (f" (target: rising for {d['trend_category']})"
                                     if d["trend_category"] else ""), fontsize=11)
    right.legend(fontsize=SMALL, loc="upper left", frameon=False)
    return fig


# -- CPDs: standardised residuals ------------------------------------------------------

def _residuals(d: dict[str, Any]) -> dict[str, np.ndarray]:
    """Rows per column, observed frequencies, residuals and each column's deviation.

    ``z`` is (observed - expected) / SE per cell, NaN where the model gives 0 or 1 or the
    column has no rows; ``impossible`` marks rows in a state of probability 0; ``score``
    is each column's Pearson chi-square (infinite with an impossible row, -1 without rows).
    """
    model = d["model"]  # (states, columns)
    counts = d["counts"].astype(float)
    rows = counts.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        observed = np.where(rows > 0, counts / rows, np.nan)
        z = (counts - rows * model) / np.sqrt(rows * model * (1 - model))
    z = np.where((rows > 0) & (model > 0) & (model < 1), z, np.nan)
    impossible = (model == 0) & (counts > 0)
    score = np.where(rows > 0, np.nansum(z**2, axis=0), -1.0)
    score = np.where(impossible.any(axis=0), np.inf, score)
    return {"rows": rows, "observed": observed, "z": z, "impossible": impossible, "score": score}


def _short(label: str) -> str:
    """``"gender=male, age_group=0_14"`` -> ``"male / 0_14"``."""
    return " / ".join(part.split("=", 1)[1] for part in label.split(", "))


def largest_residuals(d: dict[str, Any], limit: int = 15) -> list[dict[str, Any]]:
    """The CPD cells that deviate most from the model, largest ``|z|`` first.

    Rows in states the model gives probability 0 come first; of a two-state node only the
    first state's residuals are listed (the second's are their negatives). Each entry has
    the parent states, the state, the column's rows, the observed frequency, the model's
    probability and the standardised residual ``z`` (None for impossible rows).
    """
    r = _residuals(d)
    size = np.where(np.isnan(r["z"]), -1.0, np.abs(r["z"]))
    if len(d["states"]) == 2:
        size[1] = -1.0  # a two-state column's second residual is the first one negated
    size = np.where(r["impossible"], np.inf, size)
    cells = sorted(zip(*np.nonzero(size >= 0), strict=True), key=lambda c: -size[c])[:limit]
    return [{"parents": _short(d["labels"][j]), "state": d["states"][i],
             "rows": int(r["rows"][j]), "observed": float(r["observed"][i, j]),
             "model": float(d["model"][i, j]),
             "z": None if r["impossible"][i, j] else float(r["z"][i, j])}
            for i, j in cells]


def _heatmap(ax: Any, values: np.ndarray, cmap: Any, limits: tuple[float, float],
             text: list[list[str]], dark: float) -> Any:
    image = ax.imshow(values, aspect="auto", interpolation="nearest", cmap=cmap,
                      vmin=limits[0], vmax=limits[1])
    for (i, j), label in np.ndenumerate(np.array(text, dtype=object)):
        if label:
            colour = "white" if abs(np.nan_to_num(values[i, j])) > dark else "black"
            ax.text(j, i, label, ha="center", va="center", fontsize=SMALL - 1, color=colour)
    return image


def _cpd(node: str, d: dict[str, Any]) -> Figure:
    """Standardised residuals of a CPD, labelled, with the values written in the cells.

    A two-state node with two parents is drawn as a grid (first parent x second parent):
    the model's P(first state) beside the residuals. Any other node is drawn with one row
    per parent combination, at most ``MAX_ROWS`` of them: those that deviate most.
    """
    from matplotlib import colormaps

    states, parents = d["states"], d["parents"]
    r = _residuals(d)
    diverging = colormaps["RdBu_r"].with_extremes(bad="white")
    bound = 4.0
    fmt = np.vectorize(lambda v: "" if np.isnan(v) else "0" if abs(v) < 0.05 else f"{v:+.1f}",
                       otypes=[object])
    if len(states) == 2 and len(parents) == 2:
        shape = (len(d["row_states"]), len(d["col_states"]))
        model = d["model"][0].reshape(shape)
        z = r["z"][0].reshape(shape)
        fig = _new(max(3.5, 0.3 * shape[0] + 1.6))
        axes = fig.subplots(1, 2)
        sequential = colormaps["Blues"]
        images = [
            _heatmap(axes[0], model, sequential, (0.0, 1.0),
                     [[f"{v:.2f}" for v in row] for row in model], 0.6),
            _heatmap(axes[1], z, diverging, (-bound, bound), fmt(z).tolist(), 2.5)]
        titles = [f"model P({node}={states[0]})",
                  f"standardised residual of {node}={states[0]}"]
        for ax, image, title in zip(axes, images, titles, strict=True):
            ax.set_xticks(np.arange(shape[1]), d["col_states"], fontsize=SMALL)
            ax.set_yticks(np.arange(shape[0]), d["row_states"], fontsize=SMALL)
            ax.set_xlabel(parents[1], fontsize=SMALL)
            ax.set_ylabel(parents[0], fontsize=SMALL)
            ax.set_title(title, fontsize=10)
            fig.colorbar(image, ax=ax, shrink=0.8, aspect=30)
        fig.suptitle(f"CPD of {node}: {int(r['rows'].sum()):,} rows against the model "
                     "(residual = (observed - expected) / SE; blank: no rows)", fontsize=11)
        return fig
    seen = np.flatnonzero(r["rows"] > 0)
    if len(seen) > MAX_ROWS:
        shown = seen[np.argsort(-r["score"][seen], kind="stable")[:MAX_ROWS]]
        which = (f"the {MAX_ROWS} of {len(seen)} parent combinations (with rows) that "
                 "deviate most,\nlargest chi-square first")
    else:
        shown = seen
        which = f"all {len(seen)} parent combinations with rows"
    z = r["z"][:, shown].T
    impossible = r["impossible"][:, shown].T
    zero = (d["model"][:, shown].T == 0) & ~impossible
    text = np.where(impossible, "×", np.where(zero, "·", fmt(z)))
    z = np.where(impossible, bound, z)
    labels = [f"{_short(d['labels'][j])}  (n={int(r['rows'][j]):,})" for j in shown]
    fig = _new(0.3 * len(shown) + 2.4)
    ax = fig.subplots()
    image = _heatmap(ax, z, diverging, (-bound, bound), text.tolist(), 2.5)
    ax.set_xticks(np.arange(len(states)), states, rotation=40, ha="right",
                  rotation_mode="anchor", fontsize=SMALL)
    ax.set_yticks(np.arange(len(shown)), labels, fontsize=SMALL)
    ax.set_xlabel(node, fontsize=SMALL)
    ax.set_ylabel(" / ".join(parents), fontsize=SMALL)
    ax.set_title(f"CPD of {node}: standardised residuals of {which}\n"
                 "(· the model gives probability 0 and no row has it; × rows in a state the "
                 "model makes impossible)", fontsize=10)
    fig.colorbar(image, ax=ax, shrink=0.8, aspect=30,
                 label="(observed - expected) / SE").ax.tick_params(labelsize=SMALL)
    return fig
