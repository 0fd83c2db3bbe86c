"""The lessons as files a student owns: found in the package, copied out, opened.

``paxos-edu lessons [DIR]`` copies the lesson notebooks and the images they show into
DIR (default ``./paxos-lessons``). The copy is the student's: a file they changed (run
and saved counts) is kept unless ``--force``; a file still as it was copied is refreshed
from this version of the package; a new lesson is added. DIR/.paxos-lessons.json records
the SHA-256 of every file as it was copied, which is how a change is told apart from an
older version's copy (a file it has no record of counts as changed).

``paxos-edu lab [DIR]`` and ``paxos-edu classroom [DIR]`` do the same copy (which never
overwrites a change), then run JupyterLab on DIR, or Voilà on the classroom view
(``classroom.ipynb``) with its code hidden, as a child process on 127.0.0.1 until Ctrl-C.
JupyterLab gets the package's settings overrides (``jupyter-settings/overrides.json``:
no news or update pop-up) as its application settings folder, in place of the
environment's own ``share/jupyter/lab/settings``.

Where the lessons are: in an installed wheel, the package data ``paxos_edu/notebooks``
(the repository's ``notebooks/`` folder, mapped there by pyproject.toml); in a source
checkout (an editable install), that ``notebooks/`` folder itself.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

DEFAULT_DIR = "paxos-lessons"
MANIFEST = ".paxos-lessons.json"
CLASSROOM_LESSON = "classroom.ipynb"
"""The projector page: the dashboard first, code hidden (lesson 06 explains it)."""
STOP_SECONDS = 20  # a server stopping its kernels after SIGTERM, before SIGKILL


class LessonsError(ValueError):
    """Lessons that cannot be found or copied, worded as one sentence."""


def source() -> Path:
    """The folder holding the lessons that came with this installation."""
    packaged = resources.files("paxos_edu") / "notebooks"
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    # An editable install runs the package from the repository, where the lessons are
    # notebooks/ beside it (pyproject.toml maps that folder into the wheel).
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "notebooks").is_dir():
        return checkout / "notebooks"
    raise LessonsError("this installation of paxos-edu has no lessons; reinstall it with pip")


def settings_dir() -> Path:
    """JupyterLab's application settings folder for the lessons (its overrides.json)."""
    return Path(__file__).resolve().parent / "jupyter-settings"


def lesson_files(src: Path) -> list[str]:
    """The files a copy holds, as paths relative to ``src``: the notebooks and img/."""
    names = [p.name for p in src.glob("*.ipynb") if p.is_file()]
    img = src / "img"
    if img.is_dir():
        names += [f"img/{p.name}" for p in img.iterdir() if p.is_file() and not p.name.startswith(".")]
    if not any(n.endswith(".ipynb") for n in names):
        raise LessonsError(f"{src} holds no lessons; reinstall paxos-edu with pip")
    return sorted(names)


@dataclass
class Copy:
    """What one copy did, file by file (paths relative to the destination)."""

    dest: Path
    copied: list[str] = field(default_factory=list)       # new in the destination
    refreshed: list[str] = field(default_factory=list)    # unchanged since copied, now updated
    overwritten: list[str] = field(default_factory=list)  # changed, replaced under --force
    current: list[str] = field(default_factory=list)      # already the same as the package's
    kept: list[str] = field(default_factory=list)         # changed by the student, left alone
    same_folder: bool = False                             # DIR is where the lessons come from

    def sentence(self) -> str:
        """One sentence: what was copied, and which changed files were kept."""
        if self.same_folder:
            return f"{self.dest} is where the lessons come from; nothing to copy."
        done = [f"{len(names)} {'file' if len(names) == 1 else 'files'} {what}" for names, what in (
            (self.copied, "copied"), (self.refreshed, "refreshed"),
            (self.overwritten, "overwritten (--force)"), (self.current, "already up to date"))
            if names]
        text = f"Lessons in {self.dest}: {', '.join(done)}"
        if self.kept:
            text += (f"; kept {len(self.kept)} you changed ({', '.join(self.kept)}), "
                     "which --force would overwrite")
        return text + "."


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_manifest(dest: Path) -> dict[str, str]:
    """The recorded hashes; an unreadable record counts as none (every change is kept)."""
    try:
        files = json.loads((dest / MANIFEST).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    if not isinstance(files, dict):
        return {}
    return {k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, str)}


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)  # a half-written lesson never replaces a whole one


def copy_lessons(dest: str | os.PathLike, force: bool = False) -> Copy:
    """Copy the lessons into ``dest`` (created if missing); see the module docstring."""
    if str(dest).strip() == "":  # Path("") would be the current folder
        raise LessonsError("the lessons folder name is empty")
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise LessonsError(f"{dest} is a file, not a folder for the lessons")
    src = source()
    report = Copy(dest)
    if dest.is_dir() and dest.resolve() == src.resolve():
        report.same_folder = True
        return report
    names = lesson_files(src)
    try:
        (dest / "img").mkdir(parents=True, exist_ok=True)
        recorded = _read_manifest(dest)
        for name in names:
            new, target = (src / name).read_bytes(), dest / name
            if target.is_dir():
                raise LessonsError(f"{target} is a folder where a lesson file belongs")
            digest = hashlib.sha256(new).hexdigest()
            if not target.exists():
                bucket = report.copied
            elif (mine := _sha256(target)) == digest:
                report.current.append(name)
                recorded[name] = digest
                continue
            elif recorded.get(name) == mine:
                bucket = report.refreshed
            elif force:
                bucket = report.overwritten
            else:
                report.kept.append(name)
                continue
            _write_atomically(target, new)
            recorded[name] = digest
            bucket.append(name)
        manifest = {"paxos-edu": "lessons copied by paxos-edu lessons; "
                    "sha256 of each file as copied", "files": dict(sorted(recorded.items()))}
        _write_atomically(dest / MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode())
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename and exc.filename != str(dest) else ""
        raise LessonsError(f"cannot copy the lessons into {dest}: {exc.strerror or exc}{where}") from None
    return report


# -- servers -------------------------------------------------------------------------------
def lab_command(dest: Path, port: int | None, browser: bool, allow_root: bool) -> list[str]:
    """JupyterLab on ``dest`` with the lessons' settings overrides, on 127.0.0.1."""
    cmd = [sys.executable, "-m", "jupyterlab", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.root_dir={dest.resolve()}", f"--LabApp.app_settings_dir={settings_dir()}"]
    return cmd + _common(port, browser, "ServerApp") + (["--allow-root"] if allow_root else [])


def classroom_command(dest: Path, port: int | None, browser: bool) -> list[str]:
    """Voilà serving the classroom view (code hidden), on 127.0.0.1; run with ``dest`` as cwd."""
    return [sys.executable, "-m", "voila", CLASSROOM_LESSON, "--Voila.ip=127.0.0.1",
            *_common(port, browser, "Voila")]


def _common(port: int | None, browser: bool, app: str) -> list[str]:
    out = [] if browser else ["--no-browser"]
    if port is not None:  # a port asked for is that port, or an error: no silent retry
        out += [f"--port={port}", f"--{app}.port_retries=0"]
    return out


class _Terminated(Exception):
    """SIGTERM arrived: stop the server as Ctrl-C would."""


def serve(cmd: list[str], cwd: Path) -> int:
    """Run a server as a child process until it ends, or Ctrl-C or SIGTERM stops it.

    The server starts with Ctrl-C ignored and no terminal input (so Jupyter asks no
    question): on its own Ctrl-C it would stop without shutting its kernels down. This
    command catches Ctrl-C and SIGTERM instead and stops the server by pid: SIGTERM, on
    which Jupyter and Voila shut their kernels down, then SIGKILL after STOP_SECONDS or
    at a second Ctrl-C. It waits for the server to end, so nothing is left running.
    """
    def on_term(signum, frame):
        raise _Terminated

    old_term = signal.signal(signal.SIGTERM, on_term)
    old_int = signal.signal(signal.SIGINT, signal.SIG_IGN)  # the child inherits "ignored"
    try:
        proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL)
    finally:
        signal.signal(signal.SIGINT, old_int)
    try:
        return proc.wait()
    except (KeyboardInterrupt, _Terminated):
        return 130
    finally:
        _stop(proc)
        signal.signal(signal.SIGTERM, old_term)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired, KeyboardInterrupt, _Terminated):
            proc.wait(STOP_SECONDS)
    if proc.poll() is None:
        proc.kill()
    proc.wait()


# -- command line --------------------------------------------------------------------------
def _port(text: str) -> int:
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= 65535):
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number from 1 to 65535")
    return int(text)


def add_commands(sub) -> None:
    """The ``lessons``, ``lab`` and ``classroom`` subcommands of ``paxos-edu``."""
    lessons = sub.add_parser("lessons", help="copy the lessons into a folder of your own",
                             description="Copy the lessons into a folder of your own; "
                             "lessons you changed are kept unless --force.")
    _folder(lessons)
    lessons.add_argument("--force", action="store_true",
                         help="overwrite lessons you changed with the package's")
    lessons.set_defaults(func=cmd_lessons)
    for name, func, text in (("lab", cmd_lab, "open the lessons in JupyterLab"),
                             ("classroom", cmd_classroom,
                              "show the dashboard lesson with Voila, code hidden (for a projector)")):
        sp = sub.add_parser(name, help=text, description=f"{text[0].upper()}{text[1:]}.")
        _folder(sp)
        sp.add_argument("--port", type=_port, default=None, help="serve on this port")
        sp.add_argument("--no-browser", action="store_true", help="do not open a web browser")
        if name == "lab":
            sp.add_argument("--allow-root", action="store_true",
                            help="let JupyterLab run as root (e.g. in a container)")
        sp.set_defaults(func=func)


def _folder(sp) -> None:
    sp.add_argument("dir", nargs="?", default=DEFAULT_DIR, metavar="DIR",
                    help=f"the lessons folder (default ./{DEFAULT_DIR})")


def cmd_lessons(args) -> int:
    report = copy_lessons(args.dir, force=args.force)
    print(report.sentence())
    if not report.same_folder:
        print(f"Open them with: paxos-edu lab {args.dir}")
    return 0


def cmd_lab(args) -> int:
    report = copy_lessons(args.dir)
    print(report.sentence(), flush=True)
    cmd = lab_command(report.dest, args.port, not args.no_browser, args.allow_root)
    return serve(cmd, report.dest)


def cmd_classroom(args) -> int:
    report = copy_lessons(args.dir)
    print(report.sentence(), flush=True)
    return serve(classroom_command(report.dest, args.port, not args.no_browser), report.dest)
