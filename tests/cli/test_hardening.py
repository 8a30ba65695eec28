"""The command line under abuse: every bad input one ``error:`` line, exit 2, no file left behind.

Signals and file-size limits are tested on a real ``python -m clinicsim`` process.
"""

import errno
import os
import resource
import signal
import stat
import subprocess
import sys
import time

import pytest
import yaml

import clinicsim
from clinicsim._cli import main


def run(capsys, *argv):
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    out, err = capsys.readouterr()
    return info.value.code, out, err


def files(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sample", "-n", "1e12", "-o", "r.csv"], "1,000,000,000,000 records need about "),
        (["sample", "-n", "1.5"], "Invalid value for '-n': '1.5' is not a whole number"),
        (["sample", "-n", "abc"], "Invalid value for '-n': 'abc' is not a whole number"),
        (["sample", "-n", "1e999999999"], "'1e999999999' is not a whole number"),
        (["sample", "--seed", "-1"], "`seed` must be a non-negative integer; got -1"),
        (["sample", "--seed", "x1"], "Invalid value for '--seed': 'x1' is not a whole number"),
        (["sample", "--chunk-size", "1e-3"], "'1e-3' is not a whole number"),
        (["sample", "--workers", "two"], "Invalid value for '--workers': 'two' is not a whole"),
        (["sample", "-n", "4000001", "--report", "r.md"],
         "--report checks the whole table in memory: at most 4,000,000 records; got -n "
         "4,000,001 (sample fewer rows, or leave out --report)"),
        (["report", "good.csv", "--model", "m.json", "-o", "m.json"],
         "output 'm.json' is the model file 'm.json'; write to another file"),
        (["report", "good.csv", "--model", "m.json", "-o", "./sub/../m.json"],
         "output 'sub/../m.json' is the model file 'm.json'"),
        (["model", "export", "--model", "m.json", "-o", "m.json"], "output 'm.json' is the model"),
        (["sample", "-n", "5", "--model", "m.json", "--report", "m.json"],
         "--report 'm.json' is the model file"),
        (["report", "good.csv", "--alpha", "1.5"], "`alpha` must be a number in (0, 0.5); got 1.5"),
        (["report", "good.csv", "--alpha", "nan"], "`alpha` must be a number in (0, 0.5); got nan"),
        (["report", "folder.csv"], "cannot read records file 'folder.csv': it is a folder"),
        (["report", "empty.jsonl"], "records file 'empty.jsonl' is empty (0 bytes)"),
        (["sample", "-o", "x" * 600 + ".txt"], "output 'xxxxxxxx"),  # cut to 500 characters
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    clinicsim.sample(100, seed=1).to_csv("good.csv", index=False)
    clinicsim.default_model().save("m.json")
    (tmp_path / "sub").mkdir()
    (tmp_path / "folder.csv").mkdir()
    (tmp_path / "empty.jsonl").touch()
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and len(err) <= len("error: \n") + 500
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == before


def test_whole_numbers_may_be_written_like_1e3(capsys):
    code, out, _ = run(capsys, "sample", "-n", "1e1", "--seed", "1_000", "--chunk-size", "3e0")
    assert code == 0
    assert out == clinicsim.sample(10, seed=1000).to_csv(
        index=False, date_format="%Y-%m-%d", lineterminator="\n")


def test_a_huge_seed_works(capsys):
    code, out, _ = run(capsys, "sample", "-n", "3", "--seed", str(2**200))
    assert code == 0 and out == clinicsim.sample(3, seed=2**200).to_csv(
        index=False, date_format="%Y-%m-%d", lineterminator="\n")


def test_many_problems_print_at_most_eleven_lines(capsys, tmp_path):
    """A CPD table entirely of strings: one problem per cell, ten shown, the rest counted."""
    clinicsim.default_model().save(tmp_path / "m.yaml")
    data = yaml.safe_load((tmp_path / "m.yaml").read_text())
    for column in data["nodes"]["treatment"]["cpd"]:
        column["p"] = {state: str(p) for state, p in column["p"].items()}
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(clinicsim.ModelError) as info:
        clinicsim.load_model(tmp_path / "m.yaml")
    total = len(info.value.errors)
    assert total > 100
    code, _, err = run(capsys, "model", "validate", str(tmp_path / "m.yaml"))
    lines = err.splitlines()
    assert code == 2 and len(lines) == 11
    assert lines[:10] == [f"error: {e}" for e in info.value.errors[:10]]
    assert lines[10] == f"error: ... and {total - 10:,} more"


def test_debug_shows_the_traceback(capsys):
    code, _, err = run(capsys, "--debug", "report", "missing.csv")
    assert code == 2 and err.startswith("Traceback (most recent call last):")
    assert err.strip().endswith(
        "RecordsError: cannot read records file 'missing.csv': no such file")
    code, _, err = run(capsys, "report", "missing.csv")  # and only when asked
    assert err == "error: cannot read records file 'missing.csv': no such file\n"


def test_outputs_are_normal_files(capsys, tmp_path):
    old = os.umask(0o022)
    try:
        assert run(capsys, "sample", "-n", "200", "--seed", "3", "-o", str(tmp_path / "r.csv"),
                   "--report", str(tmp_path / "r.md"))[0] == 0
        assert run(capsys, "model", "export", "-o", str(tmp_path / "m.yaml"))[0] == 0
    finally:
        os.umask(old)
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()} == {
        "r.csv": 0o644, "r.md": 0o644, "m.yaml": 0o644}


@pytest.mark.parametrize(("err", "message"), [(errno.ENOSPC, "No space left on device"),
                                              (errno.EACCES, "Permission denied")])
def test_os_errors_while_writing_are_one_line(capsys, tmp_path, monkeypatch, err, message):
    """A full disk in the middle of the file, or a read-only folder (simulated: this may
    run as root, who can write anywhere)."""
    from clinicsim.simulate import _writers

    def full(chunks, out, text, original=_writers._write_text):
        original(chunks, out, text)
        raise OSError(err, os.strerror(err))

    monkeypatch.setattr(_writers, "_write_text", full)
    path = tmp_path / "r.csv"
    code, _, stderr = run(capsys, "sample", "-n", "100", "-o", str(path))
    assert code == 2 and stderr == f"error: cannot write {str(path)!r}: {message}\n"
    assert files(tmp_path) == []


# -- a real process: signals and ulimit -f ----------------------------------------------

def clinicsim_process(tmp_path, *argv, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "clinicsim", *argv], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


@pytest.mark.parametrize(("sig", "code", "message"), [
    (signal.SIGTERM, 143, "error: terminated by SIGTERM; no output file was left behind\n"),
    (signal.SIGINT, 130, "error: interrupted; no output file was left behind\n"),
    (signal.SIGHUP, 129, "error: terminated by SIGHUP; no output file was left behind\n"),
    (signal.SIGQUIT, 131, "error: terminated by SIGQUIT; no output file was left behind\n"),
    (signal.SIGUSR1, 138, "error: terminated by SIGUSR1; no output file was left behind\n"),
])
def test_a_signal_in_the_middle_of_a_write_leaves_nothing(tmp_path, sig, code, message):
    process = clinicsim_process(tmp_path, "sample", "-n", "20000000", "--seed", "1",
                                "-o", "big.csv")
    try:
        deadline = time.monotonic() + 60
        while not any(p.stat().st_size > 1_000_000 for p in tmp_path.glob(".big.csv.*.part")):
            assert process.poll() is None and time.monotonic() < deadline, "no write started"
            time.sleep(0.05)
        process.send_signal(sig)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert (process.returncode, err) == (code, message)
    assert files(tmp_path) == []


def test_a_signal_ignored_at_start_stays_ignored(tmp_path):
    """``nohup clinicsim ...``: SIGHUP was ignored when clinicsim started, so it runs on."""
    def ignore_hangups():
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    process = clinicsim_process(tmp_path, "sample", "-n", "3000000", "--seed", "1",
                                "-o", "big.csv", preexec_fn=ignore_hangups)
    try:
        deadline = time.monotonic() + 60
        while not any(tmp_path.glob(".big.csv.*.part")):
            assert process.poll() is None and time.monotonic() < deadline, "no write started"
            time.sleep(0.02)
        process.send_signal(signal.SIGHUP)
        _, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert files(tmp_path) == ["big.csv"]


@pytest.mark.parametrize(("argv", "message"), [
    (["-o", "r.csv", "--report", "dir.md"], "cannot write report 'dir.md': it is a folder"),
    (["-o", "r.csv", "--report", "ro/r.md"], "cannot write report 'ro/r.md': folder 'ro' is "
                                             "not writable"),
    (["-o", "dir.csv", "--report", "r.md"], "output 'dir.csv': directory is not empty"),
    (["-o", "ro/r.csv", "--report", "r.md"], "cannot write output 'ro/r.csv': folder 'ro' "
                                             "is not writable"),
    (["--format", "fhir", "-o", "b.json", "--report", "./b.json"],
     "--report 'b.json' is the output file"),
])
def test_every_output_is_checked_before_any_is_written(capsys, tmp_path, monkeypatch, argv,
                                                       message):
    """Two outputs: a bad second one leaves the first as it was, not replaced."""
    if os.geteuid() == 0 and "ro/" in " ".join(argv):
        pytest.skip("root can write into a read-only folder")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.csv").write_text("old records\n")
    (tmp_path / "b.json").write_text("{}")
    (tmp_path / "dir.md").mkdir()
    (tmp_path / "dir.csv").mkdir()
    (tmp_path / "dir.csv" / "x").touch()
    (tmp_path / "ro").mkdir(mode=0o555)
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    code, _, err = run(capsys, "sample", "-n", "20", "--seed", "1", *argv)
    assert code == 2 and err.startswith(f"error: {message}") and err.count("\n") == 1
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before
    assert (tmp_path / "r.csv").read_text() == "old records\n"


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_a_file_size_limit_is_a_clean_error(tmp_path, suffix):
    """``ulimit -f``: the kernel would kill the process with SIGXFSZ; clinicsim ignores the
    signal, so the write fails with EFBIG and the partial file is removed."""
    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    process = clinicsim_process(tmp_path, "sample", "-n", "200000", "-o", f"r{suffix}",
                                preexec_fn=limit)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 2
    assert err.startswith(f"error: cannot write 'r{suffix}': ") and "File too large" in err
    assert len(err.splitlines()) == 1
    assert files(tmp_path) == []


@pytest.mark.parametrize("text", ["5.0", "1.0", "1.5e3", "5.", "0x10", "1e-3", " ", "1__0"])
def test_the_cli_refuses_what_python_refuses(capsys, text):
    # one rule: no decimal point on the command line, as no float in Python
    code, _, err = run(capsys, "sample", "-n", text)
    assert code == 2
    assert "is not a whole number" in err


@pytest.mark.parametrize("text", ["1e100", "1e101", "1e3999"])
def test_big_seeds_written_with_an_exponent_are_one_rule(capsys, text):
    code, out, err = run(capsys, "sample", "-n", "2", "--seed", text)
    assert code == 0, err
    assert out.startswith("patient_id,")
    code, _, err = run(capsys, "sample", "-n", "2", "--seed", "1e4000")
    assert code == 2
    assert "more than 4,000 digits" in err


def test_the_smallest_sample_passes_its_report(capsys, tmp_path, monkeypatch):
    # a difference-of-rates test divided by a zero standard error and failed it (issue 15)
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "sample", "-n", "2", "--seed", "1", "--report", "r.md")
    assert code == 0, err
    assert err.startswith("PASSED: 2 records") and "not tested" in err
    assert "| not tested |" in (tmp_path / "r.md").read_text()
