"""Start-up: `import clinicsim` leaves pgmpy's heavy modules for later, and every pgmpy
import clinicsim makes later is quiet. Each check runs in a fresh interpreter, where the
first import of each module really happens."""

import subprocess
import sys

import pytest


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
