"""Atomic output: normal file modes, OSError named with the file, nothing left behind."""

import errno
import os
import stat

import pytest

import clinicsim
from clinicsim._io import atomic_dir, atomic_path


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
