"""The ``clinicsim`` command: parses arguments and calls the public API, nothing more.

Exit status: 0 success (conformance passed), 1 conformance failed, 2 bad input, 130 Ctrl-C,
143 SIGTERM. Bad input prints one line ``error: <what and where>`` to standard error, without
a traceback (``clinicsim --debug ...`` shows it); no partial output file is left behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import pandas as pd
import typer

from ._errors import ClinicSimError
from .analysis import ConformanceReport, conformance_report
from .analysis._records import MAX_RECORDS_ROWS
from .analysis._report import check_report_path
from .model import ClinicModel, default_model, load_model
from .simulate import ENGINES, sample, write_sample

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Synthetic clinic visit records from a Bayesian network, with conformance reports.",
)
model_app = typer.Typer(no_args_is_help=True, help="Inspect, export and validate models.")
app.add_typer(model_app, name="model")
export_app = typer.Typer(no_args_is_help=True, help="Write records in other formats.")
app.add_typer(export_app, name="export")

_SHOWN_ERRORS = 10  # error lines printed; the rest are counted
_SHOWN_CHARS = 500  # of each error line
_debug = False  # --debug: set by the app's callback, read by main()


@app.callback()
def _options(debug: Annotated[bool, typer.Option(
        "--debug", help="Show the traceback of an error instead of one line.")] = False) -> None:
    global _debug
    _debug = debug


def _whole_number(minimum: int | None = None):
    """A parser of whole numbers that names the bad value: ``5000``, ``1_000_000``, ``1e6``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            try:
                number = Decimal(text.replace("_", ""))
            except InvalidOperation:
                number = Decimal("NaN")
            # 1e999999999 is whole, but would take minutes to turn into an int
            if not number.is_finite() or abs(number.adjusted()) > 100 \
                    or number != number.to_integral_value():
                raise typer.BadParameter(f"{text!r} is not a whole number") from None
            value = int(number)
        if minimum is not None and value < minimum:
            raise typer.BadParameter(f"must be at least {minimum}; got {value}")
        return value
    return parse


ModelOption = Annotated[
    Optional[Path],
    typer.Option("--model", "-m", help="Model file (.yaml/.json/.bif/.xmlbif) or preset name."),
]


def _model(path: Path | None) -> ClinicModel:
    return default_model() if path is None else load_model(path)


@app.command("sample")
def sample_command(
    n: Annotated[int, typer.Option("-n", "--n", parser=_whole_number(), metavar="N",
                                   help="Number of records (1e6 is fine).")] = 5000,
    seed: Annotated[Optional[int], typer.Option(
        parser=_whole_number(minimum=0), metavar="S",
        help="Seed (an integer >= 0); the same seed gives the same records.")] = None,
    output: Annotated[Optional[str], typer.Option(
        "-o", "--output", help="Output file: .csv, .parquet or .jsonl (CSV to stdout if omitted); "
        "DIR/ for partitioned Parquet.")] = None,
    model: ModelOption = None,
    engine: Annotated[str, typer.Option(help=f"Sampling engine: {' or '.join(ENGINES)}.")] = "numpy",
    extended: Annotated[bool, typer.Option(
        "--extended", help="Add age_group, diagnosis_code, diagnosis_category, follow_up_date.")] = False,
    chunk_size: Annotated[Optional[int], typer.Option(
        parser=_whole_number(), metavar="N", help="Rows made and written at a time (memory is "
        "bounded by it); output is the same whatever the size.")] = None,
    workers: Annotated[Optional[int], typer.Option(
        parser=_whole_number(), metavar="N",
        help="Sample on N local Dask worker processes (needs clinicsim[dask]).")] = None,
    scheduler: Annotated[Optional[str], typer.Option(
        help="Sample on the Dask cluster whose scheduler is at ADDRESS.")] = None,
    report: Annotated[Optional[Path], typer.Option(
        help="Also check the records and write a conformance report (.html, .md, .json); "
             "exit 1 if it fails.")] = None,
    format: Annotated[Optional[str], typer.Option(
        "--format", help="fhir: FHIR R4 Bulk Data NDJSON (-o DIR/) or a transaction Bundle "
        "(-o FILE.json); follow-up dates included, as with --extended.")] = None,
) -> int:
    """Generate N synthetic patient visit records."""
    if report is not None:
        check_report_path(report)
        if n > MAX_RECORDS_ROWS:
            raise ClinicSimError(f"--report checks the whole table in memory: at most "
                                 f"{MAX_RECORDS_ROWS:,} records; got -n {n:,} (sample fewer "
                                 "rows, or leave out --report)")
    _not_an_input(report, model=model)  # both may be .json
    m = _model(model)
    root = np.random.SeedSequence(seed)  # one stream for the file and for the report
    if format is not None:
        if format != "fhir" or output is None:
            raise ClinicSimError(f"--format must be 'fhir', with -o DIR/ or -o FILE.json; "
                                 f"got --format {format!r}" + (" without -o" if output is None
                                                               else ""))
        from .fhir._export import sample_fhir

        rows = sample_fhir(output, n, model=m, seed=root, engine=engine, chunk_size=chunk_size,
                           workers=workers, scheduler=scheduler)
    else:
        rows = write_sample(output, n, model=m, seed=root, engine=engine, extended=extended,
                            chunk_size=chunk_size, workers=workers, scheduler=scheduler)
    if output is not None:
        typer.echo(f"wrote {rows:,} records to {output}", err=True)
    if report is None:
        return 0
    # The report needs the whole table in memory; it is made again from the same seed.
    records = sample(n, model=m, seed=root, engine=engine, extended=extended)
    return _report(conformance_report(records, m), report, err=True)  # stdout may hold the CSV


@app.command("report")
def report_command(
    records: Annotated[Path, typer.Argument(
        help="Records file (.csv, .parquet or .jsonl) or a FHIR NDJSON folder.")],
    model: ModelOption = None,
    output: Annotated[Optional[Path], typer.Option(
        "-o", "--output", help="Report file: .html, .md or .json.")] = None,
    alpha: Annotated[float, typer.Option(help="Family-wise significance level.")] = 0.01,
    realism: Annotated[bool, typer.Option(
        "--realism", help="Add the model against its published sources (NAMCS, ILINet).")] = False,
) -> int:
    """Check a records table against the model's targets and CPDs; exit 1 if it fails."""
    if output is not None:
        check_report_path(output)
    _not_an_input(output, records=records, model=model)
    m = _model(model)
    if (records / "Patient.ndjson").is_file():  # a FHIR export folder
        from .fhir import read_records

        table = read_records(records, m)
        report = conformance_report(table, m, alpha=alpha, realism=realism)
    else:
        report = conformance_report(records, m, alpha=alpha, realism=realism)
    return _report(report, output)


def _not_an_input(output: str | Path | None, **inputs: Path | None) -> None:
    """Refuse an output that would overwrite one of the inputs (same file, by any path)."""
    for what, source in inputs.items():
        if output is None or source is None:
            continue
        with contextlib.suppress(OSError):  # either does not exist: they are not the same file
            if os.path.samefile(output, source):
                raise ClinicSimError(f"output {str(output)!r} is the {what} file "
                                     f"{str(source)!r}; write to another file")


def _report(report: ConformanceReport, output: Path | None, err: bool = False) -> int:
    typer.echo(report.summary(), err=err)
    if output is not None:
        report.save(output)
        typer.echo(f"wrote report to {output}", err=True)
    return 0 if report.passed else 1


@export_app.command("fhir")
def export_fhir(
    records: Annotated[Path, typer.Argument(help="Records file: .csv, .parquet or .jsonl.")],
    output: Annotated[str, typer.Option(
        "-o", "--output", help="DIR/ for FHIR Bulk Data NDJSON, FILE.json for a transaction "
        "Bundle.")],
    model: ModelOption = None,
    seed: Annotated[Optional[int], typer.Option(
        parser=_whole_number(minimum=0), metavar="S",
        help="Seed of the birth dates; the records' own seed gives sample --format fhir's "
             "bytes.")] = None,
) -> None:
    """Write a records file as FHIR R4 resources."""
    from .fhir import write

    _not_an_input(output, records=records, model=model)
    rows = write(output, records, _model(model), seed=np.random.SeedSequence(seed))
    typer.echo(f"wrote {rows:,} records as FHIR to {output}", err=True)


@model_app.command("show")
def model_show(
    node: Annotated[Optional[str], typer.Argument(help="Node whose CPD to print.")] = None,
    model: ModelOption = None,
) -> None:
    """Print the network's nodes, or one node's CPD (one row per parent combination)."""
    m = _model(model)
    with pd.option_context("display.width", 250, "display.max_columns", None,
                           "display.max_rows", None, "display.float_format", "{:.4f}".format):
        if node is None:
            typer.echo(f"{m.name}: {m.description}")
            for name in m.nodes:
                parents = ", ".join(m.parents(name)) or "-"
                typer.echo(f"  {name:<12} parents: {parents:<24} states: {', '.join(m.states(name))}")
            return
        table = m.cpd(node)
        typer.echo(f"P({node} | {', '.join(m.parents(node)) or '-'}); exact marginal in the last row")
        shown = table.T
        shown.loc["marginal" if len(m.parents(node)) < 2 else ("marginal",) * len(m.parents(node)),
                  :] = m.marginal(node)
        typer.echo(shown.to_string())


@model_app.command("export")
def model_export(
    output: Annotated[Path, typer.Option("-o", "--output", help=".yaml/.yml/.json/.bif/.xmlbif")],
    model: ModelOption = None,
) -> None:
    """Write a model (the default if --model is omitted) to a file."""
    _not_an_input(output, model=model)
    _model(model).save(output)
    typer.echo(f"wrote {output}", err=True)


@model_app.command("validate")
def model_validate(file: Annotated[Path, typer.Argument(help="Model file to check.")]) -> None:
    """Check a model file; list every problem found."""
    m = load_model(file)
    typer.echo(f"ok: {file} is a valid model ({len(m.nodes)} nodes: {', '.join(m.nodes)})")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning bad input into ``error: ...`` and exit 2.

    Ctrl-C (exit 130) and SIGTERM (exit 143) end the run with one line too, through an
    exception that removes any half-written output file on its way up.
    """
    global _debug
    _debug = False
    with _signals():
        try:
            code = app(args=argv, standalone_mode=False, prog_name="clinicsim")
        except typer.TyperException as exc:  # usage errors from Typer's bundled click
            _fail([exc.format_message()])
        except ClinicSimError as exc:
            _fail(exc.errors)
        except _Stopped as exc:
            what = "interrupted" if exc.signum == signal.SIGINT else "terminated"
            _fail([f"{what}; no output file was left behind"], code=128 + exc.signum)
        except (KeyboardInterrupt, typer.Abort):  # Abort: end of input (EOFError)
            _fail(["interrupted; no output file was left behind"], code=130)
        except BrokenPipeError:
            sys.stderr.close()  # `clinicsim sample | head`: the reader left, nothing to report
            sys.exit(0)
    sys.exit(code if isinstance(code, int) else 0)


class _Stopped(BaseException):
    """Ctrl-C or SIGTERM, raised wherever the program is, so that partial output is removed.

    Not a KeyboardInterrupt: Typer turns that into a silent exit 130.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop(signum: int, frame: object) -> None:
    raise _Stopped(signum)


@contextlib.contextmanager
def _signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`_Stopped`; SIGXFSZ (``ulimit -f`` reached) is
    ignored, so the write fails with "File too large" instead of the process dying."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set in the main thread
        return
    wanted = {signal.SIGINT: _stop, signal.SIGTERM: _stop}
    if hasattr(signal, "SIGXFSZ"):
        wanted[signal.SIGXFSZ] = signal.SIG_IGN
    before = {sig: signal.signal(sig, handler) for sig, handler in wanted.items()}
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def _fail(lines: list[str], code: int = 2) -> None:
    """Print the first few ``lines`` as ``error: ...`` (the traceback with --debug); exit."""
    if _debug:
        traceback.print_exc()
        sys.exit(code)
    lines = [line for line in lines if line]  # empty when Typer has just printed the help
    for line in lines[:_SHOWN_ERRORS]:
        if len(line) > _SHOWN_CHARS:
            line = line[:_SHOWN_CHARS - 3] + "..."
        print(f"error: {line}", file=sys.stderr)
    if len(lines) > _SHOWN_ERRORS:
        print(f"error: ... and {len(lines) - _SHOWN_ERRORS:,} more", file=sys.stderr)
    sys.exit(code)
