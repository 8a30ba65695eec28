"""Never clobber or lose a file: a sweep of every command that writes, against every way
an output can be wrong (it is an input, by any path; its folder is missing, not a folder,
a symbolic link; its name is too long) and against a failure or a signal in the last phase.

Each refusal must be one ``error:`` line with exit 2 (128 + the signal for a signal), no
traceback; every file that existed before is byte for byte the same, and no file is added.
"""

import contextlib
import os
import signal
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import clinicsim
import clinicsim.analysis
import clinicsim.fhir
import clinicsim.simulate._sample
from clinicsim import _io
from clinicsim._cli import main

LONG = "a" * 300  # a file name over NAME_MAX (255 bytes)

# command -> (argv before the output, the output's option, its suffix, inputs it reads)
# An output may be a records file, a report, a model file, a FHIR Bundle or folder.
COMMANDS = {
    "sample": (["sample", "-n", "20", "--seed", "1", "--model", "m.json"], "-o", ".csv",
               ["m.json"]),
    "sample DIR/": (["sample", "-n", "20", "--seed", "1", "--model", "m.json", "-o"], None, "/",
                    ["m.json"]),
    "sample --report": (["sample", "-n", "20", "--seed", "1", "--model", "m.json", "-o",
                         "new.csv", "--report"], None, ".json", ["m.json"]),
    "sample --format fhir": (["sample", "-n", "20", "--seed", "1", "--model", "m.json",
                              "--format", "fhir", "-o"], None, ".json", ["m.json"]),
    "sample --format fhir DIR/": (["sample", "-n", "20", "--seed", "1", "--model", "m.json",
                                   "--format", "fhir", "-o"], None, "/", ["m.json"]),
    "report": (["report", "r.csv", "--model", "m.json", "-o"], None, ".json",
               ["m.json", "r.csv"]),
    "report FHIR": (["report", "fhir", "--model", "m.json", "-o"], None, ".json",
                    ["m.json"]),
    "export fhir": (["export", "fhir", "r.csv", "--model", "m.json", "-o"], None, ".json",
                    ["m.json", "r.csv"]),
    "export fhir DIR/": (["export", "fhir", "r.csv", "--model", "m.json", "-o"], None, "/",
                         ["m.json", "r.csv"]),
    "model export": (["model", "export", "--model", "m.json", "-o"], None, ".json",
                     ["m.json"]),
    "model fit": (["model", "fit", "--model", "m.json", "-o"], None, ".json", ["m.json"]),
}


def argv_of(command: str, output: str) -> list[str]:
    head, option, _, _ = COMMANDS[command]
    return [*head, *([option] if option else []), output]


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    """The input files, made once."""
    folder = tmp_path_factory.mktemp("inputs")
    model = clinicsim.default_model()
    model.save(folder / "m.json")
    records = clinicsim.sample(20, seed=1, model=model)
    records.to_csv(folder / "r.csv", index=False)
    clinicsim.fhir.write(folder / "fhir", records, model, seed=1)
    return {p.name: p for p in folder.iterdir()}


@pytest.fixture
def clinic(tmp_path, monkeypatch, originals):
    """A working folder with the inputs, existing outputs, folders and links."""
    monkeypatch.chdir(tmp_path)
    for name, path in originals.items():
        if path.is_dir():
            (tmp_path / name).mkdir()
            for f in path.iterdir():
                (tmp_path / name / f.name).write_bytes(f.read_bytes())
        else:
            (tmp_path / name).write_bytes(path.read_bytes())
    for name in ("old.csv", "old.json", "old.html"):
        (tmp_path / name).write_text(f"the user's {name}\n")
    (tmp_path / "empty").mkdir()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("keep\n")
    (tmp_path / "file.txt").write_text("a file\n")
    os.symlink("empty", "link_to_empty")
    os.symlink("full", "link_to_full")
    os.symlink("nowhere/at/all", "dangling")
    return tmp_path


def snapshot(folder) -> dict[str, object]:
    """Every entry under ``folder``: a file's bytes, a link's target, a folder's mark."""
    out: dict[str, object] = {}
    for root, dirs, names in os.walk(folder):
        for name in dirs + names:
            path = os.path.join(root, name)
            key = os.path.relpath(path, folder)
            if os.path.islink(path):
                out[key] = ("link", os.readlink(path))
            elif os.path.isdir(path):
                out[key] = "dir"
            else:
                with open(path, "rb") as f:
                    out[key] = f.read()
    return out


def run(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    out, err = capsys.readouterr()
    return info.value.code, out, err


def refused(capsys, folder, argv, code=2, *, allow=()):
    """Run ``argv``; assert a clean refusal and that nothing changed or was added."""
    before = snapshot(folder)
    got, _, err = run(capsys, argv)
    after = snapshot(folder)
    lines = err.strip().splitlines()
    assert got == code, (argv, got, err)
    assert lines and lines[-1].startswith("error: ") and "Traceback" not in err, err
    assert all(after.get(k) == v for k, v in before.items()), (
        [k for k, v in before.items() if after.get(k) != v])
    assert set(after) - set(before) <= set(allow), set(after) - set(before)
    return err


# -- an output that is an input, by any path ---------------------------------------------

def input_aliases(command: str) -> list[tuple[str, str]]:
    """(command, output) pairs: every input of the command, as itself and through a
    symbolic or hard link carrying the output's suffix."""
    _, _, suffix, inputs = COMMANDS[command]
    out = []
    for source in inputs:
        if suffix != "/":
            out += [(command, f"sym:{source}:{suffix}"), (command, f"hard:{source}:{suffix}")]
        if source.endswith(suffix):
            out.append((command, source))
    return out


ALIASES = [case for command in COMMANDS for case in input_aliases(command)]


@pytest.mark.parametrize(("command", "output"), ALIASES, ids=[f"{c}|{o}" for c, o in ALIASES])
def test_an_output_that_is_an_input_is_refused(capsys, clinic, command, output):
    if ":" in output:
        kind, source, suffix = output.split(":")
        output = f"{kind}_{source.replace('.', '_')}{suffix}"
        (os.symlink if kind == "sym" else os.link)(source, output)
    err = refused(capsys, clinic, argv_of(command, output))
    assert "is the" in err and "write to another file" in err, err


def test_sample_fhir_bundle_never_replaces_the_model(capsys, clinic):
    """The issue's example: ``sample --model m.json --format fhir -o m.json``."""
    err = refused(capsys, clinic, ["sample", "-n", "5", "--model", "m.json", "--format", "fhir",
                                   "-o", "m.json"])
    assert err == "error: output 'm.json' is the model file 'm.json'; write to another file\n"


def test_two_outputs_of_one_run_must_differ(capsys, clinic):
    os.symlink("x.json", "y.json")
    err = refused(capsys, clinic, ["sample", "-n", "5", "--format", "fhir", "-o", "x.json",
                                   "--report", "y.json"], allow={"y.json"})
    assert "--report 'y.json' is the output" in err


# -- where the output goes -----------------------------------------------------------------

PLACES = {  # output -> a part of the expected message
    "nope/x": "does not exist",
    "file.txt/x": "is not a folder",
    f"{LONG}": "bytes; at most 255)",
    f"empty/{LONG}": "bytes; at most 255)",
    "dangling/x": "does not exist",
}
PLACE_CASES = [(c, p) for c in COMMANDS for p in PLACES]


@pytest.mark.parametrize(("command", "place"), PLACE_CASES,
                         ids=[f"{c}|{p[:12]}" for c, p in PLACE_CASES])
def test_an_output_that_cannot_be_written_is_refused_up_front(capsys, clinic, monkeypatch,
                                                              command, place):
    suffix = COMMANDS[command][2]
    work = []  # a command refused up front does no sampling
    monkeypatch.setattr(clinicsim.simulate._sample.Sampler, "chunks",
                        lambda *a, **k: work.append(1) or iter(()))
    err = refused(capsys, clinic, argv_of(command, place + suffix))
    assert PLACES[place] in err, err
    assert not work


FOLDERS = [c for c in COMMANDS if COMMANDS[c][2] == "/"]


@pytest.mark.parametrize("command", FOLDERS)
@pytest.mark.parametrize("folder", ["full/", "link_to_full/", "link_to_full", "file.txt/"])
def test_a_folder_output_that_is_not_empty_is_refused(capsys, clinic, command, folder):
    refused(capsys, clinic, argv_of(command, folder)[:-1] + [folder])


@pytest.mark.parametrize("command", FOLDERS)
@pytest.mark.parametrize("folder", ["link_to_empty", "link_to_empty/"])
def test_a_link_to_an_empty_folder_is_written_through(capsys, clinic, command, folder):
    code, _, err = run(capsys, argv_of(command, folder)[:-1] + [folder])
    assert code in (0, 1), err
    assert os.path.islink("link_to_empty") and os.readlink("link_to_empty") == "empty"
    assert os.listdir("empty")[0] in ("Patient.ndjson", "part.0.parquet")


@pytest.mark.parametrize("command", [c for c in COMMANDS if c not in FOLDERS])
def test_a_folder_is_never_replaced_by_a_file(capsys, clinic, command):
    """An existing folder: a records file or FHIR Bundle name that is a folder gets
    partitioned Parquet or NDJSON if it is empty, so here it holds a file."""
    suffix = COMMANDS[command][2]
    os.mkdir("dir" + suffix)
    (clinic / ("dir" + suffix) / "keep.txt").write_text("keep\n")
    refused(capsys, clinic, argv_of(command, "dir" + suffix))


# -- names too long --------------------------------------------------------------------

@pytest.mark.parametrize("argv", [
    ["sample", "-n", "5", "--model", LONG + ".json"],
    ["report", LONG + ".csv"],
    ["report", LONG],
    ["report", "r.csv", "--model", "m.json", "-o", "x/" * 2100 + "r.html"],
    ["model", "show", "--model", LONG + ".yaml"],
    ["model", "validate", LONG + ".yaml"],
    ["model", "fit", "--model", LONG + ".json", "-o", "fit.json"],
    ["export", "fhir", LONG + ".csv", "-o", "out/"],
    ["export", "fhir", "r.csv", "--model", LONG + ".json", "-o", "out/"],
])
def test_an_input_name_too_long_is_one_line(capsys, clinic, argv):
    err = refused(capsys, clinic, argv)
    assert "too long" in err and "at most" in err, err


@pytest.mark.parametrize("command", COMMANDS)
def test_a_name_of_250_bytes_is_written(capsys, clinic, command):
    suffix = COMMANDS[command][2]
    name = "b" * (250 - len(suffix.rstrip("/"))) + suffix
    before = set(snapshot(clinic))
    code, _, err = run(capsys, argv_of(command, name))
    assert code in (0, 1), err
    added = {k.split(os.sep)[0] for k in set(snapshot(clinic)) - before}
    assert added == {name.rstrip("/")} | ({"new.csv"} if command == "sample --report" else set())


# -- a failure or a signal in the last phase ---------------------------------------------

LAST = {  # command -> its outputs (existing files) and where its last phase is
    "sample -o --report": (["sample", "-n", "20", "--seed", "1", "-o", "old.csv", "--report",
                            "old.html"], "report"),
    "sample --format fhir --report": (["sample", "-n", "20", "--seed", "1", "--format", "fhir",
                                       "-o", "empty", "--report", "old.html"], "report"),
    "sample": (["sample", "-n", "20", "--seed", "1", "-o", "old.csv"], "rename"),
    "report": (["report", "r.csv", "-o", "old.html"], "rename"),
    "export fhir": (["export", "fhir", "r.csv", "-o", "old.json"], "rename"),
    "model export": (["model", "export", "-o", "old.json"], "rename"),
    "model fit": (["model", "fit", "-o", "old.json"], "rename"),
}


@pytest.fixture
def clean_stops():
    yield
    _io._stopped.clear()


@pytest.mark.parametrize("how", ["signal", "error"])
@pytest.mark.parametrize("command", LAST)
def test_the_last_phase_failing_leaves_every_file_as_it_was(capsys, clinic, monkeypatch,
                                                            clean_stops, command, how):
    argv, phase = LAST[command]

    def fail(*args, **kwargs):
        if how == "signal":
            _io.stop(signal.SIGTERM)
        if phase == "report":
            raise clinicsim.ClinicSimError("the report could not be made")
        raise OSError(28, "No space left on device")

    if phase == "report":
        monkeypatch.setattr(clinicsim.analysis.ConformanceReport, "to_html", fail)
    else:
        monkeypatch.setattr(_io.os, "replace", fail)
    err = refused(capsys, clinic, argv, code=143 if how == "signal" else 2)
    if how == "signal":
        assert err.splitlines()[-1] == ("error: terminated by SIGTERM; no output file was "
                                        "left behind")


def test_a_signal_after_the_renames_says_what_was_written(capsys, clinic, monkeypatch,
                                                          clean_stops):
    """A signal that arrives while the outputs are renamed is held off until all are;
    the message then names them instead of claiming nothing was left behind."""
    @contextlib.contextmanager
    def held():
        yield
        _io.stop(signal.SIGTERM)  # delivered when signals are let through again

    monkeypatch.setattr(_io, "_signals_held", held)
    code, _, err = run(capsys, ["sample", "-n", "20", "--seed", "1", "-o", "old.csv",
                                "--report", "old.html"])
    assert code == 143
    assert err.splitlines()[-1] == ("error: terminated by SIGTERM after writing 'old.csv', "
                                    "'old.html' in full")
    assert (clinic / "old.csv").read_text().startswith("patient_id,")
    assert (clinic / "old.html").read_text().startswith("<!DOCTYPE html>")


# -- any name: written under exactly that name, or refused with nothing changed ----------

# Any characters a file name may hold, then a run of 1- to 4-byte characters that takes
# the name across 255 bytes about half of the time.
NAME_TEXT = st.builds(
    lambda head, char, count: head + char * count,
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"),
            min_size=1, max_size=20),
    st.sampled_from(["a", "é", "€", "𝄞"]), st.integers(0, 130))


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stem=NAME_TEXT, command=st.sampled_from(["sample", "model export", "export fhir",
                                                "report"]))
def test_any_output_name_is_written_as_given_or_refused(capsys, originals, stem, command):
    suffix = {"sample": ".csv", "model export": ".yaml", "export fhir": ".json",
              "report": ".md"}[command]
    argv = {"sample": ["sample", "-n", "3", "--seed", "1", "-o"],
            "model export": ["model", "export", "-o"],
            "export fhir": ["export", "fhir", "r.csv", "-o"],
            "report": ["report", "r.csv", "-o"]}[command]
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "r.csv").write_bytes(originals["r.csv"].read_bytes())
        old = os.getcwd()
        os.chdir(folder)
        try:
            before = snapshot(folder)
            code, _, err = run(capsys, [*argv, stem + suffix])
            added = set(snapshot(folder)) - set(before)
        finally:
            os.chdir(old)
    assert "Traceback" not in err
    if len(os.fsencode(stem + suffix)) > 255:
        assert code == 2 and err.startswith("error: ") and "at most 255" in err, err
        assert added == set()
    else:
        assert code in (0, 1), err
        assert added == {stem + suffix}


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs Linux's /proc")
def test_sigterm_in_the_report_phase_of_a_real_process_leaves_the_old_files(tmp_path):
    """``sample -o old.csv --report old.md`` stopped once the records are complete (their
    temporary file written and closed) and the report is being made: both old files stay,
    nothing is left, and the message says so."""
    import subprocess
    import sys
    import time

    for name in ("old.csv", "old.md"):
        (tmp_path / name).write_text(f"the user's {name}\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "clinicsim", "sample", "-n", "300000", "--seed", "1", "-o",
         "old.csv", "--report", "old.md"], cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    fds = f"/proc/{process.pid}/fd"
    try:
        deadline = time.monotonic() + 120
        while True:  # the records' temporary is written and the process has closed it
            assert process.poll() is None and time.monotonic() < deadline, "no report phase"
            part = next(tmp_path.glob(".old.csv.*.part"), None)
            with contextlib.suppress(OSError):  # the process may end or close files meanwhile
                size = part.stat().st_size if part else 0
                held = {os.readlink(os.path.join(fds, fd)) for fd in os.listdir(fds)}
                if size > 0 and str(part) not in held:
                    break
            time.sleep(0.02)
        assert size > 10_000_000  # all 300,000 rows, about 40 bytes each
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 143, err
    assert err.splitlines()[-1] == "error: terminated by SIGTERM; no output file was left behind"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.csv", "old.md"]
    assert (tmp_path / "old.csv").read_text() == "the user's old.csv\n"
