"""Records in DuckDB and SQLite files: typed tables, read back as written, and nothing
overwritten that clinicsim did not write (issue 24)."""

import hashlib
import re
import sqlite3
import sys

import duckdb
import pandas as pd
import pytest

import clinicsim
from clinicsim import ClinicSimError, RecordsError
from clinicsim._cli import main
from clinicsim.db import read_records, tables, write_database
from clinicsim.simulate import write_sample

ENGINES = ["clinic.duckdb", "clinic.sqlite"]
HOSTILE = "x'); DROP TABLE person;--"


def run(*argv):
    with pytest.raises(SystemExit) as exit:
        main(list(map(str, argv)))
    return exit.value.code


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", ENGINES)
def test_round_trip_in_chunks_gives_the_sampled_frame(tmp_path, name):
    path = tmp_path / name
    assert write_sample(path, 2500, seed=3, extended=True, chunk_size=1000) == 2500
    expected = clinicsim.sample(2500, seed=3, extended=True)
    pd.testing.assert_frame_equal(read_records(path), expected)
    assert clinicsim.conformance_report(path).passed
    assert tables(path) == {"records": "records"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temporary left


def test_duckdb_columns_are_typed(tmp_path):
    path = tmp_path / "clinic.duckdb"
    write_sample(path, 100, seed=1)
    with duckdb.connect(str(path), read_only=True) as con:
        kinds = {row[0]: (row[1], row[2], row[3])
                 for row in con.execute("DESCRIBE records").fetchall()}
    assert kinds["patient_id"] == ("VARCHAR", "NO", "PRI")
    assert kinds["visit_date"][0] == "DATE"
    assert kinds["age"][0] == "BIGINT"
    assert kinds["follow_up"][0] == "BOOLEAN"
    assert kinds["gender"][0] == "ENUM('male', 'female', 'other')"


def test_sqlite_constraints_refuse_values_outside_the_model(tmp_path):
    path = tmp_path / "clinic.sqlite"
    write_sample(path, 100, seed=1)
    con = sqlite3.connect(path)
    row = list(con.execute("SELECT * FROM records LIMIT 1").fetchone())
    for column, bad in [(3, "unknown"), (6, 2), (1, "2024-02-30"), (1, "16/08/2024"),
                        (0, "P0000002")]:
        changed = row.copy()
        changed[column] = bad
        if column != 0:
            changed[0] = "P9999999"
        with pytest.raises(sqlite3.IntegrityError):
            con.execute(f"INSERT INTO records VALUES ({', '.join('?' * len(row))})", changed)
    con.close()


@pytest.mark.parametrize("name", ENGINES)
def test_a_state_named_like_sql_is_only_data(tmp_path, name):
    model = clinicsim.default_model()
    states = [HOSTILE, 'walk "in"']
    model.add_node("channel", states, cpd={HOSTILE: 0.5, 'walk "in"': 0.5})
    path = tmp_path / name
    write_sample(path, 400, model=model, seed=5)
    records = read_records(path)
    assert list(records.channel.cat.categories) == states
    assert set(records.channel) == set(states)
    assert tables(path) == {"records": "records"}
    assert clinicsim.conformance_report(path, model).passed


@pytest.mark.parametrize("name", ENGINES)
def test_foreign_file_is_refused_and_left_as_it_was(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"not a database at all\n" * 10)
    before = digest(path)
    with pytest.raises(ClinicSimError, match="is not a (DuckDB|SQLite) database; it is not "
                                             "overwritten"):
        write_sample(path, 10, seed=1)
    assert run("sample", "-n", 10, "-o", path) == 2
    assert digest(path) == before


@pytest.mark.parametrize("name", ENGINES)
def test_a_database_clinicsim_did_not_write_is_refused(tmp_path, name):
    path = tmp_path / name
    if name.endswith(".duckdb"):
        with duckdb.connect(str(path)) as con:
            con.execute("CREATE TABLE mine (x INTEGER)")
    else:
        with sqlite3.connect(path) as con:
            con.execute("CREATE TABLE mine (x INTEGER)")
    before = digest(path)
    with pytest.raises(ClinicSimError, match="database clinicsim did not write"):
        write_sample(path, 10, seed=1)
    with pytest.raises(RecordsError, match="database clinicsim did not write"):
        read_records(path)
    assert digest(path) == before


@pytest.mark.parametrize("name", ENGINES)
def test_tables_are_added_refused_or_replaced(tmp_path, name, capsys):
    path = tmp_path / name
    write_sample(path, 300, seed=1)
    before = digest(path)
    with pytest.raises(ClinicSimError, match="already has a table 'records'; pass --replace"):
        write_sample(path, 10, seed=2)
    assert run("sample", "-n", 10, "-o", path) == 2
    assert digest(path) == before
    assert run("sample", "-n", 200, "--seed", 2, "-o", path, "--table", "second") == 0
    assert tables(path) == {"records": "records", "second": "records"}
    with pytest.raises(RecordsError, match="holds 2 records tables"):
        read_records(path)
    assert run("report", path) == 2
    assert "name one with --table" in capsys.readouterr().err
    assert run("report", path, "--table", "second") == 0
    assert len(read_records(path, "records")) == 300
    write_sample(path, 50, seed=4, replace=True)
    pd.testing.assert_frame_equal(read_records(path, "records"), clinicsim.sample(50, seed=4))
    assert len(read_records(path, "second")) == 200


@pytest.mark.parametrize("name", ENGINES)
def test_a_failed_write_changes_nothing(tmp_path, name):
    path = tmp_path / name
    write_sample(path, 100, seed=1)
    before = digest(path)

    def chunks():
        yield clinicsim.sample(50, seed=9)
        raise RuntimeError("stopped halfway")

    with pytest.raises(RuntimeError, match="halfway"):
        write_database(chunks(), path, table="other")
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    with pytest.raises(RuntimeError, match="halfway"):
        write_database(chunks(), tmp_path / f"new{path.suffix}")
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


@pytest.mark.parametrize("argv, message", [
    (["-o", "x.csv", "--table", "t"], "--table and --replace apply to a database output"),
    (["-o", "x.db"], "unknown records format '.db'; use .csv, .parquet, .jsonl, .duckdb"),
    (["-o", "x.sqlite", "--table", "clinicsim_meta"], "clinicsim's own"),
    (["-o", "x.sqlite", "--table", ""], "1 to 63 characters"),
])
def test_bad_database_arguments(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    assert run("sample", "-n", 10, *argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert re.search(re.escape(message), err), err
    assert list(tmp_path.iterdir()) == []


def test_report_table_needs_a_database(tmp_path, capsys):
    write_sample(tmp_path / "r.csv", 10, seed=1)
    assert run("report", tmp_path / "r.csv", "--table", "records") == 2
    assert "--table applies to a database file" in capsys.readouterr().err


def test_missing_duckdb_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "duckdb", None)
    with pytest.raises(ClinicSimError, match=r"pip install 'clinicsim\[duckdb\]'"):
        write_sample(tmp_path / "clinic.duckdb", 10, seed=1)
    assert list(tmp_path.iterdir()) == []
