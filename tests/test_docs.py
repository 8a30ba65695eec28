"""The documentation is checked like code.

- The site (docs/) builds with every warning and every broken cross-reference an error.
- The API pages list exactly the names of each package's ``__all__``.
- Every code block of every page, and of README.md, runs against the current code, in order,
  in a fresh folder per page: ``pycon`` blocks are doctests (their printed output is
  compared exactly), ``console`` blocks are commands (``$ ...``) whose output is compared.
  No page holds a ``python`` or ``bash`` block that nothing runs.
- .ci/run runs the README's test command verbatim.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
PAGES = sorted(DOCS.glob("*.md"))
# Blocks that are shown, not run: output and listings (text), file contents brought in by
# {literalinclude} (the file itself is tested), and Sphinx directives.
SHOWN = {"text", "yaml", "json", "toml"}

FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$",
                   re.S | re.M)


@dataclass
class Block:
    lang: str
    body: str
    line: int


def blocks(path: Path) -> list[Block]:
    text = path.read_text()
    found = []
    for m in FENCE.finditer(text):
        found.append(Block(m["info"].strip(), m["body"], text.count("\n", 0, m.start()) + 1))
    return found


def run_pycon(block: Block, globs: dict, path: Path) -> int:
    """Run a ``pycon`` block as a doctest with the page's shared globals; the count of its
    examples."""
    parser = doctest.DocTestParser()
    test = parser.get_doctest(block.body, globs, f"{path.name}:{block.line}", str(path),
                              block.line)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    out: list[str] = []
    runner.run(test, out=out.append, clear_globs=False)
    globs.update(test.globs)  # a DocTest works on a copy; the next block sees these names
    if runner.failures:
        pytest.fail(f"{path.name} line {block.line}:\n" + "".join(out), pytrace=False)
    return len(test.examples)


def run_console(block: Block, cwd: Path, path: Path) -> int:
    """Run a ``console`` block: each ``$ command`` in bash, its output (stdout and stderr)
    compared with the lines under it. The count of its commands."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
    env.pop("FORCE_COLOR", None)
    commands: list[tuple[str, list[str]]] = []
    for line in block.body.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif commands:
            commands[-1][1].append(line)
        else:
            pytest.fail(f"{path.name} line {block.line}: a console block starts with '$ '")
    for command, expected in commands:
        result = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True,
                                text=True, timeout=300)
        got = (result.stdout + result.stderr).rstrip("\n")
        want = "\n".join(expected).rstrip("\n")
        if result.returncode != 0 or not _matches(want, got):
            pytest.fail(f"{path.name} line {block.line}: $ {command}\nexit {result.returncode}"
                        f"\nexpected:\n{want}\ngot:\n{got}", pytrace=False)
    return len(commands)


def _matches(want: str, got: str) -> bool:
    # '...' in the expected output stands for any text, as in a doctest (ELLIPSIS)
    checker = doctest.OutputChecker()
    return checker.check_output(want + "\n", got + "\n", doctest.ELLIPSIS)


def run_page(path: Path, cwd: Path, *, allow: set[str] = frozenset()) -> int:
    """Run every block of ``path`` in order in ``cwd``; the number of examples run."""
    os.symlink(ROOT / "examples", cwd / "examples")
    globs: dict = {"__name__": "__docs__"}
    count = 0
    old = Path.cwd()
    os.chdir(cwd)
    try:
        for block in blocks(path):
            lang = block.lang
            if lang == "pycon":
                count += run_pycon(block, globs, path)
            elif lang == "console":
                count += run_console(block, cwd, path)
            elif lang in SHOWN or lang.startswith("{") or lang in allow:
                continue
            else:
                pytest.fail(f"{path.name} line {block.line}: a ```{lang} block that nothing runs;"
                            " write it as pycon (>>>) or console ($), or as text", pytrace=False)
    finally:
        os.chdir(old)
    return count


# -- the pages ------------------------------------------------------------------------------

@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_every_example_on_the_page_runs_as_shown(page, tmp_path):
    run_page(page, tmp_path)


def test_readme_examples_run_in_order(tmp_path):
    """The README's blocks, in order, in one fresh folder: the Python example, the CLI
    example, and the first set-up command from its ``clinicsim`` onward (the install itself
    is what .ci/run does). No example depends on a file another one left."""
    count = run_page(README, tmp_path, allow={"bash"})
    assert count >= 10
    setup = [b.body.strip() for b in blocks(README) if b.lang == "bash"]
    first = setup[0]
    assert first.startswith("python3 -m venv .venv && . .venv/bin/activate && ")
    command = first.split("&& clinicsim ", 1)[1]
    result = subprocess.run([Path(sys.executable).parent / "clinicsim", *shlex.split(command)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "clinic_records.csv").stat().st_size > 0
    assert "passed" in (tmp_path / "conformance.html").read_text()


def test_ci_runs_the_readme_test_command_verbatim():
    setup = [b.body.strip() for b in blocks(README) if b.lang == "bash"]
    assert len(setup) == 2, "the README's set-up is two commands"
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    test_command = setup[1]
    assert test_command.startswith("python3 -m venv .venv && . .venv/bin/activate && ")
    # .ci/run makes its venv the same way and then runs the rest of the line as written
    assert test_command in ci, ".ci/run must run the README's test command verbatim"


def test_readme_is_short_and_links_every_page():
    text = README.read_text()
    assert len(text.splitlines()) <= 200
    for page in PAGES:
        if page.stem != "index":
            assert f"docs/{page.name}" in text, f"README does not link docs/{page.name}"


def test_cli_synopsis_options_exist():
    """Every option of docs/cli.md's synopsis is in its command's --help, and every command
    of the CLI is in the synopsis."""
    from typer.testing import CliRunner

    from clinicsim._cli import app

    text = (DOCS / "cli.md").read_text()
    synopsis = text.split("```text\n", 1)[1].split("```", 1)[0]
    entries = re.split(r"\n(?=clinicsim )", synopsis.strip())
    runner = CliRunner()
    commands = set()
    for entry in entries:
        words = entry.split()
        command = words[1:3] if words[1] in ("model", "export") else words[1:2]
        commands.add(" ".join(command))
        result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        for option in re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", entry):
            assert re.search(rf"(?<![\w-]){re.escape(option)}\b", result.output), (
                f"clinicsim {' '.join(command)}: {option} is not an option")
    import typer

    group = typer.main.get_command(app)
    every = set()
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        if hasattr(command, "commands"):  # a group (Typer bundles its own click)
            every |= {f"{name} {sub}" for sub in command.commands}
        else:
            every.add(name)
    assert commands == every


# -- the site -------------------------------------------------------------------------------

def test_site_builds_with_warnings_and_broken_references_as_errors(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")],
        capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0 and "WARNING" not in result.stderr, result.stderr
    for page in PAGES:
        assert (tmp_path / "html" / f"{page.stem}.html").exists()
    assert (tmp_path / "html" / "api" / "generated" / "clinicsim.sample.html").exists()


def test_api_pages_list_every_public_name():
    """docs/api/*.rst are what tools/api_pages.py writes from the packages' ``__all__``."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        api_pages = importlib.import_module("api_pages")
    finally:
        sys.path.remove(str(ROOT / "tools"))
    for package in api_pages.PACKAGES:
        page = DOCS / "api" / f"{package.removeprefix('clinicsim.')}.rst"
        assert page.read_text() == api_pages.page(package), (
            f"{page.relative_to(ROOT)} is out of date: run python tools/api_pages.py")
        module = importlib.import_module(package)
        text = page.read_text()
        for name in module.__all__:
            if inspect.ismodule(getattr(module, name)):
                pattern = rf":doc:`{name.rsplit('.', 1)[-1]}`"
            else:
                pattern = rf"^   {name}$|`{name} <"
            assert re.search(pattern, text, re.M), f"{package}.{name} is not on {page.name}"
