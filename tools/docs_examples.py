"""Rewrite the outputs of the ``pycon`` and ``console`` examples of Markdown pages.

    python tools/docs_examples.py docs/model.md [README.md ...]

Runs each page's blocks in order in a fresh folder, as tests/test_docs.py does, and writes
what each example printed under it. For when the code changed on purpose (a new error
message, a new figure): run it, then READ THE DIFF (`git diff docs README.md`) — every
changed line is a claim the page now makes. Hand-written ``...`` in an expected output is
replaced by the full text; put it back where the output is long or varies.
"""

from __future__ import annotations

import contextlib
import doctest
import io
import os
import re
import subprocess
import sys
import tempfile
import traceback
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^(?P<fence>`{3,})(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$",
                   re.S | re.M)


def run_example(source: str, globs: dict) -> str:
    out = io.StringIO()

    def show(value: object) -> None:
        if value is not None:
            out.write(repr(value) + "\n")
            globs["_"] = value

    hook, sys.displayhook = sys.displayhook, show
    try:
        with contextlib.redirect_stdout(out):
            try:
                exec(compile(source, "<docs>", "single"), globs)
            except Exception as exc:  # shown as a doctest shows it
                return (out.getvalue() + "Traceback (most recent call last):\n    ...\n"
                        + "".join(traceback.format_exception_only(type(exc), exc)))
    finally:
        sys.displayhook = hook
    return out.getvalue()


def pycon(body: str, globs: dict) -> str:
    text = []
    for piece in doctest.DocTestParser().parse(body):
        if isinstance(piece, str):
            if piece.strip():
                text.append(piece if piece.endswith("\n") else piece + "\n")
            continue
        first, *rest = piece.source.rstrip("\n").split("\n")
        text.append(">>> " + first + "\n" + "".join("... " + line + "\n" for line in rest))
        text.append(run_example(piece.source, globs))
    return "".join(text)


def console(body: str, cwd: Path) -> str:
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    text = []
    for line in body.splitlines():
        if line.startswith("$ "):
            result = subprocess.run(["bash", "-c", line[2:]], cwd=cwd, env=env,
                                    capture_output=True, text=True)
            output = (result.stdout + result.stderr).rstrip("\n")
            text.append(line + "\n" + (output + "\n" if output else ""))
            if result.returncode:
                print(f"note: exit {result.returncode}: {line}", file=sys.stderr)
    return "".join(text)


def refresh(path: Path) -> None:
    text = path.read_text()
    folder = Path(tempfile.mkdtemp())
    (folder / "examples").symlink_to(ROOT / "examples")
    globs: dict = {"__name__": "__docs__"}
    pieces, end = [], 0
    here = Path.cwd()
    os.chdir(folder)
    try:
        for m in FENCE.finditer(text):
            lang = m["info"].strip()
            if lang not in ("pycon", "console"):
                continue
            body = pycon(m["body"], globs) if lang == "pycon" else console(m["body"], folder)
            pieces += [text[end:m.start("body")], body]
            end = m.end("body")
    finally:
        os.chdir(here)
    path.write_text("".join(pieces) + text[end:])


if __name__ == "__main__":
    warnings.simplefilter("error")  # as the test suite runs
    for name in sys.argv[1:]:
        refresh(Path(name).resolve())
