"""The project's own promises: two commands, dependencies in step, the wheel and Binder
set up as the README says, CI calls make test."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent


def _names(specs: list[str]) -> dict[str, str]:
    out = {}
    for spec in specs:
        m = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", spec.strip())
        out[m.group(1).lower().replace("_", "-")] = m.group(2).replace(" ", "")
    return out


def _environment() -> tuple[list[str], list[str]]:
    """environment.yml's conda dependencies and its pip lines."""
    conda, pip, section = [], [], None
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if re.match(r"^\w", line):
            section = line.split(":")[0]
        if section != "dependencies":
            continue
        if m := re.match(r"^\s{2}- ([^\s#][^#]*)$", line):
            conda.append(m.group(1).strip())
        elif m := re.match(r"^\s{6}- ([^#]*)$", line):
            pip.append(m.group(1).strip())
    return conda, pip


def test_environment_yml_lists_the_runtime_dependencies_of_pyproject():
    project = _pyproject()["project"]
    conda, pip = _environment()
    named = [c for c in conda if not c.startswith(("pip", "python"))]
    assert _names(named) == _names(project["dependencies"])  # no test-only packages
    assert "pip" in conda and pip == ["-e ."]  # then the package itself


def test_environment_yml_pins_a_python_version_repo2docker_reads():
    conda, _ = _environment()
    (python,) = [c for c in conda if c.startswith("python")]
    m = re.fullmatch(r"python=3\.(\d+)", python)
    assert m, f"{python!r}: Binder needs python=3.X"
    assert int(m.group(1)) >= 10  # within requires-python


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_license_is_an_spdx_string_with_its_file():
    data = _pyproject()
    assert data["project"]["license"] == "MIT"
    assert data["project"]["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    (setuptools,) = [r for r in data["build-system"]["requires"] if r.startswith("setuptools")]
    assert setuptools == "setuptools>=77"  # the first with PEP 639 license strings


def test_the_wheel_lists_every_package_and_maps_the_lessons_into_it():
    tool = _pyproject()["tool"]["setuptools"]
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "paxos_edu").rglob("__init__.py")}
    assert found <= set(tool["packages"]), f"add {sorted(found - set(tool['packages']))} to packages"
    assert tool["package-dir"] == {"paxos_edu.notebooks": "notebooks"}
    assert tool["package-data"]["paxos_edu.notebooks"] == ["*.ipynb"]
    images = {p.suffix for p in (ROOT / "notebooks" / "img").iterdir()}
    assert images == {".png"} and tool["package-data"]["paxos_edu.notebooks.img"] == ["*.png"]


def test_no_lesson_reads_a_file_outside_its_folder():
    for lesson in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(lesson.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"])
            assert "../" not in source and "docs/img" not in source, f"{lesson.name}: {source[:200]}"
            for path in re.findall(r"""["'](img/[^"']+)["']""", source):
                assert (lesson.parent / path).is_file(), f"{lesson.name} shows a missing {path}"


# -- Binder ---------------------------------------------------------------------------------
BINDER = re.compile(r"\]\((https://mybinder\.org/v2/gh/([^/]+/[^/]+)/HEAD\?urlpath=([^)]+))\)")


def test_readme_binder_links_open_the_lessons_and_the_classroom_of_this_repository():
    links = {urlpath: repo for _, repo, urlpath in BINDER.findall((ROOT / "README.md").read_text())}
    repository = _pyproject()["project"]["urls"]["Repository"]
    assert set(links.values()) == {repository.removeprefix("https://github.com/")}
    assert set(links) == {"lab/tree/notebooks/00_start_here.ipynb",
                          "voila/render/notebooks/classroom.ipynb"}
    for urlpath in links:
        assert (ROOT / urlpath.split("/", 2)[2]).is_file(), urlpath


def test_binder_postbuild_installs_the_jupyterlab_overrides(tmp_path):
    script = ROOT / "postBuild"
    assert os.access(script, os.X_OK) and not (ROOT / "binder").exists()  # binder/ hides root files
    env = {**os.environ, "JUPYTERLAB_DIR": str(tmp_path / "lab"),  # the app dir it must find
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run([str(script)], cwd=tmp_path, env=env, check=True, timeout=120)
    installed = json.loads((tmp_path / "lab" / "settings" / "overrides.json").read_text())
    notification = installed["@jupyterlab/apputils-extension:notification"]
    assert notification == {"fetchNews": "false", "checkForUpdates": False}
    assert installed == json.loads((ROOT / "paxos_edu/jupyter-settings/overrides.json").read_text())


def test_readme_starts_with_the_two_commands():
    lines = [ln for ln in (ROOT / "README.md").read_text().splitlines() if ln.strip()]
    code = [ln for ln in lines[:12] if ln.startswith(("make ", "    make "))]
    assert [c.strip() for c in code[:2]] == ["make demo", "make test"]


def test_ci_runs_make_test():
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_supported_python_is_310_or_newer():
    assert _pyproject()["project"]["requires-python"] == ">=3.10"
