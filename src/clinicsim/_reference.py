"""Published figures the shipped models are built from, and checked against.

One copy, read by ``tools/build_default_model.py`` (which sets the CPDs from them) and by
``clinicsim.analysis._realism`` (which compares the models with them). Percentages are
as published; see ``REFERENCE_DATA.md`` in the project's shared notes for the tables.
"""

from __future__ import annotations

__all__ = [
    "DAYS_IN_MONTH",
    "ILINET_ILI_PERCENT",
    "ILINET_SHARE_OF_YEAR",
    "MONTHS",
    "NAMCS_AGE_BANDS",
    "NAMCS_PRIMARY_CARE_AGE",
    "NAMCS_REASON",
    "NAMCS_SEX",
    "SOURCES",
]

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # a common (365-day) year

# NAMCS age groups as (min, max) years; None: no upper bound ("75+").
NAMCS_AGE_BANDS = ((0, 14), (15, 24), (25, 44), (45, 64), (65, 74), (75, None))

# NAMCS 2019, major reason for visit by age group, row % (computed, weighted), in the
# order of NAMCS_AGE_BANDS.
NAMCS_REASON = {
    "new_problem": (42.0, 40.4, 27.2, 24.8, 22.6, 17.5),
    "chronic_routine": (8.6, 19.5, 28.4, 40.4, 44.5, 55.4),
    "chronic_flare_up": (2.7, 4.1, 6.3, 8.5, 9.5, 6.8),
    "pre_surgery": (0.4, 0.8, 1.1, 1.3, 2.1, 1.1),
    "post_surgery": (1.3, 6.0, 6.1, 5.6, 6.9, 3.9),
    "preventive": (43.0, 28.1, 29.7, 17.4, 13.5, 13.4),
}

# NAMCS 2019, % of visits by age group, primary-care physicians only (sums to 100.1).
NAMCS_PRIMARY_CARE_AGE = (19.7, 7.8, 18.3, 23.9, 16.4, 14.0)

# NAMCS 2019, female / male share of visits (NAMCS records two sexes only).
NAMCS_SEX = {"female": 58.4, "male": 41.6}

# CDC ILINet, Jul 2010 - Jun 2019 (computed): % of all visits that are influenza-like
# illness, by month; and each month's share of the year's ILI visits. The two disagree
# on January / July (4.6x and 7.1x): the second also moves with ILINet's total visit
# counts, which rise during flu seasons. See tools/build_default_model.py.
ILINET_ILI_PERCENT = dict(zip(MONTHS, (3.79, 3.76, 2.70, 1.72, 1.32, 1.04,
                                       0.83, 0.86, 1.14, 1.37, 1.84, 3.07), strict=True))
ILINET_SHARE_OF_YEAR = dict(zip(MONTHS, (17.8, 16.8, 12.1, 7.3, 5.5, 3.5,
                                         2.5, 2.9, 3.8, 6.6, 8.3, 13.0), strict=True))

SOURCES = {
    "namcs_reason": "NAMCS 2019, major reason for visit by age (row %, weighted)",
    "namcs_age": "NAMCS 2019, % of visits by age, primary-care physicians",
    "namcs_sex": "NAMCS 2019, female/male share of visits",
    "ilinet_percent": "CDC ILINet 2010-19, % of visits that are ILI, by month",
    "ilinet_share": "CDC ILINet 2010-19, month's share of the year's ILI visits",
}
