"""The report against the columns it is given: nodes absent from the records are summed out
of their children's checks, and a stated target whose column is absent fails.

A model node may have no column (a table written before the node was added, or with it
dropped). Its children are still checked, against P(child | the parents that are
present): the joint of the child and those parents by the model's own variable
elimination (what :meth:`clinicsim.ClinicModel.query` computes), each column normalised.
That is exactly the distribution of the child's column given the present parents'
columns in a sample of the model, so the checks keep their calibration.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence

import numpy as np

from ..model import ClinicModel, Even, Statement, Trend, factors, joint, node_of
from ._model_info import ModelInfo
from ._records import Coded
from ._result import CheckResult

__all__ = ["absent_target_columns", "summed_out"]


def summed_out(info: ModelInfo, model: ClinicModel, present: Collection[str]
               ) -> tuple[ModelInfo, list[str]]:
    """``info`` with each present node whose parents are not all ``present`` given the
    parents that are, and P(node | those parents) as its table; and a note per change."""
    parents, tables = dict(info.parents), dict(info.tables)
    notes = []
    net = None
    for node in info.nodes:
        absent = [p for p in info.parents[node] if p not in present]
        if node not in present or not absent:
            continue
        net = net or factors(model)
        kept = tuple(p for p in info.parents[node] if p in present)
        table = joint(net, [node, *kept], {})
        column = table.sum(axis=0, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            table = np.where(column > 0, table / np.where(column > 0, column, 1), 0.0)
        parents[node] = kept
        tables[node] = table.reshape(len(info.states[node]), -1)
        given = f"P({node} | {', '.join(kept)})" if kept else f"the marginal of {node}"
        notes.append(f"{', '.join(absent)} not in the records: the CPD of {node!r} is checked "
                     f"as {given}, with {', '.join(absent)} summed out exactly by the "
                     "model's inference.")
    if not notes:
        return info, []
    return dataclasses.replace(info, parents=parents, tables=tables), notes


def absent_target_columns(coded: Coded, statements: Sequence[Statement]) -> list[CheckResult]:
    """One failed ``records: <column>`` check per column that one of ``statements`` (the
    stated targets that apply to the records) needs and the records lack (the target
    itself reads "not tested"): a target about a column that is not there is never
    passed."""
    needs: dict[str, list[str]] = {}
    for s in statements:
        if isinstance(s, Even):
            continue  # about age, a required column
        columns = [node_of(s.node), *(node_of(c) for c, _ in s.where)]
        if isinstance(s, Trend):
            columns.append(s.over)
        for column in dict.fromkeys(columns):
            if column not in coded.codes:
                needs.setdefault(column, []).append(f"'{s}'")
    return [CheckResult(
        f"records: {column}", "validity", float(coded.n_rows), None, 1.0, None, False,
        f"the column {column!r} is not in the records, and the stated target(s) "
        f"{', '.join(statements)} need it: add the column, or state no target about it",
        kind="records", node=column, rows=coded.n_rows)
        for column, statements in needs.items()]
