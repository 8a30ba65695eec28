"""Docstring examples (``pytest --doctest-modules`` over src/clinicsim) that write files
write them in a fresh folder, never in the working tree."""

import pytest


@pytest.fixture(autouse=True)
def _doctest_in_a_fresh_folder(request):
    # Only doctests get the folder: other tests ask for tmp_path themselves, and hypothesis
    # refuses function-scoped fixtures it has not been told about.
    if isinstance(request.node, pytest.DoctestItem):
        monkeypatch = request.getfixturevalue("monkeypatch")
        monkeypatch.chdir(request.getfixturevalue("tmp_path"))
