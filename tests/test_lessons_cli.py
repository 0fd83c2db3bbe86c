"""``paxos-edu lessons [DIR]``: the lessons copied out, a student's changes never lost.

A copy holds every notebook and the images the lessons show; copying again adds what
is missing, refreshes what the student left as it was, keeps what they changed (unless
``--force``) and says so in one sentence; a bad DIR is one line and exit status 2.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from paxos_edu import lessons
from paxos_edu.cli import main

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
LESSON = "02_paxos_phase_by_phase.ipynb"


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A stand-in for the lessons an installed package holds, to change between copies."""
    src = tmp_path / "package-lessons"
    shutil.copytree(NOTEBOOKS, src, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    monkeypatch.setattr(lessons, "source", lambda: src)
    return src


def test_in_a_checkout_the_lessons_are_the_notebooks_folder():
    assert lessons.source().resolve() == NOTEBOOKS.resolve()
    assert "img/dashboard.png" in lessons.lesson_files(lessons.source())


def test_lessons_copies_every_notebook_and_image_into_an_empty_folder(tmp_path, capsys):
    dest = tmp_path / "class" / "mine"  # the parents are created too
    code, out, err = run_cli(capsys, "lessons", str(dest))
    assert code == 0 and err == ""
    wanted = sorted([p.name for p in NOTEBOOKS.glob("*.ipynb")]
                    + [f"img/{p.name}" for p in (NOTEBOOKS / "img").iterdir()])
    assert "img/dashboard.png" in wanted and "00_start_here.ipynb" in wanted
    for name in wanted:
        assert (dest / name).read_bytes() == (NOTEBOOKS / name).read_bytes(), name
    assert f"Lessons in {dest}: {len(wanted)} files copied." in out.splitlines()[0]


def test_lessons_defaults_to_paxos_lessons_in_the_current_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli(capsys, "lessons")
    assert code == 0 and (tmp_path / "paxos-lessons" / "00_start_here.ipynb").is_file()
    assert "paxos-edu lab paxos-lessons" in out


def test_a_changed_lesson_is_kept_and_named_in_one_sentence(tmp_path, capsys, package):
    dest = tmp_path / "mine"
    run_cli(capsys, "lessons", str(dest))
    mine = dest / LESSON
    mine.write_text(mine.read_text(encoding="utf-8").replace("Paxos", "PAXOS (my notes)", 1),
                    encoding="utf-8")
    edited = mine.read_bytes()
    (package / LESSON).write_bytes((package / LESSON).read_bytes() + b"\n")  # a newer package
    code, out, _ = run_cli(capsys, "lessons", str(dest))
    assert code == 0 and mine.read_bytes() == edited
    first = out.splitlines()[0]
    assert first.endswith(f"; kept 1 you changed ({LESSON}), which --force would overwrite.")


def test_force_overwrites_a_changed_lesson(tmp_path, capsys, package):
    dest = tmp_path / "mine"
    run_cli(capsys, "lessons", str(dest))
    (dest / LESSON).write_text("my own notebook", encoding="utf-8")
    code, out, _ = run_cli(capsys, "lessons", str(dest), "--force")
    assert code == 0 and (dest / LESSON).read_bytes() == (package / LESSON).read_bytes()
    assert "1 file overwritten (--force)" in out and "kept" not in out


def test_lessons_left_as_copied_are_refreshed_from_a_newer_package(tmp_path, capsys, package):
    dest = tmp_path / "mine"
    run_cli(capsys, "lessons", str(dest))
    newer = (package / LESSON).read_bytes().replace(b"Paxos", b"Paxos (v2)", 1)
    (package / LESSON).write_bytes(newer)
    (package / "09_new_lesson.ipynb").write_bytes((package / "07_exercises.ipynb").read_bytes())
    code, out, _ = run_cli(capsys, "lessons", str(dest))
    assert code == 0 and (dest / LESSON).read_bytes() == newer
    assert (dest / "09_new_lesson.ipynb").is_file()
    assert "1 file copied, 1 file refreshed" in out and "kept" not in out


def test_a_file_the_copy_has_no_record_of_counts_as_changed(tmp_path, capsys):
    dest = tmp_path / "mine"
    dest.mkdir()
    (dest / LESSON).write_text("a student's own file of that name", encoding="utf-8")
    code, out, _ = run_cli(capsys, "lessons", str(dest))
    assert code == 0 and (dest / LESSON).read_text(encoding="utf-8").startswith("a student's")
    assert f"kept 1 you changed ({LESSON})" in out
    recorded = json.loads((dest / lessons.MANIFEST).read_text())["files"]
    assert LESSON not in recorded and "00_start_here.ipynb" in recorded


def test_copying_into_the_lessons_own_folder_changes_nothing(capsys):
    before = {p: p.stat().st_mtime_ns for p in NOTEBOOKS.rglob("*")}
    code, out, _ = run_cli(capsys, "lessons", str(NOTEBOOKS))
    assert code == 0 and "where the lessons come from; nothing to copy" in out
    assert not (NOTEBOOKS / lessons.MANIFEST).exists()
    assert {p: p.stat().st_mtime_ns for p in NOTEBOOKS.rglob("*")} == before


@pytest.mark.parametrize("bad, says", [
    ("file", "is a file, not a folder for the lessons"),
    ("", "the lessons folder name is empty"),
    ("under-a-file", "cannot copy the lessons into"),
    ("folder-in-the-way", "is a folder where a lesson file belongs"),
])
def test_a_bad_dir_exits_2_with_one_sentence(tmp_path, bad, says):
    (tmp_path / "file").write_text("not a folder")
    (tmp_path / "folder-in-the-way" / LESSON).mkdir(parents=True)
    arg = {"file": "file", "": "", "under-a-file": "file/lessons",
           "folder-in-the-way": "folder-in-the-way"}[bad]
    out = subprocess.run([sys.executable, "-m", "paxos_edu", "lessons", arg], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.startswith("paxos-edu: error: ") and says in out.stderr
    assert len(out.stderr.splitlines()) == 1 and "Traceback" not in out.stderr
    assert not (tmp_path / "00_start_here.ipynb").exists()  # nothing copied beside it


@pytest.mark.parametrize("command", ["lab", "classroom"])
@pytest.mark.parametrize("port", ["0", "65536", "80x", "١٢"])
def test_a_bad_port_exits_2_before_anything_is_copied(tmp_path, capsys, command, port):
    code, _, err = run_cli(capsys, command, str(tmp_path / "mine"), "--port", port)
    assert code == 2 and "is not a port number from 1 to 65535" in err
    assert len(err.splitlines()) == 1 and not (tmp_path / "mine").exists()


def test_the_installed_command_finds_the_lessons_from_any_folder(tmp_path):
    # This environment's install (pip install -e ., as make does): the console script,
    # run outside the checkout, finds the lessons through the package, not the cwd.
    script = Path(sys.executable).with_name("paxos-edu")
    out = subprocess.run([str(script), "lessons", "here"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    for name in ("06_classroom_dashboard.ipynb", "img/dashboard.png"):
        assert (tmp_path / "here" / name).read_bytes() == (NOTEBOOKS / name).read_bytes()


def test_a_damaged_record_keeps_every_lesson_that_differs(tmp_path, capsys, package):
    dest = tmp_path / "mine"
    run_cli(capsys, "lessons", str(dest))
    before = (dest / LESSON).read_bytes()
    (dest / lessons.MANIFEST).write_text("{torn")
    (package / LESSON).write_bytes(before + b"\n")  # a newer package
    code, out, _ = run_cli(capsys, "lessons", str(dest))
    assert code == 0 and (dest / LESSON).read_bytes() == before  # unsure: the student's wins
    assert f"kept 1 you changed ({LESSON})" in out
    assert "00_start_here.ipynb" in json.loads((dest / lessons.MANIFEST).read_text())["files"]
