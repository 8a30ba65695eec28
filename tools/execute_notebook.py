"""Execute ``examples/quickstart.ipynb`` in place, so that it is stored with its outputs.

Run from the repository root after changing the notebook or what it shows:
``python tools/execute_notebook.py``. The notebook runs in a temporary directory (what it
writes stays out of the repository), without timing metadata, so that a re-run changes
only the outputs that changed. ``tests/test_notebook.py`` executes it again and checks what
is stored.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "quickstart.ipynb"


def execute(path: Path, workdir: str) -> nbformat.NotebookNode:
    """The notebook at ``path``, executed in ``workdir`` (raises on a failing cell)."""
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": workdir}}).execute()
    return nb


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        notebook = execute(NOTEBOOK, tmp)
    nbformat.write(notebook, NOTEBOOK)
    print(f"{NOTEBOOK}: {NOTEBOOK.stat().st_size / 1e3:,.0f} kB with outputs")
