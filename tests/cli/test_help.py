"""Help screens and what the CLI prints for a person: examples, defaults, terminal width."""

import io

import pytest
from rich.console import Console
from rich.progress import Progress

import clinicsim
from clinicsim._cli import main
from clinicsim.model._files import PRESETS
from clinicsim.simulate._stream import progress_columns
from tests.cli.test_cli import run

HELP_PAGES = [[], ["sample"], ["report"], ["model"], ["model", "show"], ["model", "export"],
              ["model", "validate"], ["model", "fit"]]


def help_text(capsys, *argv: str) -> str:
    code, out, err = run(capsys, *argv, "--help")
    assert code == 0 and not err
    return out


@pytest.mark.parametrize("argv", HELP_PAGES, ids=" ".join)
def test_help_pages_are_plain_and_fit(capsys, monkeypatch, argv):
    monkeypatch.setenv("COLUMNS", "80")
    text = help_text(capsys, *argv)
    assert "<bool>" not in text  # flags take no value
    assert "<" not in text.split("Options:")[1].split("Commands:")[0]  # options name their values
    assert "\x1b[" not in text and "╭" not in text  # plain text: no styles, no boxes
    assert max(map(len, text.splitlines())) <= 88  # click wraps help; examples are as written


def test_sample_help_states_defaults_presets_and_examples(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    text = help_text(capsys, "sample")
    assert "-n N " in text and "--n" not in text
    assert "clinicsim[dask]" in text  # not eaten as a style tag
    words = " ".join(text.split())  # click wraps help text at any word
    assert "default 1,048,576" in words  # the chunk size
    assert "Default: a fresh random seed each run" in text
    assert f"preset: {', '.join(PRESETS)}" in " ".join(text.split())
    assert "--extended  " in text and "--engine numpy|pgmpy" in text
    examples = text.split("Examples:")[1].split("\n")
    line = "clinicsim sample -n 5000 --seed 42 -o clinic_records.csv --report conformance.html"
    assert "    " + line in examples


def test_every_help_example_names_real_options(capsys):
    """Each example parses: run with --help appended, an unknown option would exit 2."""
    commands = set()
    for argv in HELP_PAGES:
        text = help_text(capsys, *argv)
        for line in text.split("Examples:")[1].splitlines() if "Examples:" in text else []:
            command = line.split("|")[0].split("#")[0].split()  # no pipes, no comments
            if command and command[1] != "COMMAND":
                commands.add(tuple(command[1:]))
    assert len(commands) >= 10
    for command in commands:
        help_text(capsys, *command)


def test_model_show_fits_the_terminal(capsys, monkeypatch):
    model = clinicsim.default_model()
    for width in (60, 80, 250):
        monkeypatch.setenv("COLUMNS", str(width))
        code, out, _ = run(capsys, "model", "show")
        assert code == 0 and max(map(len, out.splitlines())) <= width
        assert all(state in out for state in model.states("diagnosis"))
        for node in model.nodes:
            code, out, _ = run(capsys, "model", "show", node)
            assert code == 0 and max(map(len, out.splitlines())) <= width, (node, width)


def test_model_show_wide_cpd_lists_each_column(capsys, monkeypatch):
    """treatment does not fit 80 columns: each parent combination's positive states."""
    model = clinicsim.default_model()
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run(capsys, "model", "show", "treatment")
    assert code == 0
    lines = out.splitlines()
    at = lines.index("age_group=0_14, diagnosis=copd")
    column = model.cpd("treatment")[("0_14", "copd")]
    listed = " ".join(lines[at + 1:at + 3]).split("age_group=")[0]
    expected = ", ".join(f"{s} {p:.4f}" for s, p in column.items() if p > 0)
    assert listed.split() == expected.split()
    assert "marginal" in lines
    # wide enough, it is the table
    monkeypatch.setenv("COLUMNS", "300")
    code, out, _ = run(capsys, "model", "show", "treatment")
    assert code == 0 and out.splitlines()[1].split()[:2] == ["treatment", "lifestyle_counselling"]


def test_progress_counts_have_thousands_separators():
    bar = Progress(*progress_columns(), console=Console(file=io.StringIO()), auto_refresh=False)
    task = bar.add_task("records", total=20_000_000)
    bar.advance(task, 1_048_576)
    console = Console(file=io.StringIO(), width=120, record=True)
    console.print(bar.get_renderable())
    assert "1,048,576/20,000,000" in console.export_text()


def test_main_without_arguments_prints_help(capsys):
    with pytest.raises(SystemExit):
        main([])
    out, err = capsys.readouterr()
    assert "Usage: clinicsim" in out + err and "Examples:" in out + err
