"""Files in and out: atomic output beside the target, and checks on names before any work.

An output is written under a temporary name in its folder and renamed when complete
(:func:`atomic_path`, :func:`atomic_dir`); inside :func:`outputs_together` (the command
line's every run) the renames wait for the end of the run and happen together. A symbolic
link given as an output is followed, as ``open`` follows it: what it points to is written
and the link stays. Names are checked against the filesystem's limits (:func:`check_name`)
and outputs against inputs (:func:`check_outputs`) before any work starts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import secrets
import shutil
import signal
import stat
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from ._errors import ClinicSimError
from ._validate import check_suffix

__all__ = ["DATABASE_SUFFIXES", "NAME_MAX", "PATH_MAX", "RECORD_SUFFIXES", "Run", "Stopped",
           "atomic_dir", "atomic_path", "check_name", "check_outputs", "deferred_stop",
           "input_file", "output_file", "output_folder", "outputs_together", "shown_path",
           "size_text", "stop"]

RECORD_SUFFIXES = (".csv", ".parquet", ".jsonl")  # records files, written and read
# Database files, written and read (clinicsim.db); ``.db`` is left out: DuckDB and SQLite
# both use it, and a file's suffix must say which engine it is for.
DATABASE_SUFFIXES = (".duckdb", ".sqlite", ".sqlite3")


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
    if not _deferring:
        raise Stopped(signum)


_deferring: list[bool] = []  # inside deferred_stop(): a signal is remembered, not raised


@contextlib.contextmanager
def deferred_stop() -> Iterator[None]:
    """A signal that arrives inside is raised as :class:`Stopped` at the end, once the
    block is done: for work that leaks when cut halfway (a local Dask cluster starting
    its worker processes is never shut down if the start is interrupted)."""
    before = len(_stopped)
    _deferring.append(True)
    try:
        yield
    finally:
        _deferring.pop()
    if len(_stopped) > before:
        raise Stopped(_stopped[-1])


def _commit_unless_stopped(tmp: Path, target: Path) -> None:
    if _stopped:
        raise Stopped(_stopped[-1])
    if tmp.is_dir() and target.is_dir():
        target.rmdir()  # empty (checked by the caller); os.replace cannot replace a folder
    os.replace(tmp, target)


@dataclasses.dataclass(frozen=True)
class _Pending:
    """An output complete under its temporary name, renamed when its run ends."""

    tmp: Path
    target: Path
    shown: Path  # the name the user gave (``target`` is where links lead)
    what: str
    error: type[ClinicSimError]


class Run:
    """The outputs of one run (:func:`outputs_together`): ``done`` lists those renamed
    to their names, so a message can say what was written before a signal."""

    def __init__(self) -> None:
        self.pending: list[_Pending] = []
        self.done: list[Path] = []


_runs: list[Run] = []  # open runs, innermost last


@contextlib.contextmanager
def outputs_together() -> Iterator[Run]:
    """Every output that :func:`atomic_path` and :func:`atomic_dir` complete inside is kept
    under its temporary name until the block ends, then all are renamed together (with
    signals held off between the renames); on any exception none is, and every temporary
    is removed. A command with two outputs (records and a report, say) that fails or is
    stopped in its last phase so leaves every existing file as it was."""
    run = Run()
    _runs.append(run)
    try:
        yield run
        with _signals_held():
            for item in run.pending:
                with _converted(item.shown, item.what, item.error, check_folder=False):
                    _commit_unless_stopped(item.tmp, item.target)
                run.done.append(item.shown)
    finally:
        _runs.remove(run)
        for item in run.pending[len(run.done):]:
            _remove(item.tmp)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Signals arrive after the block (renames are quick), not between two renames."""
    block = getattr(signal, "pthread_sigmask", None)
    if block is None:  # Windows
        yield
        return
    before = block(signal.SIG_BLOCK, signal.valid_signals())
    try:
        yield
    finally:
        block(signal.SIG_SETMASK, before)


def _remove(tmp: Path) -> None:
    if tmp.is_dir() and not tmp.is_symlink():
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        tmp.unlink(missing_ok=True)


def _finish(tmp: Path, target: Path, shown: Path, what: str,
            error: type[ClinicSimError]) -> None:
    """Rename ``tmp`` to ``target`` now, or at the end of the open run."""
    if _runs:
        _runs[-1].pending.append(_Pending(tmp, target, shown, what, error))
    else:
        _commit_unless_stopped(tmp, target)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, what: str = "",
                error: type[ClinicSimError] = ClinicSimError) -> Iterator[Path]:
    """Yield a temporary path in ``path``'s folder; on success rename it to ``path``
    (at the end of the run, inside :func:`outputs_together`).

    On any exception (KeyboardInterrupt and SystemExit included) the temporary file is
    removed and ``path`` is left as it was, so a failed or interrupted run never leaves a
    partial file. An ``OSError`` (no space left, file too large, permission denied) becomes
    ``error("cannot write {what} 'path': reason")``. The file gets the mode a plain
    ``open(path, "w")`` would give it: an existing file's, else 0666 less the umask
    (``tempfile.mkstemp`` would make every output private, 0600). A symbolic link is
    followed, as ``open`` follows it: the file it points to is written, the link stays.
    """
    shown = Path(path)
    with _converted(shown, what, error):
        target = _followed(shown)
        tmp = _beside(target, lambda p: os.close(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                                                         0o666)))
        try:
            yield tmp
            with contextlib.suppress(FileNotFoundError):  # after writing: it may be read-only
                os.chmod(tmp, stat.S_IMODE(target.stat().st_mode))
            _finish(tmp, target, shown, what, error)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str], *, what: str = "",
               error: type[ClinicSimError] = ClinicSimError) -> Iterator[Path]:
    """:func:`atomic_path` for a folder: a temporary folder renamed to ``path`` when complete.

    ``path`` may exist as an empty folder, or a symbolic link to one; it is replaced (the
    link stays, and leads to the new folder).
    """
    shown = Path(path)
    with _converted(shown, what, error):
        target = _followed(shown)
        tmp = _beside(target, lambda p: os.mkdir(p, 0o777))
        try:
            yield tmp
            _finish(tmp, target, shown, what, error)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def _followed(path: Path) -> Path:
    """Where ``path`` leads if it is a symbolic link (to a file, a folder, or nothing yet)."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


@contextlib.contextmanager
def _converted(target: Path, what: str, error: type[ClinicSimError],
               check_folder: bool = True) -> Iterator[None]:
    named = f"{what + ' ' if what else ''}{shown_path(target)!r}"
    if check_folder:
        check_name(target, what or "output", error)
        folder = _followed(target).parent
        if not folder.is_dir():
            raise error(f"cannot write {named}: folder {str(folder)!r} "
                        + ("is not a folder" if folder.exists() else "does not exist"))
    try:
        yield
    except OSError as exc:  # pyarrow's OSErrors carry no strerror, only a message
        raise error(f"cannot write {named}: {exc.strerror or exc}") from exc


def _beside(target: Path, create: Callable[[Path], None]) -> Path:
    """A new ``.NAME.RANDOM.part`` beside ``target``, made by ``create`` (which must fail if
    the name exists), so that the final rename never crosses a filesystem. A name too long
    for that (a legal name of 241 to 255 bytes) gets ``.clinicsim-RANDOM.part``."""
    for _ in range(100):
        token = secrets.token_hex(4)
        name = f".{target.name}.{token}.part"
        if len(os.fsencode(name)) > NAME_MAX:
            name = f".clinicsim-{token}.part"
        tmp = target.with_name(name)
        try:
            create(tmp)
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(errno.EEXIST, "no unused temporary name", str(target))


NAME_MAX = 255  # bytes in one file name: Linux, macOS and Windows filesystems alike
PATH_MAX = 4095  # bytes in a whole path (Linux's PATH_MAX, 4096, counts the NUL)


def shown_path(path: str | os.PathLike[str]) -> str:
    """``path`` as a message shows it: cut in the middle when it is very long."""
    text = str(path)
    return text if len(text) <= 120 else f"{text[:58]}...{text[-58:]}"


def check_name(path: str | os.PathLike[str], what: str,
               error: type[ClinicSimError] = ClinicSimError) -> Path:
    """``path`` if the filesystem can name it: no part longer than :data:`NAME_MAX` bytes,
    the whole no longer than :data:`PATH_MAX` (else the OS says only "File name too long")."""
    raw = os.fsencode(path)
    name = f"{what} {shown_path(path)!r}"
    if len(raw) > PATH_MAX:
        raise error(f"{name}: path too long ({len(raw):,} bytes; at most {PATH_MAX:,})")
    longest = max(raw.split(os.sep.encode()), key=len)
    if len(longest) > NAME_MAX:
        raise error(f"{name}: file name too long ({len(longest):,} bytes; at most {NAME_MAX})")
    return Path(path)


def check_outputs(outputs: Mapping[str, str | os.PathLike[str] | None],
                  inputs: Mapping[str, str | os.PathLike[str] | None]) -> None:
    """Refuse an output that is one of the ``inputs`` or another output: the same file or
    folder by any path (``./m.json``, a symbolic link, a hard link). Keys name them in
    the message (``"output"``, ``"--report"``; ``"model file"``).

    Checked before any work: every command and every writer of several paths calls it.
    """
    named = [(what, Path(p)) for what, p in outputs.items() if p is not None]
    sources = [(what, Path(p)) for what, p in inputs.items() if p is not None]
    for i, (what, path) in enumerate(named):
        check_name(path, what)
        for source_what, source in sources:
            if _same(path, source):
                raise ClinicSimError(f"{what} {shown_path(path)!r} is the {source_what} "
                                     f"{shown_path(source)!r}; write to another file")
        for other_what, other in named[:i]:
            if _same(path, other):
                raise ClinicSimError(f"{what} {shown_path(path)!r} is the {other_what} file "
                                     f"{shown_path(other)!r}; write them to two files")


def _same(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` are one file: the same inode, or (not yet existing) the
    same place once links are followed."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one does not exist (yet)
        pass
    try:
        return os.path.realpath(a).rstrip(os.sep) == os.path.realpath(b).rstrip(os.sep)
    except (OSError, ValueError):
        return False


def output_folder(path: str | os.PathLike[str], what: str = "output") -> Path:
    """``path`` if a folder can be written there: it does not exist or is an empty folder
    (or a symbolic link to one), and its parent folder exists and is writable. Checked
    before any work starts (``-o good.csv/`` where ``good.csv`` is a file is no folder)."""
    text = str(path)
    path = check_name(path, what)
    shown = f"{what} {shown_path(text)!r}"
    target = _followed(path)
    if target.exists() and not target.is_dir():
        slash = " (it ends in /)" if text.endswith(("/", os.sep)) else ""
        kind = "a file" if target.is_file() else "not a folder"
        fix = f", or write -o {shown_path(path)!r} to replace the file" \
            if slash and target.is_file() else ""
        raise ClinicSimError(f"{shown} names a folder{slash}, but {shown_path(path)!r} is "
                             f"{kind}; name a new or empty folder{fix}")
    if target.is_dir() and any(target.iterdir()):
        raise ClinicSimError(f"{shown}: directory is not empty; name a new or empty folder")
    _writable_folder(target.parent, shown)
    return path


def output_file(path: str | os.PathLike[str], what: str, kind: str,
                suffixes: tuple[str, ...]) -> Path:
    """``path`` if its suffix is one of ``suffixes`` (a ``kind`` format), it is not a
    folder or device, and its folder exists and is writable; else an error naming it as
    ``what``.

    Checked before any work starts, so a typo costs nothing, and before any output is
    written, so that a command with two outputs never replaces one and fails on the other.
    """
    path = check_name(check_suffix(path, what, kind, suffixes), what)
    target = _followed(path)
    shown = f"{what} {shown_path(path)!r}"
    _writable_folder(target.parent, shown)
    # What would only fail at the final rename, after other outputs were written
    if target.is_dir():
        raise ClinicSimError(f"cannot write {shown}: it is a folder")
    if target.exists() and not target.is_file():  # a device or pipe is never replaced
        raise ClinicSimError(f"cannot write {shown}: it is not a regular file")
    return path


def _writable_folder(folder: Path, shown: str) -> None:
    if not folder.is_dir():
        raise ClinicSimError(f"{shown}: folder {str(folder)!r} "
                             + ("is not a folder" if folder.exists() else "does not exist"))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ClinicSimError(f"cannot write {shown}: folder {str(folder)!r} is not writable")


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
    name = shown_path(path)
    check_name(path, what, error)
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
