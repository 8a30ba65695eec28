"""Start-up: `import clinicsim` and the numpy-engine paths leave the heavy libraries for
later, and every pgmpy import clinicsim makes later is quiet. Each check runs in a fresh
interpreter, where the first import of each module really happens."""

import json
import subprocess
import sys

import pytest

import clinicsim


def run(code: str) -> str:
    result = subprocess.run([sys.executable, "-W", "error", "-c", code],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_defers_pgmpy_inference_and_statsmodels():
    out = run("import sys, clinicsim; clinicsim.sample(10, seed=1); "
              "print(sorted(m for m in ('pgmpy.inference', 'pgmpy.sampling', 'statsmodels') "
              "if m in sys.modules))")
    assert out.strip() == "[]"


@pytest.mark.parametrize("code", [
    "clinicsim.default_model().marginal('gender')",
    "clinicsim.sample(10, seed=1, engine='pgmpy')",
    "import clinicsim.analysis._realism",
])
def test_later_pgmpy_imports_are_quiet(code):
    run(f"import clinicsim; {code}")  # -W error: any warning fails


# Loaded only on first use: the pgmpy engine, BIF/XMLBIF, model.network, --report.
HEAVY = ("pgmpy", "sklearn", "networkx", "statsmodels", "scipy", "matplotlib")
# The database drivers: only a database output or input loads its own (issue 24)
DRIVERS = ("duckdb", "psycopg")

_CLI = """
from clinicsim._cli import main
try:
    main({argv!r})
except SystemExit as exc:
    assert exc.code == 0, exc.code
"""
LIGHT = {
    "import clinicsim": "",
    "sample": "clinicsim.sample(100, seed=1)",
    "default_model": "clinicsim.default_model()",
    "cli model show": _CLI.format(argv=["model", "show"]),
    "cli model show NODE": _CLI.format(argv=["model", "show", "gender"]),
    "cli model export yaml": _CLI.format(argv=["model", "export", "-o", "out.yaml"]),
    "cli model export json": _CLI.format(argv=["model", "export", "-o", "out.json"]),
    "cli model validate yaml": _CLI.format(argv=["model", "validate", "m.yaml"]),
    "cli model validate json": _CLI.format(argv=["model", "validate", "m.json"]),
    "cli sample -o csv": _CLI.format(argv=["sample", "-n", "100", "--seed", "1", "-o", "x.csv"]),
    "cli sample -o sqlite": _CLI.format(argv=["sample", "-n", "100", "--seed", "1",
                                              "-o", "x.sqlite"]),
}


@pytest.mark.parametrize("case", LIGHT)
def test_numpy_paths_load_no_heavy_library(tmp_path, case):
    for suffix in (".yaml", ".json"):
        clinicsim.default_model().save(tmp_path / f"m{suffix}")
    code = (f"import sys, json, clinicsim\n{LIGHT[case]}\n"
            f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} "
            f"& {set(HEAVY + DRIVERS)!r})))")
    result = subprocess.run([sys.executable, "-W", "error", "-c", code], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == []


@pytest.mark.parametrize("case", ["import clinicsim", "sample", "cli sample -o csv"])
def test_presets_load_without_pyyaml(tmp_path, case):
    """A preset is read from its JSON twin: the main job does not pay for PyYAML."""
    code = f"import sys, clinicsim\n{LIGHT[case]}\nprint('yaml' in sys.modules)"
    result = subprocess.run([sys.executable, "-W", "error", "-c", code], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "False"
