"""Atomic output: normal file modes, OSError named with the file, nothing left behind."""

import errno
import os
import re
import stat

import pytest

import clinicsim
import clinicsim.fhir
import clinicsim.simulate
from clinicsim import _io
from clinicsim._io import (
    NAME_MAX,
    atomic_dir,
    atomic_path,
    check_name,
    check_outputs,
    outputs_together,
)


@pytest.fixture
def umask():
    """Set the process umask for one test, restoring it afterwards."""
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_file_gets_0666_less_umask(tmp_path, umask, mask, expected):
    umask(mask)
    with atomic_path(tmp_path / "r.csv") as tmp:
        assert mode(tmp) == expected  # already while it is written
        tmp.write_text("x")
    assert mode(tmp_path / "r.csv") == expected
    with atomic_dir(tmp_path / "parts") as tmp:
        (tmp / "part.0.parquet").write_text("x")
    assert mode(tmp_path / "parts") == 0o777 & ~mask


def test_overwritten_file_keeps_its_mode(tmp_path, umask):
    path = tmp_path / "r.csv"
    path.write_text("old")
    path.chmod(0o440)  # read-only for its owner: the temporary is still writable
    with atomic_path(path) as tmp:
        tmp.write_text("new")
    assert path.read_text() == "new" and mode(path) == 0o440


@pytest.mark.parametrize(("err", "message"), [(errno.ENOSPC, "No space left on device"),
                                              (errno.EFBIG, "File too large"),
                                              (errno.EACCES, "Permission denied")])
def test_os_error_while_writing_names_the_file_and_leaves_nothing(tmp_path, err, message):
    with pytest.raises(clinicsim.ClinicSimError) as info:
        with atomic_path(tmp_path / "r.csv") as tmp:
            tmp.write_text("partial")
            raise OSError(err, os.strerror(err))
    assert str(info.value) == f"cannot write {str(tmp_path / 'r.csv')!r}: {message}"
    assert list(tmp_path.iterdir()) == []


def test_os_error_without_strerror_keeps_its_message(tmp_path):
    with pytest.raises(clinicsim.ModelError, match=r"cannot write model file .*: disk on fire$"):
        with atomic_path(tmp_path / "m.yaml", what="model file", error=clinicsim.ModelError):
            raise OSError("disk on fire")  # as pyarrow raises them
    assert list(tmp_path.iterdir()) == []


def test_failed_rename_and_interrupt_leave_nothing(tmp_path, monkeypatch):
    for exc in (KeyboardInterrupt, SystemExit):
        with pytest.raises(exc):
            with atomic_dir(tmp_path / "parts") as tmp:
                (tmp / "part.0.parquet").write_text("x")
                raise exc
    with monkeypatch.context() as patch:
        patch.setattr("os.replace", lambda *a: (_ for _ in ()).throw(PermissionError(13, "no")))
        with pytest.raises(clinicsim.ClinicSimError, match="r.csv': no$"):
            with atomic_path(tmp_path / "r.csv") as tmp:
                tmp.write_text("x")
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_is_refused_before_anything_is_made(tmp_path):
    with pytest.raises(clinicsim.ClinicSimError, match="folder .*nope' does not exist"):
        with atomic_path(tmp_path / "nope" / "r.csv"):
            pytest.fail("the body must not run")


# -- outputs of one run, together; links; names -----------------------------------------

def test_outputs_of_one_run_appear_together_or_not_at_all(tmp_path):
    (tmp_path / "r.csv").write_text("old")
    with pytest.raises(RuntimeError):
        with outputs_together() as run:
            with atomic_path(tmp_path / "r.csv") as tmp:
                tmp.write_text("new")
            assert (tmp_path / "r.csv").read_text() == "old"  # held until the run ends
            raise RuntimeError("the report phase failed")
    assert run.done == [] and sorted(p.name for p in tmp_path.iterdir()) == ["r.csv"]
    assert (tmp_path / "r.csv").read_text() == "old"
    with outputs_together() as run:
        with atomic_path(tmp_path / "r.csv") as tmp:
            tmp.write_text("new")
        with atomic_dir(tmp_path / "fhir") as tmp:
            (tmp / "Patient.ndjson").write_text("{}\n")
    assert run.done == [tmp_path / "r.csv", tmp_path / "fhir"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fhir", "r.csv"]


def test_a_signal_received_earlier_stops_the_renames(tmp_path, monkeypatch):
    monkeypatch.setattr(_io, "_stopped", [15])
    with pytest.raises(_io.Stopped):
        with outputs_together() as run:
            with atomic_path(tmp_path / "r.csv") as tmp:
                tmp.write_text("new")
    assert run.done == [] and list(tmp_path.iterdir()) == []


def test_a_link_is_written_through_and_stays(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real.csv").write_text("old")
    os.symlink("real.csv", tmp_path / "link.csv")
    os.symlink("real", tmp_path / "folder")
    with atomic_path(tmp_path / "link.csv") as tmp:
        tmp.write_text("new")
    with atomic_dir(tmp_path / "folder") as tmp:
        (tmp / "part.0.parquet").write_text("x")
    assert os.readlink(tmp_path / "link.csv") == "real.csv"
    assert (tmp_path / "real.csv").read_text() == "new"
    assert os.readlink(tmp_path / "folder") == "real"
    assert os.listdir(tmp_path / "real") == ["part.0.parquet"]


@pytest.mark.parametrize("length", [240, 241, 250, 255])
def test_a_legal_long_name_gets_a_short_temporary_name(tmp_path, length):
    path = tmp_path / ("n" * (length - 4) + ".csv")
    with atomic_path(path) as tmp:
        assert len(tmp.name.encode()) <= NAME_MAX and tmp.name.startswith(".")
        tmp.write_text("x")
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


@pytest.mark.parametrize(("path", "message"), [
    ("a" * 256, "file name too long (256 bytes; at most 255)"),
    ("d/" + "é" * 128 + "/r.csv", "file name too long (256 bytes; at most 255)"),
    ("d/" * 2048 + "r.csv", "path too long (4,101 bytes; at most 4,095)"),
])
def test_names_the_filesystem_cannot_hold_are_refused(path, message):
    with pytest.raises(clinicsim.ClinicSimError, match=re.escape(message)) as info:
        check_name(path, "output")
    assert str(info.value).startswith("output '") and len(str(info.value)) < 200


def test_an_output_is_never_an_input_by_any_path(tmp_path):
    (tmp_path / "m.json").write_text("{}")
    os.link(tmp_path / "m.json", tmp_path / "hard.json")
    os.symlink("m.json", tmp_path / "sym.json")
    for alias in ("m.json", "hard.json", "sym.json", "./sub/../m.json"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        with pytest.raises(clinicsim.ClinicSimError, match="is the model file"):
            check_outputs({"output": tmp_path / alias}, {"model file": tmp_path / "m.json"})
    with pytest.raises(clinicsim.ClinicSimError, match="--report .* is the output file"):
        check_outputs({"output": tmp_path / "new.json", "--report": tmp_path / "./new.json"},
                      {})
    check_outputs({"output": tmp_path / "new.json"}, {"model file": tmp_path / "m.json"})


@pytest.mark.parametrize("write", [
    lambda p: clinicsim.simulate.write_sample(p + ".csv", 5, seed=1),
    lambda p: clinicsim.default_model().save(p + ".yaml"),
    lambda p: clinicsim.fhir.write(p + "/", clinicsim.sample(3, seed=1)),
    lambda p: clinicsim.fhir.read_records(p),
    lambda p: clinicsim.load_model(p + ".json"),
    lambda p: clinicsim.conformance_report(p + ".csv"),
])
def test_python_writers_and_readers_refuse_long_names(tmp_path, write):
    with pytest.raises(clinicsim.ClinicSimError, match=r"too long \(\d+ bytes; at most 255\)"):
        write(str(tmp_path / ("a" * 300)))
    assert list(tmp_path.iterdir()) == []


def test_fhir_write_never_replaces_its_records_file(tmp_path):
    clinicsim.sample(3, seed=1).to_csv(tmp_path / "r.csv", index=False)
    os.symlink("r.csv", tmp_path / "r.json")
    before = (tmp_path / "r.csv").read_bytes()
    with pytest.raises(clinicsim.ClinicSimError, match="is the records file"):
        clinicsim.fhir.write(tmp_path / "r.json", tmp_path / "r.csv")
    assert (tmp_path / "r.csv").read_bytes() == before


@pytest.mark.parametrize("write", [
    lambda out, m: clinicsim.fhir.sample_fhir(out, 5, model=m),
    lambda out, m: clinicsim.fhir.write(out, clinicsim.sample(3, seed=1), model=m),
    lambda out, m: clinicsim.simulate.write_sample(out + "/", 5, model=m),
])
def test_python_writers_never_replace_the_model_file_they_read(tmp_path, write):
    clinicsim.default_model().save(tmp_path / "m.json")
    before = (tmp_path / "m.json").read_bytes()
    os.symlink("m.json", tmp_path / "link.json")
    for out in ("m.json", "link.json"):
        with pytest.raises(clinicsim.ClinicSimError, match="is the model file|names a folder"):
            write(str(tmp_path / out), str(tmp_path / "m.json"))
    assert (tmp_path / "m.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "m.json"]
