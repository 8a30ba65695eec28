"""Every class of hostile input under the limits is refused (or accepted) in seconds.

Issue 15, item 1: each of these took minutes, gigabytes or a traceback. Each runs the
command line in a fresh process and bounds the CPU time it used, so a quadratic check or an
expansion that comes back fails here. CPU time, not the wall clock: on a shared machine
(two cores, several jobs) a process waits for a core as long as the others make it, which
says nothing about the work it does. Measured on such a machine (load 6 on 2 cores): each
case 0.6-2.4 s of CPU (0.6 s is the interpreter's start-up and imports), 1.2-6.6 s of wall
clock. The bound, 30 s of CPU, is 12 times the slowest case and well below the minutes
each class took before it was fixed.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys

import pytest

import clinicsim
from clinicsim.analysis._records import MAX_TEXT_BYTES
from clinicsim.model import model_to_dict
from clinicsim.model._files import MAX_FILE_BYTES

CPU_SECONDS = 30  # the bound on the work of one case (see above)
# Wall clock only so that a case that hangs cannot hang the suite: a process that gets a
# twentieth of a core for its 30 s of CPU still ends in time.
TIMEOUT = 20 * CPU_SECONDS


def _cpu_seconds() -> float:
    """User and system CPU time of the ended child processes of this one."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _model() -> dict:
    return model_to_dict(clinicsim.default_model())


def _alias_bomb(path):
    lines = ["schema_version: 1", "a: &a [x, x, x, x, x, x, x, x, x]"]
    lines += [f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]"
              for a, b in zip("abcdefghi", "bcdefghij", strict=True)]
    path.write_text("\n".join([*lines, "nodes: {x: 1}"]) + "\n")


def _parent_combinations(path):
    data = _model()
    for i in range(5):
        data["nodes"][f"p{i}"] = {"states": [str(j) for j in range(100)], "parents": [],
                                  "cpd": {str(j): 0.01 for j in range(100)}}
    data["nodes"]["big"] = {"states": ["a", "b"], "parents": [f"p{i}" for i in range(5)],
                            "cpd": []}
    path.write_text(json.dumps(data))


def _json_keys(path):
    path.write_text("{" + ",".join(f'"k{i}": 1' for i in range(300_000)) + ',"k7": 2}')


def _root_nodes(path):
    data = _model()
    data["nodes"].update({f"r{i}": {"states": ["a"], "parents": [], "cpd": {"a": 1.0}}
                          for i in range(55_000)})
    path.write_text(json.dumps(data))


def _deep_json(path):
    path.write_text("[" * 100_000 + "]" * 100_000)


def _deep_metadata(path):
    data = _model()
    inner = data["metadata"]["extra"] = {}
    for _ in range(900):
        inner["a"] = {}
        inner = inner["a"]
    path.write_text(json.dumps(data))


def _calendar(path):
    data = _model()
    data["metadata"].pop("holidays")
    data["metadata"]["follow_up_days"]["chronic"] = [1, 10**9]
    path.write_text(json.dumps(data))


def _csv_columns(path):
    path.write_text(",".join(["gender"] * 300_000) + "\n" + ",".join(["x"] * 300_000) + "\n")


def _jsonl_keys_on_one_line(path):
    path.write_text(json.dumps({f"k{i}": 1 for i in range(300_000)}) + "\n")


def _jsonl_a_key_a_line(path):
    path.write_text("".join(f'{{"k{i}": 1}}\n' for i in range(300_000)))


def _jsonl_cells(path):
    rows = clinicsim.sample(200_000, seed=1).astype({"gender": object})
    rows["gender"] = [[g] for g in rows["gender"]]  # every cell a list
    rows.assign(visit_date=rows.visit_date.dt.strftime("%Y-%m-%d")).to_json(
        path, orient="records", lines=True)


CASES = {
    "YAML alias bomb": ("bomb.yaml", _alias_bomb, "MAX_ITEMS"),
    "5 parents of 100 states": ("m.json", _parent_combinations, "MAX_CPD_CELLS"),
    "300,000 JSON keys": ("m.json", _json_keys, "duplicate key 'k7'"),
    "55,000 root nodes": ("m.json", _root_nodes, "MAX_NODES"),
    "JSON nested 100,000 deep": ("m.json", _deep_json, "MAX_DEPTH"),
    "metadata nested 900 deep": ("m.json", _deep_metadata, "MAX_DEPTH"),
    "a billion days of follow-up": ("m.json", _calendar, "after 9999-12-31"),
    "300,000 CSV columns of one name": ("r.csv", _csv_columns, "MAX_RECORDS_COLUMNS"),
    "300,000 JSON keys on one line": ("r.jsonl", _jsonl_keys_on_one_line, "MAX_RECORDS_COLUMNS"),
    "300,000 JSON Lines of one new key each": ("r.jsonl", _jsonl_a_key_a_line,
                                               "MAX_RECORDS_COLUMNS"),
    "200,000 JSON Lines cells that are lists": ("r.jsonl", _jsonl_cells,
                                                "200,000 rows not a plain value"),
}


@pytest.mark.parametrize("case", CASES)
def test_each_class_is_judged_in_seconds(tmp_path, case):
    name, make, message = CASES[case]
    path = tmp_path / name
    make(path)
    model = name.startswith(("m.", "bomb"))
    assert path.stat().st_size < (MAX_FILE_BYTES if model else MAX_TEXT_BYTES)
    argv = ["model", "validate", name] if model else ["report", name]
    before = _cpu_seconds()
    done = subprocess.run([sys.executable, "-m", "clinicsim", *argv], cwd=tmp_path,
                          capture_output=True, text=True, timeout=TIMEOUT, check=False)
    used = _cpu_seconds() - before
    assert used < CPU_SECONDS, f"{used:.1f} s of CPU"
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ") and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr) < 5000
