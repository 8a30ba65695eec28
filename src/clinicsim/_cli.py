"""The ``clinicsim`` command: parses arguments and calls the public API, nothing more.

Exit status: 0 success (conformance passed), 1 conformance failed, 2 bad input, 130 Ctrl-C,
143 SIGTERM, 141 when the reader of standard output has gone (``clinicsim sample | head``,
quietly, as a program ended by SIGPIPE). Bad input prints one line ``error: <what and
where>`` to standard error, without a traceback (``clinicsim --debug ...`` shows it); no
partial output file is left behind. Standard output is an output like any other: a full
disk or a closed standard output is an error (exit 2), never a silent success.

Every command's file names go through one check before any work (:func:`_files`): each
fits the filesystem (255 bytes a name), and no output is an input or another output by
any path, links included. The outputs of one run are renamed to their names together
when the command has succeeded (``_io.outputs_together``), so a failure or a signal in
its last phase (the report of ``sample -o r.csv --report r.html``) leaves every existing
file as it was; ``wrote ...`` is printed only then.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import shutil
import signal
import sys
import textwrap
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ._errors import ArgumentError, ClinicSimError
from ._io import (
    DATABASE_SUFFIXES,
    RECORD_SUFFIXES,
    Run,
    Stopped,
    check_name,
    check_outputs,
    output_file,
    outputs_together,
    stop,
)
from ._random import as_seed_sequence
from .model import (
    MAX_CHUNK_ROWS,
    MAX_CHUNKS,
    MODEL_SUFFIXES,
    PRESETS,
    WORKERS_PER_CORE,
    ClinicModel,
    check_keep,
    cpd_changes,
    default_model,
    describe_value,
    exact_value,
    is_met,
    load_model,
    parse_keep,
)
from .simulate import CHUNK_ROWS, ENGINES, sample, write_sample

if TYPE_CHECKING:
    import pandas as pd

    from .analysis import ConformanceReport


def _examples(*lines: str) -> str:
    """An epilog of example command lines, kept as written (``\\b``: click does not rewrap)."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


# Help is plain text, not Rich markup: with markup, "clinicsim[dask]" lost its "[dask]" as
# a style tag, and flags were listed as taking a "<bool>" value.
app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Synthetic clinic visit records from a Bayesian network, with conformance reports.",
    epilog=_examples(
        "clinicsim sample -n 5000 --seed 42 -o clinic_records.csv --report conformance.html",
        "clinicsim report clinic_records.csv -o conformance.html",
        "clinicsim model show treatment",
        "clinicsim COMMAND --help    # each command's options and examples"),
)
model_app = typer.Typer(
    no_args_is_help=True, rich_markup_mode=None, help="Inspect, export, validate and fit models.",
    epilog=_examples("clinicsim model show",
                     "clinicsim model show follow_up --model my_clinic.yaml",
                     "clinicsim model export -o my_clinic.yaml --model us-office-visits",
                     "clinicsim model show --targets --model my_clinic.yaml",
                     "clinicsim model fit -o fitted.yaml --keep follow_up:diagnosis=asthma",
                     "clinicsim model validate my_clinic.yaml"))
app.add_typer(model_app, name="model")
export_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                         help="Write records in other formats.")
app.add_typer(export_app, name="export")

_SHOWN_ERRORS = 10  # error lines printed; the rest are counted
_SHOWN_CHARS = 500  # of each error line
_debug = False  # --debug: set by the app's callback, read by main()


@app.callback()
def _options(debug: Annotated[bool, typer.Option(
        "--debug", help="Show the traceback of an error instead of one line.")] = False) -> None:
    global _debug
    _debug = debug


# A whole number on the command line is what Python's ``int`` accepts (``5000``,
# ``1_000_000``, ``-3``) plus an exponent (``1e6``): never a decimal point, so ``-n 5.0``
# is refused here as ``sample(5.0)`` is in Python. Exponents stop at 4,000 digits
# (Python will not print a larger int) with a message naming that limit.
_WHOLE = re.compile(r"[+-]?\d(?:_?\d)*(?:[eE]\+?\d+)?")
MAX_DIGITS = 4_000


def _whole_number():
    """A parser of whole numbers that names the bad value: ``5000``, ``1_000_000``, ``1e6``.

    Signs and ranges are left to the API's argument checks, so ``-n -5`` and ``n=-5``
    give the same message."""
    def parse(text: str | int) -> int:
        if isinstance(text, int):  # a default, or a value already parsed
            return text
        if not _WHOLE.fullmatch(text.strip()):
            raise typer.BadParameter(f"{text!r} is not a whole number (no decimal point: "
                                     "5000, 5_000 or 5e3)")
        mantissa, _, exponent = text.strip().lower().partition("e")
        digits = len(mantissa.lstrip("+-").replace("_", "")) + int(exponent or 0)
        if digits > MAX_DIGITS:
            raise typer.BadParameter(f"{text!r} is not a whole number clinicsim takes: more "
                                     f"than {MAX_DIGITS:,} digits")
        return int(mantissa) * 10 ** int(exponent or 0)
    return parse


# Text, not a Path: a preset name is the preset whatever the working directory holds
# (load_model tells the two apart by type, and a model file always has a suffix).
ModelOption = Annotated[
    str | None,
    typer.Option("--model", "-m", metavar="FILE|PRESET", help=(
        "Model file (.yaml, .yml, .json, .bif, .xmlbif) or a preset: "
        f"{', '.join(PRESETS)}. Default: the default preset.")),
]


def _model(source: str | None) -> ClinicModel:
    return default_model() if source is None else load_model(source)


TableOption = Annotated[
    str | None,
    typer.Option("--table", metavar="NAME", help="The table of a database file (.duckdb, "
                 ".sqlite). Default: records (sample); the file's one records table (report).")]
GivenOption = Annotated[
    list[str] | None,
    typer.Option("--given", metavar="NODE=STATES",
                 help="A cohort: only records with these values, STATES one state or several "
                       "separated by commas (repeatable), e.g. "
                      "diagnosis=type2_diabetes, follow_up=True, age=65-89, "
                      "diagnosis_category=chronic,viral."),
]


def _given(items: list[str] | None) -> dict[str, object] | None:
    """``--given`` options as the ``given=`` mapping of the API (``age`` stays text)."""
    given: dict[str, object] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        states = [v.strip() for v in value.split(",")]
        if not sep or not name or not all(states):
            raise ArgumentError(f"--given {item!r}: expected NODE=STATE or NODE=STATE,STATE,... "
                                 "(or age=LO-HI)")
        if name in given:
            raise ArgumentError(f"--given {name}= appears twice; list its states once, "
                                 "separated by commas")
        given[name] = states[0] if len(states) == 1 else states
    return given or None


@app.command("sample", epilog=_examples(
    "clinicsim sample -n 5000 --seed 42 -o clinic_records.csv --report conformance.html",
    "clinicsim sample -n 1e6 --seed 7 --extended -o records.parquet",
    "clinicsim sample -n 20 --model us-office-visits | head",
    "clinicsim sample -n 50_000_000 --seed 1 --workers 2 -o records/",
    "clinicsim sample --patients 10_000 --seed 3 -o visits.parquet",
    "clinicsim sample --seed 1 --defects d.yaml --defects-log log.csv -o damaged.csv"))
def sample_command(
    ctx: typer.Context,
    n: Annotated[int, typer.Option("-n", parser=_whole_number(), metavar="N",
                                   help="Number of records (1e6 and 1_000_000 work).")] = 5000,
    seed: Annotated[int | None, typer.Option(
        parser=_whole_number(), metavar="S",
        help="Seed, an integer >= 0: the same seed gives the same records, and the first N "
             "of a longer table. Default: a fresh random seed each run.")] = None,
    output: Annotated[str | None, typer.Option(
        "-o", "--output", metavar="FILE", help="Output file: .csv, .parquet or .jsonl; DIR/ for "
        "partitioned Parquet; .duckdb or .sqlite for a typed table in a database file. "
        "Default: CSV to standard output.")] = None,
    model: ModelOption = None,
    engine: Annotated[str, typer.Option(
        metavar="|".join(ENGINES), help="Sampling engine: numpy (fast) or pgmpy (pgmpy's "
        "forward sampler, to compare against).")] = "numpy",
    extended: Annotated[bool, typer.Option(
        "--extended",
        help="Add age_group, diagnosis_code, diagnosis_category, follow_up_date.")] = False,
    chunk_size: Annotated[int | None, typer.Option(
        parser=_whole_number(), metavar="N", help=f"Rows made and written at a time, default "
        f"{CHUNK_ROWS:,}; memory is bounded by it. The output is the same whatever N. At "
        f"most {MAX_CHUNK_ROWS:,}, and at most {MAX_CHUNKS:,} chunks a run.")] = None,
    workers: Annotated[int | None, typer.Option(
        parser=_whole_number(), metavar="N", help="Sample on N local Dask worker processes, "
        f"at most {WORKERS_PER_CORE} per CPU core (needs: pip install 'clinicsim[dask]')."
    )] = None,
    scheduler: Annotated[str | None, typer.Option(
        metavar="ADDR", help="Sample on the Dask cluster whose scheduler is at ADDR, e.g. "
        "tcp://scheduler.example.org:8786 (needs clinicsim[dask]).")] = None,
    report: Annotated[Path | None, typer.Option(
        metavar="FILE", help="Also check the records and write a conformance report (.html, "
        ".md, .json); exit 1 if it fails.")] = None,
    given: GivenOption = None,
    format: Annotated[str | None, typer.Option(
        "--format", metavar="fhir|omop", help="fhir: FHIR R4 Bulk Data NDJSON (-o DIR/) or a "
        "transaction Bundle (-o FILE.json); follow-up dates included, as with --extended. "
        "omop: OMOP CDM 5.4 tables, CSV files (-o DIR/) or a .duckdb/.sqlite file.")
    ] = None,
    patients: Annotated[int | None, typer.Option(
        "--patients", parser=_whole_number(), metavar="N", help="Histories of N patients "
        "instead of N records: -o visits.parquet writes the visits there and the patients to "
        "visits.patients.parquet; -o DIR/ writes DIR/visits.parquet and DIR/patients.parquet."
    )] = None,
    database: Annotated[str | None, typer.Option(
        "--database", metavar="URL", help="Load into PostgreSQL at postgresql://USER:PASSWORD@"
        "HOST:PORT/DB through COPY, in one transaction (needs clinicsim[postgres]); the "
        "table is --table NAME or SCHEMA.NAME.")] = None,
    vocabulary: Annotated[Path | None, typer.Option(
        metavar="DIR", help="--format omop: an Athena vocabulary download (CONCEPT.csv, "
        "CONCEPT_RELATIONSHIP.csv) for the concept ids; default: concept 0, codes kept.")
    ] = None,
    table: TableOption = None,
    replace: Annotated[bool, typer.Option(
        "--replace", help="Replace the database table if it exists (else it is refused).")
    ] = False,
    defects: Annotated[Path | None, typer.Option(
        "--defects", metavar="SPEC", help="Damage the records as this defects file (YAML) "
        "says, seeded from --seed: the bytes of `clinicsim defects` on the clean records with "
        "the same seed. Needs -o FILE and --defects-log FILE, written together.")] = None,
    defects_log: Annotated[Path | None, typer.Option(
        "--defects-log", metavar="FILE", help="With --defects: one row per changed cell "
        "(.csv, .parquet or .jsonl).")] = None,
) -> int:
    """Generate N synthetic patient visit records."""
    if patients is not None:
        return _sample_patients(ctx, patients, output=output, model=model, seed=seed,
                                given=given)
    if defects is not None or defects_log is not None:
        return _sample_defects(ctx, n, output=output, model=model, seed=seed, engine=engine,
                               extended=extended, given=given, report=report, spec=defects,
                               log=defects_log)
    from .db import is_database_url, redact

    if database is not None:
        if output is not None:
            raise ArgumentError("give -o FILE or --database URL, not both")
        if not is_database_url(database):
            raise ArgumentError("--database must be a postgresql:// URL; got "
                                f"{redact(database)!r}")
        output = database
    url = is_database_url(output)
    if report is not None:
        # The report's modules (SciPy, matplotlib) load only when a report is asked for.
        from .analysis import MAX_RECORDS_ROWS, check_report_path, conformance_report

        check_report_path(report)
        if n > MAX_RECORDS_ROWS:
            raise ClinicSimError(f"--report checks the whole table in memory: at most "
                                 f"{MAX_RECORDS_ROWS:,} records; got -n {n:,} (sample fewer "
                                 "rows, or leave out --report)")
    _files({"output": None if url else output, "--report": report}, model=model)
    m = _model(model)
    cohort = _given(given)
    root = as_seed_sequence(seed)  # one stream for the file and for the report
    in_database = url or (output is not None and Path(output).suffix.lower()
                          in DATABASE_SUFFIXES)
    if (table is not None or replace) and not in_database:
        raise ArgumentError("--table and --replace apply to a database output "
                            f"(-o FILE{' or -o FILE'.join(DATABASE_SUFFIXES)}, "
                            "or --database URL)")
    if vocabulary is not None and format != "omop":
        raise ArgumentError("--vocabulary applies to --format omop")
    if format == "omop":
        if output is None or cohort is not None:
            raise ArgumentError("--format omop writes to -o DIR/, -o FILE.duckdb / FILE.sqlite "
                                "or --database URL, without --given")
        from .db import sample_omop

        rows = sample_omop(output, n, model=m, seed=root, engine=engine,
                           chunk_size=chunk_size, replace=replace, vocabulary=vocabulary,
                           schema="public" if table is None else table)
    elif format is not None:
        if format != "fhir" or output is None or url:
            raise ArgumentError(f"--format must be 'fhir', with -o DIR/ or -o FILE.json; "
                                f"got --format {format!r}" + (" without -o" if output is None
                                                              else ""))
        if cohort is not None:
            raise ArgumentError("--format fhir does not take --given; sample the cohort to a "
                                "records file, then `clinicsim export fhir` it")
        from .fhir import sample_fhir

        rows = sample_fhir(output, n, model=m, seed=root, engine=engine, chunk_size=chunk_size,
                           workers=workers, scheduler=scheduler)
    else:
        rows = write_sample(output, n, model=m, seed=root, engine=engine, extended=extended,
                            chunk_size=chunk_size, workers=workers, scheduler=scheduler,
                            given=cohort, table="records" if table is None else table,
                            replace=replace)
    if output is not None:
        _done(f"wrote {rows:,} records to {redact(output) if url else output}")
    if report is None:
        return 0
    # The report needs the whole table in memory; it is made again from the same seed.
    records = sample(n, model=m, seed=root, engine=engine, extended=extended, given=cohort)
    # stdout may hold the CSV: the summary goes to stderr
    return _report(conformance_report(records, m, given=cohort), report, err=True)


@app.command("report", epilog=_examples(
    "clinicsim report clinic_records.csv",
    "clinicsim report records.parquet --model my_clinic.yaml -o conformance.html",
    "clinicsim report clinic_records.csv --alpha 0.05 --realism -o conformance.md"))
def report_command(
    records: Annotated[Path, typer.Argument(
        metavar="RECORDS",
        help="Records file (.csv, .parquet or .jsonl), a database file (.duckdb, .sqlite) "
             "or a FHIR NDJSON folder.")],
    model: ModelOption = None,
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", metavar="FILE", help="Report file: .html, .md or .json. Default: the "
        "summary only.")] = None,
    alpha: Annotated[float, typer.Option(
        metavar="A", help="Family-wise significance level.")] = 0.01,
    realism: Annotated[bool, typer.Option(
        "--realism", help="Add the model against its published sources (NAMCS, ILINet).")] = False,
    given: GivenOption = None,
    table: TableOption = None,
) -> int:
    """Check records against a model; exit 1 if they fail.

    The records are tested against the model's stated targets and its CPDs.
    """
    from .analysis import check_report_path, conformance_report

    _files({"output": output}, records=records, model=model)
    if output is not None:
        check_report_path(output)
    m = _model(model)
    data: Path | pd.DataFrame = records
    from .db._omop import is_omop

    if table is None and is_omop(records):
        from .db import read_omop

        data = read_omop(records, m)
    elif records.suffix.lower() in DATABASE_SUFFIXES:
        from .db import read_records as read_database

        data = read_database(records, table)
    elif table is not None:
        raise ArgumentError("--table applies to a database file (.duckdb, .sqlite)")
    elif records.is_dir() and records.suffix.lower() not in RECORD_SUFFIXES:
        # a FHIR export folder, or the reader says what one holds
        from .fhir import read_records

        data = read_records(records, m)
    report = conformance_report(data, m, alpha=alpha, realism=realism, given=_given(given))
    return _report(report, output)


def _sample_patients(ctx: typer.Context, n: int, *, output: str | None, model: str | None,
                     seed: int | None, given: list[str] | None) -> int:
    """``sample --patients N``: the histories, visits and patients written together."""
    from .simulate import patient_paths, write_patients

    others = [f"--{name.replace('_', '-')}" if name != "n" else "-n"
              for name in ("n", "engine", "extended", "chunk_size", "workers", "scheduler",
                           "report", "format", "database", "vocabulary", "table", "replace",
                           "defects", "defects_log")
              if getattr(ctx.get_parameter_source(name), "name", "DEFAULT") != "DEFAULT"]
    if others:
        raise ArgumentError(f"--patients N counts patients and writes histories; it does not "
                            f"take {', '.join(others)}")
    if n < 1:
        raise ArgumentError(f"--patients must be a positive number of patients; got {n}")
    if output is None:
        raise ArgumentError("--patients writes two tables, visits and patients: give -o "
                            "visits.parquet (or .csv, .jsonl) or -o DIR/")
    visits_path, patients_path, _ = patient_paths(output)
    _files({"output": output, "patients output": str(patients_path)}, model=model)
    visits, count = write_patients(output, n, model=_model(model), seed=as_seed_sequence(seed),
                                   given=_given(given))
    _done(f"wrote {visits:,} visits of {count:,} patients to {visits_path} and {patients_path}")
    return 0


def _sample_defects(ctx: typer.Context, n: int, *, output: str | None, model: str | None,
                    seed: int | None, engine: str, extended: bool, given: list[str] | None,
                    report: Path | None, spec: Path | None, log: Path | None) -> int:
    """``sample --defects SPEC --defects-log FILE``: the records damaged in memory, then
    written with their log (and --report, on the damaged records) together or not at all."""
    import numpy as np

    from .analysis import MAX_RECORDS_ROWS, check_report_path, conformance_report
    from .simulate import inject_defects, read_spec
    from .simulate._writers import write_records

    others = [f"--{name.replace('_', '-')}"
              for name in ("chunk_size", "workers", "scheduler", "format", "database",
                           "vocabulary", "table", "replace")
              if getattr(ctx.get_parameter_source(name), "name", "DEFAULT") != "DEFAULT"]
    if others:
        raise ArgumentError(f"--defects damages the whole table in memory and writes one "
                            f"records file; it does not take {', '.join(others)}")
    if spec is None:
        raise ArgumentError("--defects-log applies to --defects SPEC")
    if log is None:
        raise ArgumentError("--defects needs --defects-log FILE (.csv, .parquet or .jsonl): "
                            "the log of every changed cell")
    if output is None or Path(output).suffix.lower() not in RECORD_SUFFIXES \
            or output.endswith(("/", os.sep)):
        raise ArgumentError("--defects writes the records and their log together: give -o "
                            "FILE.csv, .parquet or .jsonl (not standard output, a folder or "
                            f"a database){'' if output is None else f'; got -o {output}'}")
    if n > MAX_RECORDS_ROWS:
        raise ArgumentError(f"--defects damages the whole table in memory: at most "
                            f"{MAX_RECORDS_ROWS:,} records; got -n {n:,}")
    _files({"output": output, "--defects-log": log, "--report": report}, model=model,
           defects_spec=spec)
    output_file(log, "--defects-log", "log", RECORD_SUFFIXES)
    if report is not None:
        check_report_path(report)
    read_spec(spec)  # a bad spec is refused before any sampling
    m = _model(model)
    cohort = _given(given)
    root = as_seed_sequence(seed)
    records = sample(n, model=m, seed=root, engine=engine, extended=extended, given=cohort)
    # a fresh root of the same entropy: `clinicsim defects --seed S` is SeedSequence(S)
    result = inject_defects(records, spec, model=m,
                            seed=np.random.SeedSequence(root.entropy))
    write_records([result.records], output)  # as `clinicsim defects` writes them
    write_records([result.log], log)
    _done(f"wrote {len(result.records):,} records to {output}")
    _done(f"wrote {len(result.log):,} changed cells to {log}")
    if report is None:
        return 0
    return _report(conformance_report(result.records, m, given=cohort), report, err=True)


@app.command("defects", epilog=_examples(
    "clinicsim defects clinic_records.csv --spec defects.yaml -o damaged.csv --log log.csv"))
def defects_command(
    records: Annotated[Path, typer.Argument(
        metavar="RECORDS", help="Records file (.csv, .parquet or .jsonl).")],
    spec: Annotated[Path, typer.Option(
        metavar="FILE", help="Defects file (YAML): schema_version: 1 and a list defects:.")],
    output: Annotated[str, typer.Option(
        "-o", "--output", metavar="FILE", help="Damaged records: .csv, .parquet or .jsonl.")],
    log: Annotated[str, typer.Option(
        metavar="FILE", help="One row per changed cell: .csv, .parquet or .jsonl.")],
    model: ModelOption = None,
    seed: Annotated[int | None, typer.Option(
        parser=_whole_number(), metavar="S", help="Seed: the same seed gives the same bytes.")
    ] = None,
) -> None:
    """Damage a records file as a defects spec says, with a log of every changed cell.

    Both files are written together or neither is.
    """
    from .analysis._records import read_records
    from .simulate import inject_defects, read_spec
    from .simulate._writers import write_records

    _files({"output": output, "--log": log}, records=records, spec=spec, model=model)
    read_spec(spec)  # a bad spec is refused before the records are read
    result = inject_defects(read_records(records), spec, model=_model(model), seed=seed)
    write_records([result.records], output)
    write_records([result.log], log)
    _done(f"wrote {len(result.records):,} records to {output}")
    _done(f"wrote {len(result.log):,} changed cells to {log}")


def _files(outputs: dict[str, str | Path | None], **inputs: str | Path | None) -> None:
    """The one check of a command's file names, before any work: every name fits the
    filesystem, and no output is an input or another output (the same file by any path,
    links included). ``--model`` given as a preset name is no file."""
    files = {f"{what.replace('_', ' ')} file": source for what, source in inputs.items()
             if not (what == "model" and source in PRESETS)}
    for what, source in files.items():
        if source is not None:
            check_name(source, what)
    check_outputs(outputs, files)


_wrote: list[str] = []  # "wrote ..." lines: printed once every output has its name


def _done(message: str) -> None:
    _wrote.append(message)


def _report(report: ConformanceReport, output: Path | None, err: bool = False) -> int:
    typer.echo(report.summary(), err=err)
    if output is not None:
        report.save(output)
        _done(f"wrote report to {output}")
    return 0 if report.passed else 1


@export_app.command("fhir")
def export_fhir(
    records: Annotated[Path, typer.Argument(help="Records file: .csv, .parquet or .jsonl.")],
    output: Annotated[str, typer.Option(
        "-o", "--output", help="DIR/ for FHIR Bulk Data NDJSON, FILE.json for a transaction "
        "Bundle.")],
    model: ModelOption = None,
    seed: Annotated[int | None, typer.Option(
        parser=_whole_number(), metavar="S",
        help="Seed of the birth dates; the records' own seed gives sample --format fhir's "
             "bytes.")] = None,
) -> None:
    """Write a records file as FHIR R4 resources."""
    from .fhir import write

    _files({"output": output}, records=records, model=model)
    rows = write(output, records, _model(model), seed=as_seed_sequence(seed))
    _done(f"wrote {rows:,} records as FHIR to {output}")


@model_app.command("show")
def model_show(
    node: Annotated[str | None, typer.Argument(
        metavar="NODE", help="Node whose CPD to print. Default: list the nodes.")] = None,
    model: ModelOption = None,
    targets: Annotated[bool, typer.Option(
        "--targets", help="List the stated targets, each with the model's exact value.")] = False,
) -> None:
    """Print the network's nodes, or one node's CPD, or the stated targets.

    A CPD is printed one row per parent combination, wrapped to the terminal's width,
    with the node's exact marginal in the last row. With --targets, each target statement
    is printed with the model's exact value (variable elimination) and whether it is met.
    """
    _files({}, model=model)
    m = _model(model)
    width = shutil.get_terminal_size().columns  # COLUMNS, else the terminal's, else 80
    if targets:
        if node is not None:
            raise ArgumentError("give either NODE or --targets, not both")
        typer.echo(_wrap(f"{m.name}: {len(m.targets)} stated targets, each with the "
                         "model's exact value", width))
        for s in m.targets:
            value = exact_value(m, s)
            typer.echo(f"  {s}")
            typer.echo(_wrap(f"{'met' if is_met(m, s, value) else 'MISSED'}: "
                             f"{describe_value(s, value)}", width, indent=4, hang=2))
        return
    if node is None:
        typer.echo(_wrap(f"{m.name}: {m.description}", width))
        name_width = max(12, *map(len, m.nodes))  # a further node's name may be longer
        for name in m.nodes:
            typer.echo(f"  {name:<{name_width}} parents: {', '.join(m.parents(name)) or '-'}")
            typer.echo(_wrap(f"states: {', '.join(m.states(name))}", width, indent=name_width + 3,
                             hang=8))
        return
    parents = m.parents(node)
    table, marginal = m.cpd(node), m.marginal(node)
    shown = table.T
    shown.loc["marginal" if len(parents) < 2 else ("marginal",) * len(parents), :] = marginal
    text = shown.to_string(float_format="{:.4f}".format)
    title = f"P({node} | {', '.join(parents) or '-'})"
    if max(map(len, text.splitlines())) <= width:
        typer.echo(_wrap(f"{title}; exact marginal in the last row", width))
        typer.echo(text)
        return
    # Too wide for the terminal (treatment: 96 rows of 13 states): a paragraph per parent
    # combination instead, naming its states of positive probability.
    typer.echo(_wrap(f"{title}, one parent combination at a time, then the exact marginal; "
                     "states not listed have probability 0", width))
    combos = [c if isinstance(c, tuple) else (c,) for c in table.columns]
    columns = [(", ".join(f"{k}={v}" for k, v in zip(parents, combo, strict=True))
                if parents else "p", table.iloc[:, j]) for j, combo in enumerate(combos)]
    for label, column in [*columns, ("marginal", marginal)]:
        typer.echo(label)
        # a no-break space keeps each state with its probability when the line wraps
        items = ", ".join(f"{s}\N{NO-BREAK SPACE}{p:.4f}" for s, p in column.items() if p > 0)
        typer.echo(_wrap(items, width, indent=4, hang=0).replace("\N{NO-BREAK SPACE}", " "))


def _wrap(text: str, width: int, indent: int = 0, hang: int = 2) -> str:
    """``text`` wrapped to ``width``, indented; continuation lines ``hang`` further in."""
    return textwrap.fill(text, width, initial_indent=" " * indent,
                         subsequent_indent=" " * (indent + hang), break_long_words=False,
                         break_on_hyphens=False)


@model_app.command("export")
def model_export(
    output: Annotated[Path, typer.Option(
        "-o", "--output", metavar="FILE", help="Model file: .yaml, .yml, .json, .bif or .xmlbif.")],
    model: ModelOption = None,
) -> None:
    """Write a model (the default if --model is omitted) to a file."""
    _files({"output": output}, model=model)
    output_file(output, "output", "model", MODEL_SUFFIXES)
    _model(model).save(output)
    _done(f"wrote {output}")


@model_app.command("fit")
def model_fit(
    output: Annotated[Path, typer.Option(
        "-o", "--output", metavar="FILE", help="Fitted model file: .yaml, .yml or .json.")],
    model: ModelOption = None,
    keep: Annotated[list[str] | None, typer.Option(
        "--keep", metavar="NODE:PARENT=STATE[,PARENT=STATE]",
        help="CPD columns that must not change (repeatable), e.g. follow_up:diagnosis=asthma."
    )] = None,
) -> None:
    """Fit the CPDs to the model's stated targets with the least change; write the result.

    Every share, rate and even statement is met exactly; each CPD moves as little as
    possible (least Kullback-Leibler change). Prints each CPD column that moved.
    """
    _files({"output": output}, model=model)
    output_file(output, "output", "fitted model", (".yaml", ".yml", ".json"))
    columns = [parse_keep(k) for k in keep or []]
    m = _model(model)
    check_keep(m, columns, names=[f"--keep {k!r}" for k in keep or []])
    fitted = m.fit_targets(keep=columns)
    changes = cpd_changes(m, fitted)
    if changes.empty:
        typer.echo("nothing to change: the model meets its equality targets exactly")
    else:
        typer.echo(f"{len(changes)} CPD columns changed (largest absolute change of a "
                   "probability, and KL divergence in nats, largest first):")
        typer.echo(changes.to_string(index=False, float_format="{:.3g}".format))
    fitted.save(output)
    _done(f"wrote {output}")


@model_app.command("validate")
def model_validate(file: Annotated[str, typer.Argument(
        metavar="FILE|PRESET", help="Model file (or preset) to check.")]) -> None:
    """Check a model file; list every problem found."""
    _files({}, model=file)
    m = load_model(file)
    typer.echo(f"ok: {file} is a valid model ({len(m.nodes)} nodes: {', '.join(m.nodes)})")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning bad input into ``error: ...`` and exit 2.

    Ctrl-C (exit 130), SIGTERM (143), SIGHUP (129) and every other catchable signal that
    would end the process (exit 128 + its number) end the run with one line too, through an
    exception that removes any half-written output file on its way up.
    """
    global _debug
    _debug = False
    _wrote.clear()
    run = Run()
    with _signals(), _checked_stdout():
        try:
            with outputs_together() as run:
                code = app(args=argv, standalone_mode=False, prog_name="clinicsim")
                sys.stdout.flush()  # here, so that a failure is reported, not ignored at exit
            for line in _wrote:
                typer.echo(line, err=True)
        except typer.TyperException as exc:  # usage errors from Typer's bundled click
            message = exc.format_message()
            if message.startswith("Usage:"):  # no arguments: the help, whole, not cut at
                print(message, file=sys.stderr)  # an error line's length
                sys.exit(2)
            _fail([message])
        except ClinicSimError as exc:
            _fail(exc.errors)
        except Stopped as exc:
            if exc.signum == _SIGPIPE:  # `clinicsim sample | head`: the reader left
                sys.exit(128 + exc.signum)
            _fail([_stopped_message(_ended(exc.signum), run)], code=128 + exc.signum)
        except (KeyboardInterrupt, typer.Abort):  # Abort: end of input (EOFError)
            _fail([_stopped_message("interrupted", run)], code=130)
    sys.exit(code if isinstance(code, int) else 0)


def _stopped_message(ended: str, run: Run) -> str:
    """What a signal left: nothing (every existing file as it was), or outputs complete."""
    if not run.done:
        return f"{ended}; no output file was left behind"
    return f"{ended} after writing {', '.join(repr(str(p)) for p in run.done)} in full"


_SIGPIPE = getattr(signal, "SIGPIPE", 13)  # Windows has no SIGPIPE, but pipes that close


class _Stdout(io.RawIOBase):
    """File descriptor 1 (None: closed at start), whose failures end the run.

    A closed pipe raises :class:`Stopped` (click would otherwise turn it into a silent
    exit 1); any other failure, or a standard output closed from the start, raises
    ``ClinicSimError``. After a failure, writes are dropped: the buffers above this one
    are flushed again when they are closed, and there is nothing more to report.
    """

    def __init__(self, fd: int | None) -> None:
        super().__init__()
        self._fd = fd
        self._failed = False

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        if self._fd is None:
            raise OSError(errno.EBADF, "it is closed")
        return self._fd

    def isatty(self) -> bool:
        return self._fd is not None and os.isatty(self._fd)

    def write(self, data) -> int:
        if self._failed:
            return len(memoryview(data))
        try:
            return os.write(self.fileno(), data)
        except BrokenPipeError:
            self._failed = True
            raise Stopped(_SIGPIPE) from None
        except OSError as exc:
            self._failed = True
            raise ClinicSimError(f"cannot write standard output: {exc.strerror}") from None


@contextlib.contextmanager
def _checked_stdout() -> Iterator[None]:
    """``sys.stdout`` writing through :class:`_Stdout` while the command runs.

    Only the interpreter's own standard output is replaced (a test's capture is kept).
    """
    before = sys.stdout
    if not (before is None or (before is sys.__stdout__ and _has_fd(before))):
        yield
        return
    checked = io.TextIOWrapper(
        io.BufferedWriter(_Stdout(None if before is None else before.fileno())),
        encoding=getattr(before, "encoding", None) or "utf-8",
        errors=getattr(before, "errors", None))
    sys.stdout = checked
    try:
        yield
    finally:
        sys.stdout = before
        # Flushed by main() on success; on the way out of a failure, whatever is left
        # goes now or never (not as "Exception ignored" when the wrapper is collected).
        with contextlib.suppress(Exception, Stopped):
            checked.flush()


def _has_fd(stream) -> bool:
    try:
        stream.fileno()
    except (OSError, ValueError, io.UnsupportedOperation):
        return False
    return True


# Signals whose default action ends the process. Each raises Stopped instead, so that a
# half-written output is removed on the way out. SIGKILL cannot be caught; SIGSEGV, SIGBUS,
# SIGFPE and SIGILL are faults of the process, not requests to stop.
_ENDING = [getattr(signal, name) for name in (
    "SIGHUP", "SIGINT", "SIGQUIT", "SIGTERM", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGVTALRM",
    "SIGPROF", "SIGXCPU", "SIGIO", "SIGPWR", "SIGSTKFLT") if hasattr(signal, name)]
if hasattr(signal, "SIGRTMIN"):
    _ENDING += range(signal.SIGRTMIN, signal.SIGRTMAX + 1)


@contextlib.contextmanager
def _signals() -> Iterator[None]:
    """Every catchable signal that would end the process raises :class:`Stopped`. One
    that is ignored or handled when clinicsim starts keeps its handling (``nohup`` ignores
    SIGHUP, a shell's background job SIGINT; a profiler handles SIGPROF). SIGXFSZ
    (``ulimit -f`` reached) is ignored, so the write fails with "File too large" instead
    of the process dying."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set in the main thread
        return
    wanted: dict[signal.Signals, Callable[[int, object], None] | signal.Handlers] = {
        sig: stop for sig in _ENDING
        if signal.getsignal(sig) in (signal.SIG_DFL, signal.default_int_handler)}
    if hasattr(signal, "SIGXFSZ"):
        wanted[signal.SIGXFSZ] = signal.SIG_IGN
    before = {sig: signal.signal(sig, handler) for sig, handler in wanted.items()}
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def _ended(signum: int) -> str:
    """How a signal ended the run: "interrupted" (Ctrl-C), or "terminated by SIGHUP"."""
    if signum == signal.SIGINT:
        return "interrupted"
    try:
        return f"terminated by {signal.Signals(signum).name}"
    except ValueError:  # a real-time signal has no name of its own
        return f"terminated by signal {signum}"


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
