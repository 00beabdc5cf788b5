"""Every analysts' notebook runs end to end, small, in a kernel of this interpreter.

Parameters are injected the papermill way: a cell after the one tagged `parameters`
overrides them (`small = True`, the shared data folder, a scratch output folder). The
notebooks skip their real-data cells with a message when the data is absent.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
DATA = Path(os.environ.get("IDLEMARKET_DATA", ROOT.parent / "shared" / "data"))


def parameters_cell(nb: nbformat.NotebookNode) -> int:
    for index, cell in enumerate(nb.cells):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            return index
    raise AssertionError("no cell is tagged 'parameters'")


def inject(nb: nbformat.NotebookNode, values: dict[str, object]) -> None:
    source = "\n".join(f"{name} = {value!r}" for name, value in values.items())
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(parameters_cell(nb) + 1, cell)


@pytest.fixture
def this_interpreter_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A `python3` kernelspec running sys.executable, found before any other."""
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (idlemarket)",
                "language": "python",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    # The kernel imports ranking/ from this checkout even without an editable install.
    path = os.environ.get("PYTHONPATH", "")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(ROOT), path) if p))
    return "python3"


def test_there_are_notebooks_with_parameters() -> None:
    assert [path.name for path in NOTEBOOKS] == [
        "01_explore_events.ipynb",
        "02_tune_hot.ipynb",
        "03_ctr_position_bias.ipynb",
        "04_publish_config.ipynb",
    ]
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        first = nb.cells[0]
        assert "parameters" in first.metadata.get("tags", []), path.name
        assert "data_dir =" in first.source, path.name
        assert "small =" in first.source, path.name
        # Stored without outputs: results belong to a run, not to the repository.
        assert all(not cell.get("outputs") for cell in nb.cells if cell.cell_type == "code")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs(path: Path, tmp_path: Path, this_interpreter_kernel: str) -> None:
    nb = nbformat.read(path, as_version=4)
    output = tmp_path / "output"
    inject(nb, {"data_dir": str(DATA), "small": True, "output_dir": str(output)})
    nb.cells.append(nbformat.v4.new_code_cell('import sys\nprint("kernel:", sys.executable)'))
    NotebookClient(
        nb,
        kernel_name=this_interpreter_kernel,
        timeout=300,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    printed = "".join(out.get("text", "") for cell in nb.cells for out in cell.get("outputs", []))
    assert f"kernel: {sys.executable}" in printed
    if path.stem == "04_publish_config":
        params = json.loads((output / "ranking_config.json").read_text())
        assert params["half_life_hours"] > 0
        assert "not published: api_url is not set" in printed
    if path.stem == "02_tune_hot" and (DATA / "yoochoose-100k").is_dir():
        assert json.loads((output / "tuned_hot.json").read_text())["half_life_hours"] > 0
