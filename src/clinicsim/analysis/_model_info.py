"""What the report needs from a model, as plain arrays, computed once per model state.

Exact marginals cost milliseconds per node; calibration
runs build hundreds of reports on the same model, so the compiled form is cached under a
fingerprint of the model's content (CPD values, states, metadata, targets). Editing a CPD
changes the fingerprint, so a stale entry is never used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model import ClinicModel, Even, Targets, VisitWindow, cached_by_content

__all__ = ["ModelInfo", "model_info"]


@dataclass(frozen=True)
class ModelInfo:
    """A model compiled for the report.

    ``tables[node]`` has shape ``(len(states[node]), n_columns)``: column ``j`` is the
    distribution of ``node`` given the ``j``-th combination of ``parents[node]`` in C order
    (the last parent varies fastest), parents' states in their own node's order.
    """

    name: str
    nodes: tuple[str, ...]
    states: dict[str, list[str]]
    parents: dict[str, tuple[str, ...]]
    tables: dict[str, np.ndarray]
    marginals: dict[str, np.ndarray]
    bands: dict[str, tuple[int, int]]
    categories: dict[str, str]
    targets: Targets
    window: VisitWindow
    age_range: tuple[int, int]  # valid ages: an even-spread statement's, else the bands'
    diagnosis_codes: dict[str, str]  # diagnosis -> ICD-10-CM code (extended records)
    follow_up_days: dict[str, tuple[int, int]]  # category -> days from visit to follow-up

    def band_of(self, age: np.ndarray) -> np.ndarray:
        """Code of the age band holding each age (-1 when no band holds it)."""
        states = self.states["age_group"]
        lo = np.array([self.bands[s][0] for s in states])
        hi = np.array([self.bands[s][1] for s in states])
        order = np.argsort(lo)
        pos = np.searchsorted(lo[order], age, side="right") - 1
        code = order[np.clip(pos, 0, None)]
        return np.where((pos >= 0) & (age <= hi[code]), code, -1)

    def column_labels(self, node: str) -> list[str]:
        """``gender=male, age_group=0_14`` for each column of ``tables[node]``."""
        parents = self.parents[node]
        if not parents:
            return [""]
        grids = np.meshgrid(*[np.arange(len(self.states[p])) for p in parents], indexing="ij")
        combos = zip(*(g.ravel() for g in grids), strict=True)
        return [", ".join(f"{p}={self.states[p][i]}" for p, i in zip(parents, c, strict=True))
                for c in combos]


def _model_info(model: ClinicModel) -> ModelInfo:
    """The compiled form of ``model``."""
    states = {node: model.states(node) for node in model.nodes}
    parents = {node: model.parents(node) for node in model.nodes}
    tables = {node: model.table(node).matrix for node in model.nodes}
    return ModelInfo(
        name=model.name,
        nodes=model.nodes,
        states=states,
        parents=parents,
        tables=tables,
        marginals={node: model.marginal(node).to_numpy() for node in model.nodes},
        bands=model.age_bands,
        categories=model.diagnosis_categories,
        targets=model.targets,
        window=model.visit_window,
        age_range=_age_range(model),
        diagnosis_codes=model.diagnosis_codes,
        follow_up_days=model.follow_up_days,
    )


def _age_range(model: ClinicModel) -> tuple[int, int]:
    even = next((s for s in model.targets if isinstance(s, Even)), None)
    if even is not None:
        return even.low, even.high
    spans = model.age_bands.values()
    return min(lo for lo, _ in spans), max(hi for _, hi in spans)


model_info = cached_by_content(_model_info)
