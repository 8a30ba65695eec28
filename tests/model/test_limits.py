"""Model files under 4 MiB are judged in bounded work: explicit limits, linear checks.

Each case took minutes or gigabytes before (issue 15, item 1); the timings are only a
guard against a quadratic check coming back (bounds far above the ~1 s they take now).
"""

from __future__ import annotations

import json
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinicsim._errors import ModelError
from clinicsim.model import default_model, load_model
from clinicsim.model._limits import MAX_DEPTH
from clinicsim.model._schema import model_from_dict, model_to_dict


def _refused(path, *words):
    """Refused naming ``words``, after no more than a few seconds of CPU: the classes it
    guards took minutes, the refusals 0.7 s at most (CPU time, not wall clock: a machine
    busy with other work makes the wall clock slow, not the check)."""
    start = time.process_time()
    with pytest.raises(ModelError) as info:
        load_model(path)
    assert time.process_time() - start < 5
    for word in words:
        assert word in str(info.value)
    assert len(str(info.value)) < 2000  # never the expanded data


def _base():
    return model_to_dict(default_model())


def test_yaml_alias_bomb_is_refused_by_count(tmp_path):
    lines = ["schema_version: 1", "a: &a [x, x, x, x, x, x, x, x, x]"]
    lines += [f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]"
              for a, b in zip("abcdefghi", "bcdefghij", strict=True)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join([*lines, "nodes: {x: 1}"]) + "\n")
    assert path.stat().st_size < 500
    _refused(path, "MAX_ITEMS")


def test_parent_combinations_are_counted_before_listed(tmp_path):
    data = _base()
    for i in range(5):
        data["nodes"][f"p{i}"] = {"states": [str(j) for j in range(100)], "parents": [],
                                  "cpd": {str(j): 0.01 for j in range(100)}}
    data["nodes"]["big"] = {"states": ["a", "b"], "parents": [f"p{i}" for i in range(5)],
                            "cpd": []}
    path = tmp_path / "m.json"
    path.write_text(json.dumps(data))
    _refused(path, "node 'big'", "MAX_CPD_CELLS")


def test_many_json_keys_are_checked_for_duplicates_linearly(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text("{" + ",".join(f'"k{i}": 1' for i in range(300_000)) + ',"k7": 2}')
    _refused(path, "duplicate key 'k7'")


def test_many_nodes_are_refused_by_count(tmp_path):
    data = _base()
    for i in range(55_000):
        data["nodes"][f"r{i}"] = {"states": ["a"], "parents": [], "cpd": {"a": 1.0}}
    path = tmp_path / "m.json"
    path.write_text(json.dumps(data))
    _refused(path, "55,006 nodes", "MAX_NODES")


def test_many_states_are_refused_by_count(tmp_path):
    data = _base()
    data["nodes"]["wide"] = {"states": [f"s{i}" for i in range(50_000)], "parents": [],
                             "cpd": {}}
    path = tmp_path / "m.json"
    path.write_text(json.dumps(data))
    _refused(path, "50,000 states", "MAX_STATES")


def test_deep_json_is_refused_without_recursion_error(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    _refused(path, "MAX_DEPTH")


@given(depth=st.integers(MAX_DEPTH + 1, 3000), where=st.sampled_from(["metadata", "targets"]))
@settings(max_examples=10, deadline=None)
def test_deep_metadata_is_refused_at_the_limit(depth, where):
    data = _base()
    inner: dict = {}
    (data[where] if where == "metadata" else data[where][0])["extra"] = inner
    for _ in range(depth):
        inner["a"] = {}
        inner = inner["a"]
    with pytest.raises(ModelError, match="MAX_DEPTH"):
        model_from_dict(data)


def test_a_model_within_the_limits_still_loads():
    data = _base()
    assert model_from_dict(data).nodes == default_model().nodes


@pytest.mark.parametrize("name", ["age", "visit_date", "patient_id", "follow_up_date"])
def test_a_node_named_like_a_records_column_is_refused_when_loaded(tmp_path, name):
    # it used to validate, then `sample --report` failed with 'no usable rows'
    data = _base()
    data["nodes"][name] = {"states": ["a", "b"], "parents": [], "cpd": {"a": 0.5, "b": 0.5}}
    path = tmp_path / "m.json"
    path.write_text(json.dumps(data))
    _refused(path, f"node {name!r}: the name is a records column")


@pytest.mark.parametrize(("window", "days", "message"), [
    (("9999-01-01", "9999-12-31"), None, "after 9999-12-31 (the last date clinicsim can write)"),
    (None, 10**9, "a follow-up may come 1,000,000,000 days later, after 9999-12-31"),
    (None, 10**6, "spans 1,000,366 days; the limit is MAX_CALENDAR_DAYS = 36,525"),
    (("1000-01-01", "9000-12-31"), None, "the limit is MAX_CALENDAR_DAYS"),
])
def test_a_calendar_past_the_limits_is_a_model_error(window, days, message):
    # they were OverflowError tracebacks (a date past 9999, a timedelta of 10**9 days)
    data = _base()
    meta = data["metadata"]
    meta.pop("holidays")
    if window:
        meta["visit_window"].update(start=window[0], end=window[1])
    if days:
        meta["follow_up_days"]["chronic"] = [1, days]
    with pytest.raises(ModelError, match=re.escape(message)):
        model_from_dict(data)


def test_a_century_of_calendar_is_accepted():
    data = _base()
    meta = data["metadata"]
    meta.pop("holidays")
    meta["visit_window"].update(start="1925-01-01", end="2023-12-31")  # + 365 follow-up days
    model = model_from_dict(data)
    assert model.meta.window.holidays[0].year == 1925 and model.meta.holidays[-1].year == 2024
