"""How far a model's exact figures are from the published figures it was built from.

:func:`realism_table` compares, by exact inference (no sampling), the share of visits
that are chronic, preventive and surgical by age band with NAMCS 2019's reasons for
visit, the age and sex mix with NAMCS 2019, and the seasonality of viral diagnoses with
CDC ILINet. A reader sees at a glance which hand-set number sits where against its
source. Rows whose model side is missing (no ``visit_month`` node, an age band NAMCS
does not have) are left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._reference import (
    DAYS_IN_MONTH,
    ILINET_ILI_PERCENT,
    ILINET_SHARE_OF_YEAR,
    MONTHS,
    NAMCS_AGE_BANDS,
    NAMCS_PRIMARY_CARE_AGE,
    NAMCS_REASON,
    NAMCS_SEX,
    SOURCES,
)
from ..model import ClinicModel, default_model
from ._svg import SvgFigure

__all__ = ["COLUMNS", "realism_figure", "realism_table"]

COLUMNS = ("quantity", "group", "model", "reference", "difference", "source")

# Model category -> NAMCS 2019 major reasons for visit that make it up.
_REASONS = {
    "chronic": ("chronic_routine", "chronic_flare_up"),
    "preventive": ("preventive",),
    "surgical": ("pre_surgery", "post_surgery"),
}


def realism_table(model: ClinicModel | None = None) -> pd.DataFrame:
    """The model's exact figures beside the published reference figures.

    Parameters
    ----------
    model : ClinicModel, optional
        The model to compare; :func:`clinicsim.default_model` if None.

    Returns
    -------
    pandas.DataFrame
        Columns ``quantity, group, model, reference, difference, source``; shares are
        fractions, ``difference`` is ``model - reference``.

    Examples
    --------
    >>> from clinicsim.analysis._realism import realism_table
    >>> table = realism_table()
    >>> row = table[(table.quantity == "chronic share of visits") & (table.group == "75_89")]
    >>> round(float(row.reference.iloc[0]), 3)
    0.622
    """
    model = default_model() if model is None else model
    rows = [*_by_age_band(model), *_demography(model), *_seasonality(model)]
    table = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "difference"])
    table.insert(4, "difference", table["model"] - table["reference"])
    return table


def realism_figure(table: pd.DataFrame) -> SvgFigure:
    """One panel per quantity of :func:`realism_table`: model and reference by group (SVG)."""
    from ._figures import SMALL, _Axes, _legend, _title, _xticks
    from ._svg import PT, Canvas

    quantities = list(dict.fromkeys(table["quantity"]))
    width = 1008.0
    c = Canvas(width, 0)
    y = _title(c, "Model (exact) against the published figures it was built from", 12, 22,
               width - 24)
    y = _legend(c, 12, y + 4, [("bar", "#bbbbbb", "reference"), ("bar", "#1f77b4", "model")],
                width - 24) + 8
    panel = (width - 40) / 2
    for row in range(0, len(quantities), 2):
        bottom = y
        for k, quantity in enumerate(quantities[row:row + 2]):
            part = table[table["quantity"] == quantity]
            x0 = 20 + k * (panel + 20)
            ty = _title(c, quantity, x0, y + 14, panel - 10, 10)
            top = float(max(part["reference"].max(), part["model"].max())) * 1.15
            ax = _Axes(c, (x0 + 62, ty + 4, x0 + panel - 6, ty + 154), top,
                       (-0.5, len(part) - 0.5), "ratio" if "/" in quantity else "share")
            slot = ax.x(1) - ax.x(0)
            for i, (_, r) in enumerate(part.iterrows()):
                for shift, value, colour, what in ((-0.2, r["reference"], "#bbbbbb", "reference"),
                                                   (0.2, r["model"], "#1f77b4", "model")):
                    c.rect(ax.x(i + shift) - 0.2 * slot, ax.y(value), 0.4 * slot,
                           ax.y1 - ax.y(value), colour,
                           title=f"{quantity}, {r['group']}: {what} {value:.3g}")
            bottom = max(bottom, _xticks(c, [ax.x(i) for i in range(len(part))],
                                         [str(g) for g in part["group"]], ax.y1, slot))
        y = bottom + SMALL * PT
    c.height = y
    return c.figure("realism", "The model against its published sources")


# ---------------------------------------------------------------------------------------


def _joint(model: ClinicModel, a: str, b: str) -> pd.DataFrame:
    """Exact P(a, b): rows a's states, columns b's states."""
    return model.query([a, b]).unstack(b).reindex(index=model.states(a),
                                                    columns=model.states(b))


def _namcs_band(lo: int, hi: int) -> int | None:
    """The NAMCS age group with the same bounds (75+ matches any band from 75), if any."""
    for k, (ref_lo, ref_hi) in enumerate(NAMCS_AGE_BANDS):
        if lo == ref_lo and (hi == ref_hi or ref_hi is None):
            return k
    return None


def _by_age_band(model: ClinicModel) -> list[tuple]:
    joint = _joint(model, "age_group", "diagnosis")
    share = joint.div(joint.sum(axis=1), axis=0)
    category = pd.Series(model.diagnosis_categories)
    rows = []
    for cat, reasons in _REASONS.items():
        by_band = share.T.groupby(category[share.columns].to_numpy()).sum().T.get(cat)
        label = " + ".join(r.replace("_", " ") for r in reasons)
        for band, (lo, hi) in model.age_bands.items():
            k = _namcs_band(lo, hi)
            if k is None:
                continue
            reference = sum(NAMCS_REASON[r][k] for r in reasons) / 100
            model_share = 0.0 if by_band is None else float(by_band[band])
            rows.append((f"{cat} share of visits", band, model_share, reference,
                         f"{SOURCES['namcs_reason']}: {label}"))
    return rows


def _demography(model: ClinicModel) -> list[tuple]:
    rows = []
    ages = model.marginal("age_group")
    reference = np.asarray(NAMCS_PRIMARY_CARE_AGE) / sum(NAMCS_PRIMARY_CARE_AGE)
    for band, (lo, hi) in model.age_bands.items():
        k = _namcs_band(lo, hi)
        if k is not None:
            rows.append(("age band share of visits", band, float(ages[band]), float(reference[k]),
                         f"{SOURCES['namcs_age']} (normalised: the row sums to 100.1)"))
    sex = model.marginal("gender")
    if {"male", "female"} <= set(sex.index):
        two = sex["male"] + sex["female"]
        for s in ("female", "male"):
            rows.append(("share of male + female visits", s, float(sex[s] / two),
                         NAMCS_SEX[s] / 100, SOURCES["namcs_sex"]))
    return rows


def _seasonality(model: ClinicModel) -> list[tuple]:
    if "visit_month" not in model.nodes:
        return []
    joint = _joint(model, "diagnosis", "visit_month")[list(MONTHS)]
    viral = [d for d, c in model.diagnosis_categories.items() if c == "viral"]
    if not viral:
        return []
    viral_by_month = joint.loc[viral].sum()
    relative = (viral_by_month / joint.sum()) / viral_by_month.sum()
    ili = pd.Series(ILINET_ILI_PERCENT)
    ili_relative = ili / (ili * np.asarray(DAYS_IN_MONTH)).sum() * 365
    month_share = viral_by_month / viral_by_month.sum()
    share_of_year = pd.Series(ILINET_SHARE_OF_YEAR)
    share_of_year /= share_of_year.sum()
    rows = [("viral share of visits / yearly share", m, float(relative[m]), float(ili_relative[m]),
             f"{SOURCES['ilinet_percent']}, over its days-weighted yearly mean") for m in MONTHS]
    rows += [("month's share of viral visits", m, float(month_share[m]), float(share_of_year[m]),
              f"{SOURCES['ilinet_share']} (normalised: the column sums to 100.1)") for m in MONTHS]
    return rows
