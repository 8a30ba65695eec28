"""tools/build_default_model.py records how the shipped model files were made: running it
must give them back byte for byte, so an edit to either is noticed."""

import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[1] / "tools" / "build_default_model.py"
SHIPPED = ("default.json", "default.yaml", "us_office_visits.json", "us_office_visits.yaml")


def test_build_default_model_reproduces_the_shipped_files(tmp_path):
    result = subprocess.run([sys.executable, str(TOOL), str(tmp_path)], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(SHIPPED)
    data = resources.files("clinicsim.model").joinpath("data")
    for name in SHIPPED:
        built, shipped = (tmp_path / name).read_bytes(), data.joinpath(name).read_bytes()
        if built != shipped:
            lines = zip(built.splitlines(), shipped.splitlines(), strict=False)
            first = next((i for i, (a, b) in enumerate(lines, 1) if a != b), None)
            pytest.fail(f"{name} differs from the tool's output (first at line {first}; "
                        f"{len(built):,} bytes built, {len(shipped):,} shipped)")
