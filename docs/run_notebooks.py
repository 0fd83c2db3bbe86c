"""Re-run lessons in fresh kernels and store their outputs cleanly, for nbval to compare.

``python docs/run_notebooks.py [notebooks/NN_name.ipynb ...]`` (default: every lesson)
executes each notebook in place with nbconvert, without widget state, then drops the
per-cell execution timestamps nbconvert records: they change on every run and would
make every re-run a diff of nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(path: Path) -> None:
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                    "--inplace", "--ExecutePreprocessor.store_widget_state=False", str(path)],
                   check=True)
    strip_timestamps(path)


def strip_timestamps(path: Path) -> None:
    """Remove each cell's ``metadata.execution`` (when the kernel ran it)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        cell.get("metadata", {}).pop("execution", None)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    for path in paths:
        print(f"running {path.name}", flush=True)
        run(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
