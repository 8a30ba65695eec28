"""Docstring examples (``pytest --doctest-modules`` over src/clinicsim) that write files
write them in a fresh folder, never in the working tree."""

import pytest


@pytest.fixture(autouse=True)
def _doctest_in_a_fresh_folder(request, tmp_path, monkeypatch):
    if isinstance(request.node, pytest.DoctestItem):
        monkeypatch.chdir(tmp_path)
