"""The pgmpy engine for cohorts: pgmpy's ``rejection_sample``, an independent check.

pgmpy takes one state per given node. Evidence that is a single state (a node, or an age
range inside one band) goes to pgmpy; the rest (lists of states, categories, an age
range across bands) is applied by accepting each of pgmpy's rows with probability
``weight(state) / max(weight)``, rejection again, until ``size`` rows are kept. pgmpy is
imported here on first use only.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .._pgmpy import quiet_import
from .._random import int_seed
from ..model import ClinicModel
from ..model._cohort import Cohort

__all__ = ["rejection_codes"]


def rejection_codes(model: ClinicModel, evidence: Cohort, size: int, seed: int,
                    dtypes: dict[str, pd.CategoricalDtype]) -> list[np.ndarray]:
    """``size`` rows of node codes (model node order) drawn from P(nodes | evidence)."""
    with quiet_import():
        from pgmpy import logger as pgmpy_logger
        from pgmpy.factors.discrete import State
        from pgmpy.sampling import BayesianModelSampling

    single, weighted = [], {}
    for node, weights in evidence.likelihoods.items():
        positive = np.flatnonzero(weights)
        if len(positive) == 1:
            single.append(State(node, model.states(node)[positive[0]]))
        else:
            weighted[node] = weights / weights.max()
    root = np.random.SeedSequence(seed)
    sampler = BayesianModelSampling(model.network)
    kept: list[pd.DataFrame] = []
    have = 0
    # As in Sampler._draw_pgmpy: pgmpy seeds numpy's global generator and logs rounding
    # notes at WARNING; both are put back after the call.
    saved, level = np.random.get_state(), pgmpy_logger.level
    pgmpy_logger.setLevel(logging.ERROR)
    try:
        while have < size:
            draw_seed, accept_seed = root.spawn(2)
            # include_latents=True: clinicsim's networks have none, and the other branch
            # calls DataFrame.drop(inplace=True), which pandas 3.1 deprecates (a warning).
            frame = sampler.rejection_sample(evidence=single, size=size, seed=int_seed(draw_seed),
                                             include_latents=True, show_progress=False)
            codes = {n: pd.Categorical(frame[n].astype(str), dtype=dtypes[n]).codes
                     for n in model.nodes}
            u = np.random.default_rng(accept_seed).random(len(frame))
            weight = np.ones(len(frame))
            for node, w in weighted.items():
                weight *= w[codes[node]]
            chosen = pd.DataFrame(codes)[u < weight]
            kept.append(chosen)
            have += len(chosen)
    finally:
        pgmpy_logger.setLevel(level)
        np.random.set_state(saved)
    rows = pd.concat(kept).iloc[:size]
    return [rows[n].to_numpy(np.int64) for n in model.nodes]
