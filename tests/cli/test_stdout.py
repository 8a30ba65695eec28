"""Standard output is an output like any other: a full disk, a closed pipe, a closed fd."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")


def clinicsim(*argv, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "clinicsim", *argv], check=False,
                          stderr=subprocess.PIPE, text=True, timeout=300, **kwargs)


@pytest.mark.parametrize("argv", [["sample", "-n", "1000", "--seed", "1"],
                                  ["model", "show"]])
def test_a_full_disk_is_an_error(argv):
    with open("/dev/full", "w") as full:
        done = clinicsim(*argv, stdout=full)
    assert (done.returncode, done.stderr) == (
        2, "error: cannot write standard output: No space left on device\n")


def test_a_full_disk_under_a_report_is_an_error(tmp_path):
    records = tmp_path / "r.parquet"
    assert clinicsim("sample", "-n", "500", "--seed", "2", "-o", str(records)).returncode == 0
    with open("/dev/full", "w") as full:
        done = clinicsim("report", str(records), stdout=full)
    assert (done.returncode, done.stderr) == (
        2, "error: cannot write standard output: No space left on device\n")


def test_a_reader_that_leaves_ends_the_run_quietly():
    """`clinicsim sample | head -1`: status 141 (128 + SIGPIPE), as `yes | head` gives."""
    process = subprocess.Popen([sys.executable, "-m", "clinicsim", "sample", "-n", "300000",
                                "--seed", "3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline().startswith(b"patient_id,")
    process.stdout.close()
    _, err = process.communicate(timeout=300)
    assert (process.returncode, err) == (141, b"")


def test_a_closed_standard_output_is_not_success(tmp_path):
    done = clinicsim("sample", "-n", "30", "--seed", "4", stdout=subprocess.DEVNULL,
                     preexec_fn=lambda: os.close(1))
    assert (done.returncode, done.stderr) == (
        2, "error: cannot write standard output: it is closed\n")
    # ... while a run that writes nothing there succeeds
    done = clinicsim("sample", "-n", "30", "--seed", "4", "-o", str(tmp_path / "r.csv"),
                     stdout=subprocess.DEVNULL, preexec_fn=lambda: os.close(1))
    assert done.returncode == 0 and (tmp_path / "r.csv").exists()


def test_piped_records_are_the_file_bytes(tmp_path):
    path = tmp_path / "r.csv"
    assert clinicsim("sample", "-n", "70000", "--seed", "5", "-o", str(path)).returncode == 0
    done = clinicsim("sample", "-n", "70000", "--seed", "5", stdout=subprocess.PIPE)
    assert done.returncode == 0 and done.stdout == path.read_text()
