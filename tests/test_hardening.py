"""Issue 15: presets are never shadowed by the working directory; arguments of the wrong
type are an ArgumentError naming the argument, never an internal error."""

from __future__ import annotations

import subprocess
import sys

import pytest

import clinicsim
from clinicsim import fhir
from clinicsim._errors import ArgumentError
from clinicsim.model import PRESETS, load_model
from clinicsim.model._files import save_model
from clinicsim.simulate import write_sample


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_presets_are_not_shadowed_by_the_working_directory(tmp_path, monkeypatch, kind):
    for name in PRESETS:
        (tmp_path / name).mkdir() if kind == "folder" else (tmp_path / name).write_text("x")
    monkeypatch.chdir(tmp_path)
    assert load_model("us-office-visits").name == "us-office-visits"
    assert clinicsim.default_model().nodes == load_model("default").nodes
    assert clinicsim.sample(3, seed=1, model="default").equals(clinicsim.sample(3, seed=1))
    for argv in (["sample", "-n", "2"], ["sample", "-n", "2", "--model", "us-office-visits"],
                 ["model", "validate", "default"]):
        done = subprocess.run([sys.executable, "-m", "clinicsim", *argv],
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        assert len(done.stdout.splitlines()) == (1 if argv[0] == "model" else 3)


def test_a_model_argument_may_be_a_preset_or_a_path(tmp_path):
    path = tmp_path / "m.yaml"
    save_model(clinicsim.default_model(), path)
    expected = clinicsim.sample(5, seed=2)
    assert clinicsim.sample(5, seed=2, model=path).equals(expected)
    assert clinicsim.sample(5, seed=2, model=str(path)).equals(expected)


@pytest.mark.parametrize(("call", "name"), [
    (lambda tmp: clinicsim.sample(3, model=5), "model"),
    (lambda tmp: clinicsim.sample(3, model=["default"]), "model"),
    (lambda tmp: write_sample(tmp / "r.csv", 10, scheduler=5), "scheduler"),
    (lambda tmp: write_sample(123, 10), "output"),
    (lambda tmp: write_sample("r\x00.csv", 10), "output"),
    (lambda tmp: load_model("a\x00b.yaml"), "source"),
    (lambda tmp: save_model(clinicsim.default_model(), "a\x00b.yaml"), "path"),
    (lambda tmp: fhir.write(clinicsim.sample(3, seed=1), tmp / "out"), "path"),  # swapped
    (lambda tmp: fhir.read_records(5), "folder"),
])
def test_wrong_argument_types_are_argument_errors(tmp_path, call, name):
    with pytest.raises(ArgumentError, match=f"`{name}` must be"):
        call(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_report_path_with_a_nul_byte_is_an_argument_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    report = clinicsim.conformance_report(clinicsim.sample(50, seed=1))
    with pytest.raises(ArgumentError, match=r"report must be a path .*; got 'a\\x00.md'"):
        report.save("a\x00.md")
    assert list(tmp_path.iterdir()) == []
