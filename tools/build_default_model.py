"""Write ``src/clinicsim/model/data/default.yaml`` from the reasoning below.

The default model is data (the YAML file, with its reasons as comments; beside it a JSON
twin of the same data, which is what ``load_model`` reads for a preset, since it parses
20 times faster); this script records how its hand-set numbers were derived so that they
can be revisited. Run it from the
repository root: ``python tools/build_default_model.py [FOLDER]`` (by default into the
package's data folder; ``tests/test_tools.py`` checks that the files it writes are the
shipped ones, byte for byte). Sources are in
``REFERENCE_DATA.md`` (NAMCS 2019, NHANES, NHIS, CDC ILINet); numbers marked
"judgement" have no published source.

It also writes the preset ``us_office_visits.yaml`` (``load_model("us-office-visits")``):
the same clinic with the ages and sexes of NAMCS 2019 primary-care visits instead of the
brief's evenly spread ages and 45/43/12 gender split.

Seasonality is a ``visit_month`` node with parent ``diagnosis``. Month as a child (rather
than season as a parent of diagnosis) leaves the diagnosis CPD, and so every target of the
brief, exactly as it was: no marginal of the five required nodes changes. It makes the
seasonality one inspectable table, P(month | diagnosis), that the report can check against
visit dates. The sampler draws the month from this CPD, then the day within that month by
the weekday and public-holiday weights of ``metadata.visit_window``, so the months of the
visit dates follow the CPD exactly whatever the calendar.
"""

from __future__ import annotations

import argparse
import itertools
import json
from datetime import date
from pathlib import Path

import numpy as np
import yaml

from clinicsim._reference import (
    DAYS_IN_MONTH,
    ILINET_ILI_PERCENT,
    MONTHS,
    NAMCS_PRIMARY_CARE_AGE,
    NAMCS_REASON,
    NAMCS_SEX,
)
from clinicsim.model import model_from_dict
from clinicsim.model._calendar import calendar_span, resolve_holidays

DATA = Path(__file__).resolve().parents[1] / "src/clinicsim/model/data"

# Visits fall in 2024; the longest follow-up (preventive) is 365 days later.
CALENDAR = calendar_span(date(2024, 1, 1), date(2024, 12, 31), 365)
HOLIDAYS = resolve_holidays("US", *CALENDAR)

GENDERS = ["male", "female", "other"]
BANDS = {"0_14": (0, 14), "15_24": (15, 24), "25_44": (25, 44), "45_64": (45, 64),
         "65_74": (65, 74), "75_89": (75, 89)}

# diagnosis: (ICD-10-CM, category)
DIAGNOSES = {
    "hypertension": ("I10", "chronic"),
    "type2_diabetes": ("E11.9", "chronic"),
    "asthma": ("J45.909", "chronic"),
    "copd": ("J44.9", "chronic"),
    "heart_disease": ("I25.10", "chronic"),
    "inguinal_hernia": ("K40.90", "surgical"),
    "cholelithiasis": ("K80.20", "surgical"),
    "upper_respiratory_infection": ("J06.9", "viral"),
    "influenza": ("J11.1", "viral"),
    "viral_gastroenteritis": ("A08.4", "viral"),
    "strep_pharyngitis": ("J02.0", "bacterial"),
    "urinary_tract_infection": ("N39.0", "bacterial"),
    "ankle_sprain": ("S93.401A", "injury"),
    "well_child_visit": ("Z00.129", "preventive"),
    "adult_checkup": ("Z00.00", "preventive"),
    "low_back_pain": ("M54.50", "other"),
}

# Category share of visits by age band: NAMCS 2019 major reason for visit, row %
# (chronic = routine + flare-up, surgical = pre + post surgery, preventive as is; the
# "new problem" share is split between viral / bacterial / injury / other below).
NAMCS_CHRONIC = [a + b for a, b in zip(NAMCS_REASON["chronic_routine"],
                                         NAMCS_REASON["chronic_flare_up"], strict=True)]
NAMCS_SURGICAL = [a + b for a, b in zip(NAMCS_REASON["pre_surgery"],
                                         NAMCS_REASON["post_surgery"], strict=True)]
NAMCS_PREVENTIVE = list(NAMCS_REASON["preventive"])
NAMCS_NEW_PROBLEM = list(NAMCS_REASON["new_problem"])
# Split of new problems (judgement: respiratory infections dominate in children).
NEW_SPLIT = {"viral": [50, 40, 35, 30, 30, 30], "bacterial": [25, 22, 22, 20, 22, 25],
             "injury": [15, 22, 18, 15, 12, 12], "other": [10, 16, 25, 35, 36, 33]}
# Within-category weights by age band. Chronic weights follow the prevalence gradients of
# NHANES 2017-18 (hypertension), NHIS 2007 (diabetes, heart disease), NHIS 2019 (asthma,
# flat in adults, the main chronic condition of children) and NHANES 2007-12 (COPD, 40+).
WITHIN = {
    "hypertension": [0, 8, 35, 40, 38, 34],
    "type2_diabetes": [1, 4, 15, 22, 24, 20],
    "asthma": [95, 80, 35, 14, 9, 8],
    "copd": [0, 0, 3, 8, 13, 16],
    "heart_disease": [0, 1, 3, 10, 18, 24],
    "inguinal_hernia": [80, 50, 50, 45, 45, 45],  # judgement
    "cholelithiasis": [20, 50, 50, 55, 55, 55],  # judgement
    "upper_respiratory_infection": [55] * 6,  # judgement
    "influenza": [25] * 6,  # judgement
    "viral_gastroenteritis": [20] * 6,  # judgement
    "strep_pharyngitis": [70, 45, 30, 15, 8, 5],  # judgement: strep is a childhood illness
    "urinary_tract_infection": [30, 55, 70, 85, 92, 95],
    "ankle_sprain": [1] * 6,
    "well_child_visit": [100, 30, 0, 0, 0, 0],  # Z00.129 is for patients under 18
    "adult_checkup": [0, 70, 100, 100, 100, 100],
    "low_back_pain": [1] * 6,
}
# Relative risk by sex (judgement, direction from the literature: UTI and gallstones are
# more common in women, inguinal hernia and coronary disease in men). "other" takes the
# mean of the two: no published figures exist for it.
SEX_FACTOR = {"urinary_tract_infection": (0.3, 2.5), "inguinal_hernia": (1.8, 0.3),
              "cholelithiasis": (0.6, 1.5), "heart_disease": (1.3, 0.75)}

TREATMENTS = ["lifestyle_counselling", "antihypertensive", "diabetes_medication", "inhaler",
              "cardiac_medication", "cardiology_referral", "antibiotic", "antiviral",
              "symptomatic_care", "surgical_referral", "splint_or_dressing",
              "physical_therapy", "vaccination"]
# Each treatment as FHIR: resource type, code system, code, display (README "FHIR").
# Medicines are drug classes, so they get WHO ATC groups (FHIR's URI for ATC); procedures,
# therapies and referrals get SNOMED CT codes, taken from public value sets (the VSAC
# eCQM "Referral" set, HL7 implementation guides, Synthea's output).
ATC = "http://www.whocc.no/atc"
SCT = "http://snomed.info/sct"
TREATMENT_CODES = {
    "lifestyle_counselling": ("Procedure", SCT, "409063005", "Counseling (procedure)"),
    "antihypertensive": ("MedicationRequest", ATC, "C02", "ANTIHYPERTENSIVES"),
    "diabetes_medication": ("MedicationRequest", ATC, "A10", "DRUGS USED IN DIABETES"),
    "inhaler": ("MedicationRequest", ATC, "R03", "DRUGS FOR OBSTRUCTIVE AIRWAY DISEASES"),
    "cardiac_medication": ("MedicationRequest", ATC, "C01", "CARDIAC THERAPY"),
    "cardiology_referral": ("ServiceRequest", SCT, "308471005",
                            "Referral to cardiologist (procedure)"),
    "antibiotic": ("MedicationRequest", ATC, "J01", "ANTIBACTERIALS FOR SYSTEMIC USE"),
    "antiviral": ("MedicationRequest", ATC, "J05", "ANTIVIRALS FOR SYSTEMIC USE"),
    "symptomatic_care": ("Procedure", SCT, "713148004", "Symptom management (procedure)"),
    "surgical_referral": ("ServiceRequest", SCT, "308478004",
                          "Referral to general surgeon (procedure)"),
    "splint_or_dressing": ("Procedure", SCT, "79321009", "Application of splint (procedure)"),
    "physical_therapy": ("ServiceRequest", SCT, "91251008",
                         "Physical therapy procedure (regime/therapy)"),
    "vaccination": ("Procedure", SCT, "33879002",
                    "Administration of vaccine to produce active immunity (procedure)"),
}
# Treatment mix per diagnosis (judgement; zero where a treatment makes no sense).
TREAT = {
    "hypertension": {"antihypertensive": 70, "lifestyle_counselling": 25, "cardiology_referral": 5},
    "type2_diabetes": {"diabetes_medication": 75, "lifestyle_counselling": 25},
    "asthma": {"inhaler": 90, "lifestyle_counselling": 10},
    "copd": {"inhaler": 80, "lifestyle_counselling": 10, "antibiotic": 10},
    "heart_disease": {"cardiac_medication": 65, "cardiology_referral": 25,
                      "lifestyle_counselling": 10},
    "inguinal_hernia": {"surgical_referral": 75, "symptomatic_care": 25},
    "cholelithiasis": {"surgical_referral": 70, "symptomatic_care": 20,
                       "lifestyle_counselling": 10},
    "upper_respiratory_infection": {"symptomatic_care": 90, "antibiotic": 10},
    "influenza": {"antiviral": 45, "symptomatic_care": 55},
    "viral_gastroenteritis": {"symptomatic_care": 100},
    "strep_pharyngitis": {"antibiotic": 95, "symptomatic_care": 5},
    "urinary_tract_infection": {"antibiotic": 100},
    "ankle_sprain": {"splint_or_dressing": 60, "physical_therapy": 25, "symptomatic_care": 15},
    "well_child_visit": {"vaccination": 70, "lifestyle_counselling": 30},
    "adult_checkup": {"vaccination": 40, "lifestyle_counselling": 60},
    "low_back_pain": {"physical_therapy": 50, "symptomatic_care": 50},
}
# Age adjustments (judgement): no cardiology referral under 25; antivirals for influenza
# are recommended for children under 5 and adults 65+ (CDC), so they are commoner there.
TREAT_AGE = {("cardiology_referral", "0_14"): 0.0, ("cardiology_referral", "15_24"): 0.0,
             ("antiviral", "0_14"): 1.8, ("antiviral", "65_74"): 1.8, ("antiviral", "75_89"): 1.8}

# Follow-up probability before fitting (judgement, ordered as the brief asks: chronic,
# surgical and viral above the rest; chronic rising with age). clinicsim's fit_targets then
# tilts this table as little as possible (least Kullback-Leibler change) so that the
# default model's exact P(follow_up) is the brief's 0.30; the order is kept.
FOLLOW_UP = {"chronic": [0.40, 0.44, 0.50, 0.58, 0.66, 0.72], "surgical": [0.60] * 6,
             "viral": [0.32] * 6, "bacterial": [0.12] * 6, "injury": [0.15] * 6,
             "preventive": [0.05] * 6, "other": [0.15] * 6}
FOLLOW_UP_TARGET = 0.30
DECIMALS = 6

# The brief's clinic: gender 45/43/12 and ages evenly spread over 0-89 (width / 90).
BRIEF_GENDER = {"male": 0.45, "female": 0.43, "other": 0.12}
BRIEF_AGE = {b: (hi - lo + 1) / 90 for b, (lo, hi) in BANDS.items()}
# The us-office-visits preset: NAMCS 2019 primary-care ages (the published row sums to
# 100.1, so it is normalised) and NAMCS 2019 female/male shares. NAMCS records two sexes;
# "other" gets 1.6% (judgement, after the Pew Research Center's 2022 estimate that 1.6% of
# US adults are transgender or nonbinary) and male/female split the rest 41.6 : 58.4.
OTHER_SHARE = 0.016

# Seasonality, P(visit_month | diagnosis). Viral diagnoses: ILINet's % of visits that are
# ILI in month m, times the days in m (visits per day taken as flat), so January runs
# 3.79 / 0.83 = 4.6 times July. (ILINet's "share of the year's ILI visits" column gives
# 7.1x: it also moves with ILINet's total visit counts, which rise during flu seasons;
# the realism table shows the model against both.) Every other diagnosis: the days in m
# (judgement: flat per calendar day; weekday and holiday effects act within the month).
VIRAL_MONTH = [ILINET_ILI_PERCENT[m] * d for m, d in zip(MONTHS, DAYS_IN_MONTH, strict=True)]
FLAT_MONTH = list(DAYS_IN_MONTH)


def normalise(weights: np.ndarray) -> np.ndarray:
    """Round to DECIMALS and put the rounding residue on the largest entry: sums to 1."""
    p = np.round(np.asarray(weights, float) / np.sum(weights), DECIMALS)
    p[np.argmax(p)] += 1.0 - p.sum()
    return np.round(p, DECIMALS + 3)


def diagnosis_table() -> dict[tuple[str, str], np.ndarray]:
    cats = {"chronic": NAMCS_CHRONIC, "surgical": NAMCS_SURGICAL,
            "preventive": NAMCS_PREVENTIVE}
    cols = {}
    for g, (b, band) in itertools.product(range(3), enumerate(BANDS)):
        new = sum(NEW_SPLIT[c][b] for c in NEW_SPLIT)
        share = {c: v[b] for c, v in cats.items()}
        share |= {c: NAMCS_NEW_PROBLEM[b] * NEW_SPLIT[c][b] / new for c in NEW_SPLIT}
        w = []
        for d, (_, cat) in DIAGNOSES.items():
            peers = [e for e, (_, c) in DIAGNOSES.items() if c == cat]
            within = WITHIN[d][b] / sum(WITHIN[e][b] for e in peers)
            m, f = SEX_FACTOR.get(d, (1.0, 1.0))
            w.append(share[cat] * within * (m, f, (m + f) / 2)[g])
        cols[(GENDERS[g], band)] = normalise(w)
    return cols


def treatment_table() -> dict[tuple[str, str], np.ndarray]:
    cols = {}
    for band, d in itertools.product(BANDS, DIAGNOSES):
        w = [TREAT[d].get(t, 0) * TREAT_AGE.get((t, band), 1.0) for t in TREATMENTS]
        cols[(band, d)] = normalise(w)
    return cols


def exact_follow_up_rate(p_fu: dict[tuple[str, str], tuple[float, float]], dx,
                         gender: dict[str, float], age: dict[str, float]) -> float:
    total = 0.0
    for (g, band), col in dx.items():
        for d, pd_ in zip(DIAGNOSES, col, strict=True):
            total += gender[g] * age[band] * pd_ * p_fu[(d, band)][0]
    return total


def raw_follow_up_table() -> dict[tuple[str, str], tuple[float, float]]:
    return {(d, band): (FOLLOW_UP[cat][b], round(1 - FOLLOW_UP[cat][b], 4))
            for d, (_, cat) in DIAGNOSES.items() for b, band in enumerate(BANDS)}


def fitted_follow_up_table(dx, tx, months) -> dict[tuple[str, str], tuple[float, float]]:
    """The judgement table fitted by clinicsim to the default model's targets."""
    raw = render("default", BRIEF_GENDER, BRIEF_AGE, dx, tx, raw_follow_up_table(), months)
    model = model_from_dict(yaml.safe_load("\n".join(raw)))
    cpd = model.fit_targets().cpd("follow_up")
    return {(d, band): (float(cpd.loc["True", (band, d)]), float(cpd.loc["False", (band, d)]))
            for d in DIAGNOSES for band in BANDS}


def month_table() -> dict[str, np.ndarray]:
    return {d: normalise(VIRAL_MONTH if cat == "viral" else FLAT_MONTH)
            for d, (_, cat) in DIAGNOSES.items()}


def flow(mapping: dict[str, float]) -> str:
    """A one-line YAML mapping; keys that YAML would read as numbers are quoted."""
    key = lambda k: f"'{k}'" if k[0].isdigit() else k  # noqa: E731
    return "{" + ", ".join(f"{key(k)}: {float(v)!r}" for k, v in mapping.items()) + "}"


def header(name: str) -> list[str]:
    if name == "default":
        return [
            "# clinicsim default model: the brief's clinic (seed/clinic-dataset-seed.txt).",
            "# Written by tools/build_default_model.py, which documents how each number was set;",
            "# sources are NAMCS 2019, NHANES 2017-18 / 2007-12, NHIS 2007 / 2019, CDC ILINet",
            "# 2010-19 (REFERENCE_DATA.md).",
            "schema_version: 1",
            "name: default",
            "description: Small outpatient clinic; gender 45/43/12, ages evenly spread over 0-89,",
            "  about 30% follow-up concentrated in chronic, surgical and viral diagnoses.",
        ]
    return [
        "# clinicsim preset us-office-visits: the default clinic with the ages and sexes of US",
        "# primary-care office visits (NAMCS 2019). Written by tools/build_default_model.py;",
        "# every CPD but gender and age_group is the default model's.",
        "schema_version: 1",
        "name: us-office-visits",
        "description: The default clinic with NAMCS 2019 primary-care ages and sexes;",
        "  other diagnoses, treatments, follow-up and seasonality as the default.",
    ]


def render(name: str, gender: dict[str, float], age: dict[str, float], dx, tx, fu,
           months) -> list[str]:
    rate = exact_follow_up_rate(fu, dx, gender, age)
    if name == "default":
        gender_note = "the brief"
        age_note = "evenly spread ages: width / 90"
        targets_note = ["# The brief's stated targets, checked by the conformance report."]
    else:
        gender_note = "NAMCS 2019 female/male 58.4/41.6 of 98.4%; other 1.6% (judgement)"
        age_note = "NAMCS 2019 primary-care visits by age, normalised"
        targets_note = ["# This preset's own figures (its gender CPD and exact P(follow_up)) in",
                        "# place of the brief's; the checks are the same."]
    return [
        *header(name),
        "",
        "metadata:",
        "  # Bands follow NAMCS's age groups.",
        "  age_bands:",
        *[f"    '{b}': [{lo}, {hi}]" for b, (lo, hi) in BANDS.items()],
        "  # ICD-10-CM codes (FY2024 code set) and the category used by the follow-up targets.",
        "  diagnoses:",
        *[f"    {d}: {{code: {c}, category: {cat}}}" for d, (c, cat) in DIAGNOSES.items()],
        "  # Each treatment as FHIR: the resource it becomes and its code (SNOMED CT for",
        "  # procedures, therapies and referrals; WHO ATC classes for medicines).",
        "  treatments:",
        *[f"    {t}: {{resource: {r}, system: '{s}', code: '{c}', display: '{d}'}}"
          for t, (r, s, c, d) in TREATMENT_CODES.items()],
        "  # Public holidays of this country (ISO 3166 code, python-holidays) get holiday_weight.",
        "  country: US",
        "  visit_window:",
        "    start: '2024-01-01'",
        "    end: '2024-12-31'",
        "    # A visit's month comes from the visit_month CPD; its day within that month is drawn",
        "    # with these weights. Monday..Sunday (judgement: fewer visits at weekends, few on",
        "    # Sunday); a public holiday's weekday weight is multiplied by holiday_weight",
        "    # (judgement: most offices close, a few walk-in clinics open).",
        "    weekday_weights: [1.0, 1.0, 1.0, 1.0, 1.0, 0.4, 0.05]",
        "    holiday_weight: 0.05",
        "  # The public holidays themselves, resolved once from python-holidays for the whole",
        "  # calendar (first visit day to last possible follow-up) and saved here, so that a",
        "  # model file plus a seed fixes every visit date whatever holidays version is installed.",
        "  holidays:",
        "    country: US",
        f"    first: '{CALENDAR[0]}'",
        f"    last: '{CALENDAR[1]}'",
        "    dates: [" + ", ".join(f"'{d}'" for d in HOLIDAYS) + "]",
        "  # Days from a visit to its follow-up, by category; the day in that range is drawn",
        "  # with the weekday and holiday weights (judgement, placed in NAMCS's return-visit",
        "  # dispositions: viral within about a week (under 1 week / 1 week-2 months), surgical,",
        "  # bacterial, injury and other 1 week-2 months, chronic 1-3 months (1 week-2 months",
        "  # and 2 months or more), preventive 6-12 months (2 months or more).",
        "  follow_up_days:",
        "    chronic: [30, 90]",
        "    surgical: [7, 14]",
        "    viral: [3, 10]",
        "    bacterial: [7, 14]",
        "    injury: [7, 21]",
        "    preventive: [180, 365]",
        "    other: [14, 42]",
        "",
        *targets_note,
        "# Equality statements (share, rate, even) hold when the records' confidence interval",
        "# lies inside value +- margin; difference and trend state a minimum.",
        "targets:",
        f"  - {{share: gender, values: {flow(gender)}, margin: 0.02}}",
        f"  - {{rate: {{follow_up: 'True'}}, value: "
        f"{FOLLOW_UP_TARGET if name == 'default' else round(float(rate), 2)!r}, margin: 0.02}}",
        "  - {difference: {follow_up: 'True'}, at_least: 0.15,",
        "     where: {diagnosis_category: [chronic, surgical, viral]}}",
        "  - {trend: {follow_up: 'True'}, over: age_group, direction: rising,",
        "     where: {diagnosis_category: [chronic]}}",
        *(["  - {even: age, range: [0, 89], margin: 0.02}"] if name == "default" else
          ["  # no `even` statement: ages follow NAMCS, checked against the age_group CPD"]),
        "",
        "nodes:",
        "  gender:",
        "    states: [male, female, other]",
        "    parents: []",
        f"    cpd: {flow(gender)}  # {gender_note}",
        "  age_group:",
        f"    states: [{', '.join(repr(b) for b in BANDS)}]",
        "    parents: []",
        f"    # {age_note}",
        "    cpd: " + flow(age),
        "  diagnosis:",
        f"    states: [{', '.join(DIAGNOSES)}]",
        "    parents: [gender, age_group]",
        "    # Category shares by age band: NAMCS 2019 reason for visit; within chronic:",
        "    # NHANES/NHIS prevalence gradients; sex factors and the new-problem split: judgement.",
        "    cpd:",
        *(f"      - {{given: {{gender: {g}, age_group: '{band}'}}, "
          f"p: {flow(dict(zip(DIAGNOSES, col, strict=True)))}}}"
          for (g, band), col in dx.items()),
        "  treatment:",
        f"    states: [{', '.join(TREATMENTS)}]",
        "    parents: [age_group, diagnosis]",
        "    # Judgement: each diagnosis's usual treatments; none that make no sense (no",
        "    # antibiotics at a check-up, no cardiology referral under 25).",
        "    cpd:",
        *(f"      - {{given: {{age_group: '{band}', diagnosis: {d}}}, "
          f"p: {flow(dict(zip(TREATMENTS, col, strict=True)))}}}"
          for (band, d), col in tx.items()),
        "  follow_up:",
        "    states: ['True', 'False']",
        "    parents: [age_group, diagnosis]",
        "    # Judgement (chronic, surgical and viral above the rest, chronic rising with age),",
        "    # fitted by clinicsim (model.fit_targets: the least change) so that the default",
        "    # model's exact P(follow_up) is 0.30.",
        "    cpd:",
        *(f"      - {{given: {{age_group: '{band}', diagnosis: {d}}}, "
          f"p: {{'True': {fu[d, band][0]!r}, 'False': {fu[d, band][1]!r}}}}}"
          for band in BANDS for d in DIAGNOSES),
        "  visit_month:",
        f"    states: [{', '.join(MONTHS)}]",
        "    parents: [diagnosis]",
        "    # Seasonality. Viral: CDC ILINet 2010-19 % of visits that are ILI, times the days",
        "    # in the month (January = 4.6 x July); others: days in the month (judgement).",
        "    cpd:",
        *(f"      - {{given: {{diagnosis: {d}}}, p: {flow(dict(zip(MONTHS, col, strict=True)))}}}"
          for d, col in months.items()),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the default model and the preset.")
    parser.add_argument("folder", nargs="?", type=Path, default=DATA,
                        help=f"where to write the YAML files (default: {DATA})")
    folder = parser.parse_args(argv).folder
    dx = diagnosis_table()
    tx = treatment_table()
    months = month_table()
    fu = fitted_follow_up_table(dx, tx, months)
    rest = 1 - OTHER_SHARE
    namcs_gender = {"male": round(rest * NAMCS_SEX["male"] / 100, 6),
                    "female": round(rest * NAMCS_SEX["female"] / 100, 6), "other": OTHER_SHARE}
    namcs_age = dict(zip(BANDS, normalise(NAMCS_PRIMARY_CARE_AGE), strict=True))
    for name, file, gender, age in [("default", "default.yaml", BRIEF_GENDER, BRIEF_AGE),
                                    ("us-office-visits", "us_office_visits.yaml",
                                     namcs_gender, namcs_age)]:
        lines = render(name, gender, age, dx, tx, fu, months)
        text = "\n".join(lines) + "\n"
        (folder / file).write_text(text, encoding="utf-8", newline="\n")
        # The same data as JSON, which load_model reads for the preset: json.loads takes
        # about 2 ms where PyYAML takes 40 ms or more, on every start of the command.
        data = json.dumps(yaml.safe_load(text), ensure_ascii=False, separators=(",", ":"))
        (folder / file).with_suffix(".json").write_text(data + "\n", encoding="utf-8",
                                                        newline="\n")
        rate = exact_follow_up_rate(fu, dx, gender, age)
        print(f"wrote {folder / file} and its JSON twin; exact P(follow_up) = {rate:.5f}")


if __name__ == "__main__":
    main()
