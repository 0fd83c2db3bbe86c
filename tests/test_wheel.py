"""The wheel carries the lessons: built, installed in a fresh virtual environment, run.

``pytest -m wheel`` selects it (it is part of ``make test``). The wheel is built from a
copy of the source tree (so no ``build/`` left over from an earlier build can slip files
in), installed without dependencies into a new virtual environment, which borrows this
environment's installed dependencies through a ``.pth`` file (a plain path there, so this
environment's own editable paxos_edu stays out). ``paxos-edu lessons`` then copies the
lessons into an empty folder, and lessons 00 and 06 run there in a kernel of the new
environment: lesson 06 must find its image beside it.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.wheel

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ("00_start_here.ipynb", "06_classroom_dashboard.ipynb")
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__",
                                    ".ipynb_checkpoints", "test-artifacts", ".*_cache", ".hypothesis")


def _run(cmd, **kw) -> subprocess.CompletedProcess:
    out = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=300, **kw)
    assert out.returncode == 0, f"{cmd[:4]} exited {out.returncode}:\n{out.stdout}\n{out.stderr}"
    return out


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(the wheel, the new environment's python, its environment variables, the build's output)."""
    tmp = tmp_path_factory.mktemp("wheel")
    shutil.copytree(ROOT, tmp / "src", ignore=NOT_SOURCE)
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", tmp / "dist",
                  tmp / "src"])  # -v: the build backend's own output, warnings included
    (wheel,) = (tmp / "dist").glob("paxos_edu-*.whl")
    _run([sys.executable, "-m", "venv", "--without-pip", tmp / "venv"])
    python = tmp / "venv" / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--quiet",
          wheel])
    site = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    (Path(site.stdout.strip()) / "borrowed_dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "JUPYTER"))}
    env.update(JUPYTER_CONFIG_DIR=str(tmp / "jupyter-config"),
               JUPYTER_DATA_DIR=str(tmp / "jupyter-data"),
               JUPYTER_RUNTIME_DIR=str(tmp / "jupyter-runtime"), IPYTHONDIR=str(tmp / "ipython"))
    return wheel, python, env, built.stdout + built.stderr


def test_the_wheel_builds_without_a_setuptools_warning(installed):
    warned = sorted(set(re.findall(r"\b\w+Warning\b.*", installed[3])))
    assert not warned, "\n".join(warned)


def test_the_wheel_holds_every_lesson_the_images_and_the_jupyter_settings(installed):
    wheel = installed[0]
    names = set(zipfile.ZipFile(wheel).namelist())
    for lesson in (ROOT / "notebooks").glob("*.ipynb"):
        assert f"paxos_edu/notebooks/{lesson.name}" in names
    assert "paxos_edu/notebooks/img/dashboard.png" in names
    assert "paxos_edu/jupyter-settings/overrides.json" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


def test_lessons_copied_from_the_wheel_run_in_a_fresh_environment(installed, tmp_path):
    python, env = installed[1:3]
    bin_dir = python.parent
    here = tmp_path / "class"
    here.mkdir()
    out = _run([bin_dir / "paxos-edu", "lessons"], cwd=here, env=env)
    lessons = here / "paxos-lessons"
    assert "files copied" in out.stdout and (lessons / "img" / "dashboard.png").is_file()
    # The kernel that runs the lessons imports paxos_edu from the wheel, not this checkout.
    probe = tmp_path / "probe" / "probe.ipynb"
    probe.parent.mkdir()
    probe.write_text(json.dumps({
        "cells": [{"cell_type": "code", "execution_count": None, "id": "p", "metadata": {},
                   "outputs": [], "source": "import paxos_edu; print(paxos_edu.__file__)"}],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5}))
    done = tmp_path / "done"
    _run([python, "-m", "nbconvert", "--to", "notebook", "--execute",
          "--output-dir", done, probe, *(lessons / name for name in LESSONS)], cwd=here, env=env)
    printed = json.loads((done / "probe.ipynb").read_text())["cells"][0]["outputs"][0]["text"]
    assert Path("".join(printed).strip()).is_relative_to(python.parent.parent)
    for name in LESSONS:
        cells = json.loads((done / name).read_text())["cells"]
        errors = [o for c in cells for o in c.get("outputs", []) if o["output_type"] == "error"]
        assert not errors, f"{name}: {errors[:1]}"
    shown = [o["data"]["image/png"] for c in json.loads((done / LESSONS[1]).read_text())["cells"]
             if "dashboard.png" in "".join(c["source"]) for o in c["outputs"]]
    png = base64.b64encode((lessons / "img" / "dashboard.png").read_bytes()).decode()
    assert [s.replace("\n", "") for s in shown] == [png]
