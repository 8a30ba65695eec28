"""Models with an extra node ``insurance`` (private / public / uninsured given the age band),
built from the default model's file data, for the tests of extra record columns."""

from __future__ import annotations

import copy
import itertools
from pathlib import Path

import clinicsim
from clinicsim.model import model_from_dict, model_to_dict

INSURANCE = ("private", "public", "uninsured")
# P(insurance | age_group): children and the old mostly public, adults mostly private.
BY_BAND = {
    "0_14": (0.50, 0.45, 0.05),
    "15_24": (0.60, 0.25, 0.15),
    "25_44": (0.65, 0.20, 0.15),
    "45_64": (0.70, 0.20, 0.10),
    "65_74": (0.20, 0.78, 0.02),
    "75_89": (0.15, 0.84, 0.01),
}
# follow-up odds by insurance in the second model: the uninsured come back less often
FOLLOW_UP_FACTOR = {"private": 1.05, "public": 1.05, "uninsured": 0.55}


def _data(name: str) -> dict:
    data = copy.deepcopy(model_to_dict(clinicsim.default_model()))
    data["name"] = name
    data["nodes"]["insurance"] = {
        "states": list(INSURANCE), "parents": ["age_group"],
        "cpd": [{"given": {"age_group": band}, "p": dict(zip(INSURANCE, p, strict=True))}
                for band, p in BY_BAND.items()]}
    return data


def _with_share_target(data: dict) -> clinicsim.ClinicModel:
    """The model of ``data``, with a ``share insurance`` target at its exact shares."""
    exact = model_from_dict(data).marginal("insurance")
    values = {s: round(float(exact[s]), 6) for s in INSURANCE[:-1]}
    values[INSURANCE[-1]] = round(1.0 - sum(values.values()), 6)
    data["targets"].append({"share": "insurance", "values": values, "margin": 0.02})
    return model_from_dict(data)


def insurance_model() -> clinicsim.ClinicModel:
    """The default model and ``insurance | age_group`` (no children), with a share target."""
    return _with_share_target(_data("insurance"))


def insurance_follow_up_model() -> clinicsim.ClinicModel:
    """As :func:`insurance_model`, with ``insurance`` also a parent of ``follow_up``."""
    data = _data("insurance-follow-up")
    node = data["nodes"]["follow_up"]
    columns = []
    for entry, state in itertools.product(node["cpd"], INSURANCE):
        p = min(1.0, entry["p"]["True"] * FOLLOW_UP_FACTOR[state])
        columns.append({"given": entry["given"] | {"insurance": state},
                        "p": {"True": p, "False": 1.0 - p}})
    data["nodes"]["follow_up"] = {"states": node["states"],
                                  "parents": [*node["parents"], "insurance"], "cpd": columns}
    return _with_share_target(data)


def skewed_insurance(model: clinicsim.ClinicModel, shift: float) -> clinicsim.ClinicModel:
    """``model`` with ``shift`` of every band's probability moved from private to public."""
    data = model_to_dict(model)
    for entry in data["nodes"]["insurance"]["cpd"]:
        moved = min(shift, entry["p"]["private"])
        entry["p"]["private"] -= moved
        entry["p"]["public"] += moved
    data["name"] = f"{model.name} skewed"
    return model_from_dict(data, evaluate=False)


def save(model: clinicsim.ClinicModel, folder: Path) -> Path:
    """``model`` as a YAML file in ``folder``."""
    path = folder / f"{model.name}.yaml"
    model.save(path)
    return path
