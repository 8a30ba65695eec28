"""Files in and out: atomic output beside the target, and checks on an input file before reading."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

from ._errors import ClinicSimError
from ._validate import check_suffix

__all__ = ["RECORD_SUFFIXES", "Stopped", "atomic_dir", "atomic_path", "input_file",
           "output_file", "output_folder", "size_text", "stop"]

RECORD_SUFFIXES = (".csv", ".parquet", ".jsonl")  # records files, written and read


class Stopped(BaseException):
    """Ctrl-C, SIGTERM or a closed pipe on standard output, raised wherever the program
    is, so that partial output is removed.

    Not a KeyboardInterrupt: Typer turns that into a silent exit 130.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


_stopped: list[int] = []  # signals received: no output is completed after one


def stop(signum: int, frame: object = None) -> None:
    """A signal handler: raise :class:`Stopped`, and remember it, because an exception
    raised while a library's C code runs (pyarrow's compute kernels) can be lost there;
    :func:`atomic_path` and :func:`atomic_dir` then refuse to complete their output."""
    _stopped.append(signum)
    raise Stopped(signum)


def _commit_unless_stopped(tmp: Path, target: Path) -> None:
    if _stopped:
        raise Stopped(_stopped[-1])
    os.replace(tmp, target)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, what: str = "",
                error: type[ClinicSimError] = ClinicSimError) -> Iterator[Path]:
    """Yield a temporary path in ``path``'s folder; on success rename it to ``path``.

    On any exception (KeyboardInterrupt and SystemExit included) the temporary file is
    removed and ``path`` is left as it was, so a failed or interrupted run never leaves a
    partial file. An ``OSError`` (no space left, file too large, permission denied) becomes
    ``error("cannot write {what} 'path': reason")``. The file gets the mode a plain
    ``open(path, "w")`` would give it: an existing file's, else 0666 less the umask
    (``tempfile.mkstemp`` would make every output private, 0600).
    """
    target = Path(path)
    with _converted(target, what, error):
        tmp = _beside(target, lambda p: os.close(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                                                         0o666)))
        try:
            yield tmp
            with contextlib.suppress(FileNotFoundError):  # after writing: it may be read-only
                os.chmod(tmp, stat.S_IMODE(target.stat().st_mode))
            _commit_unless_stopped(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str], *, what: str = "",
               error: type[ClinicSimError] = ClinicSimError) -> Iterator[Path]:
    """:func:`atomic_path` for a folder: a temporary folder renamed to ``path`` when complete.

    ``path`` may exist as an empty folder; it is replaced.
    """
    target = Path(path)
    with _converted(target, what, error):
        tmp = _beside(target, lambda p: os.mkdir(p, 0o777))
        try:
            yield tmp
            if target.is_dir():
                target.rmdir()  # empty (checked by the caller); os.replace cannot replace a folder
            _commit_unless_stopped(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


@contextlib.contextmanager
def _converted(target: Path, what: str, error: type[ClinicSimError]) -> Iterator[None]:
    if not target.parent.is_dir():
        raise error(f"cannot write {what + ' ' if what else ''}{str(target)!r}: "
                    f"folder {str(target.parent)!r} does not exist")
    try:
        yield
    except OSError as exc:  # pyarrow's OSErrors carry no strerror, only a message
        raise error(f"cannot write {what + ' ' if what else ''}{str(target)!r}: "
                    f"{exc.strerror or exc}") from exc


def _beside(target: Path, create: Callable[[Path], None]) -> Path:
    """A new ``.NAME.RANDOM.part`` beside ``target``, made by ``create`` (which must fail if
    the name exists), so that the final rename never crosses a filesystem."""
    for _ in range(100):
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        try:
            create(tmp)
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(errno.EEXIST, "no unused temporary name", str(target))


def output_file(path: str | os.PathLike[str], what: str, kind: str,
                suffixes: tuple[str, ...]) -> Path:
    """``path`` if its suffix is one of ``suffixes`` (a ``kind`` format), it is not a
    folder or device, and its folder exists and is writable; else an error naming it as
    ``what``.

    Checked before any work starts, so a typo costs nothing, and before any output is
    written, so that a command with two outputs never replaces one and fails on the other.
    """
    path = check_suffix(path, what, kind, suffixes)
    if not path.parent.is_dir():
        raise ClinicSimError(f"{what} {str(path)!r}: folder {str(path.parent)!r} does not exist")
    # What would only fail at the final rename, after other outputs were written
    if path.is_dir():
        raise ClinicSimError(f"cannot write {what} {str(path)!r}: it is a folder")
    if path.exists() and not path.is_file():  # a device or pipe is never replaced by a file
        raise ClinicSimError(f"cannot write {what} {str(path)!r}: it is not a regular file")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise ClinicSimError(f"cannot write {what} {str(path)!r}: folder "
                             f"{str(path.parent)!r} is not writable")
    return path


def output_folder(path: str | os.PathLike[str]) -> Path:
    """``path`` as an output folder: a new name or an empty folder, in a folder that exists;
    else an error saying which (``-o good.csv/`` where ``good.csv`` is a file is no folder).
    """
    text = str(path)
    target = Path(path)
    if target.exists():
        if not target.is_dir():
            slash = " (it ends in /)" if text.endswith(("/", os.sep)) else ""
            kind = "a file" if target.is_file() else "not a folder"
            fix = f", or write -o {str(target)!r} to replace the file" if slash else ""
            raise ClinicSimError(f"output {text!r} names a folder{slash}, but {str(target)!r} "
                                 f"is {kind}; name a new or empty folder{fix}")
        if any(target.iterdir()):
            raise ClinicSimError(f"output {text!r}: directory is not empty; name a new or "
                                 "empty folder")
    if not target.parent.is_dir():
        raise ClinicSimError(f"output {text!r}: folder {str(target.parent)!r} does not exist")
    return target


def size_text(count: float) -> str:
    """A number of bytes as a person reads it.

    >>> size_text(512), size_text(1_234_567), size_text(3.2e13)
    ('512 bytes', '1.2 MB', '32.0 TB')
    """
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if count < 1000 or unit == "TB":
            return f"{count:,.0f} {unit}" if unit == "bytes" else f"{count:,.1f} {unit}"
        count /= 1000
    raise AssertionError("unreachable")


def input_file(path: str | os.PathLike[str], what: str, limit: int,
               error: type[ClinicSimError], hint: str = "") -> int:
    """Size in bytes of the regular file ``path``, or ``error`` naming it and the reason.

    Refused before anything is read: no such file, a folder, a pipe or device (which
    could block forever), a file larger than ``limit`` bytes (``hint`` says what to do).
    """
    name = str(path)
    try:
        info = os.stat(path)
    except OSError as exc:
        reason = "no such file" if exc.errno == errno.ENOENT else exc.strerror
        raise error(f"cannot read {what} {name!r}: {reason}") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise error(f"cannot read {what} {name!r}: it is {kind}")
    if info.st_size > limit:
        raise error(f"{what} {name!r} is {info.st_size / 2**20:,.1f} MiB; the limit is "
                    f"{limit / 2**20:,.0f} MiB{hint}")
    return info.st_size
