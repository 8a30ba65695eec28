"""No test can fail by chance: every run of the suite draws the same examples and the same
random numbers, and no test's outcome depends on how busy the machine is."""

import os
import re
import subprocess
import sys
from pathlib import Path

from hypothesis import settings

TESTS = Path(__file__).parent

# Code in a test that makes its outcome a matter of chance or of the machine's load: a
# generator or stream with no literal seed, global random state, the wall clock (a timing
# guard measures CPU time: time.process_time, resource.getrusage), today's date, or a
# hypothesis setting that brings back random examples or replays old ones.
CHANCE = {
    "unseeded generator": r"default_rng\(\s*\)|SeedSequence\(\s*\)",
    "global random state": r"np\.random\.(seed|rand|randn|randint|random|choice|shuffle|"
                           r"permutation|normal|uniform)\(|^import random$|^from random ",
    "wall clock": r"time\.(perf_counter|time|monotonic)\(\)\s*-|datetime\.now\(|date\.today\(",
    "random hypothesis": r"derandomize\s*=\s*False|database\s*=\s*(?!None)",
}


def test_no_test_leaves_its_outcome_to_chance():
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        if path.name == Path(__file__).name:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for what, pattern in CHANCE.items():
                if re.search(pattern, line.split("#")[0]):
                    found.append(f"{path.relative_to(TESTS)}:{number}: {what}: {line.strip()}")
    assert found == []


def test_hypothesis_draws_the_same_examples_on_every_run():
    """Without HYPOTHESIS_PROFILE (the README's plain `pytest`, and CI's) and with CI set."""
    if "HYPOTHESIS_PROFILE" not in os.environ:
        chosen = settings.default
        assert (chosen.derandomize, chosen.database, chosen.deadline) == (True, None, None)
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import conftest; "
            "from hypothesis import settings as s; d = s.default; "
            "print(d.derandomize, d.database, d.deadline)")
    env = {k: v for k, v in os.environ.items() if k != "HYPOTHESIS_PROFILE"}
    for ci in ({}, {"CI": "true"}):
        done = subprocess.run([sys.executable, "-c", code, str(TESTS)], env={**env, **ci},
                              capture_output=True, text=True, timeout=300, check=True)
        assert done.stdout.split() == ["True", "None", "None"], done.stderr
