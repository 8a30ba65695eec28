"""examples/quickstart.ipynb runs from top to bottom (so it never rots) and is stored clean."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "quickstart.ipynb"


def test_notebook_is_stored_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


def test_quickstart_notebook_runs(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # Runs in tmp_path so that anything the notebook writes stays out of the repository.
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, with the cell and traceback, on failure
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # e.g. tqdm's "IProgress not found" TqdmWarning, which importing pgmpy gave
    assert not [o.text for o in outputs if o.output_type == "stream" and "Warning" in o.text]
    assert any("image/png" in o.get("data", {}) for o in outputs)
