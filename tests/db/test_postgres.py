"""Records into a real PostgreSQL server through COPY: typed, one transaction, hostile state
names only data, every failure named with the password redacted (issue 24)."""

import urllib.parse

import pandas as pd
import psycopg
import pytest
from psycopg import sql

import clinicsim
from clinicsim import ClinicSimError
from clinicsim.db import redact, write_postgres
from clinicsim.simulate import write_sample

from .test_files import HOSTILE, run


@pytest.fixture
def db(postgres_url):
    """The server's URL, with a fresh schema ``t`` per test and no ``public.records`` (nor
    its ENUM types): only what these tests make is dropped, whatever server it is."""
    with psycopg.connect(postgres_url, autocommit=True) as con:
        con.execute("DROP SCHEMA IF EXISTS t CASCADE")
        con.execute("CREATE SCHEMA t")
        con.execute("DROP TABLE IF EXISTS public.records")
        for (name,) in con.execute("SELECT t.typname FROM pg_type t JOIN pg_namespace n ON "
                                   "n.oid = t.typnamespace WHERE n.nspname = 'public' AND "
                                   "t.typtype = 'e' AND t.typname LIKE 'records\\_%'"
                                   ).fetchall():
            con.execute(sql.SQL("DROP TYPE {}").format(sql.Identifier("public", name)))
    return postgres_url


def query(url, text, *args):
    with psycopg.connect(url) as con:
        return con.execute(text, args or None).fetchall()


def frame(url, table="public.records"):
    with psycopg.connect(url) as con:
        cursor = con.execute(f"SELECT * FROM {table} ORDER BY patient_id")
        return pd.DataFrame(cursor.fetchall(), columns=[d.name for d in cursor.description])


def test_records_load_typed_through_copy(db):
    assert write_sample(db, 2500, seed=3, extended=True, chunk_size=1000) == 2500
    types = dict(query(db, "SELECT column_name, data_type FROM information_schema.columns "
                           "WHERE table_name = 'records'"))
    assert types["visit_date"] == "date" and types["follow_up"] == "boolean"
    assert types["age"] == "bigint" and types["gender"] == "USER-DEFINED"
    assert query(db, "SELECT enum_range(NULL::public.records_gender)::text") == \
        [("{male,female,other}",)]
    assert query(db, "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON "
                     "a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                     "WHERE i.indrelid = 'public.records'::regclass AND i.indisprimary") == \
        [("patient_id",)]
    expected = clinicsim.sample(2500, seed=3, extended=True)
    got = frame(db)
    assert got.patient_id.tolist() == expected.patient_id.tolist()
    assert got.gender.tolist() == expected.gender.astype(str).tolist()
    assert got.follow_up.tolist() == expected.follow_up.tolist()
    assert (pd.to_datetime(got.visit_date) == expected.visit_date).all()
    assert got.follow_up_date.isna().tolist() == expected.follow_up_date.isna().tolist()


def test_a_state_named_like_sql_is_only_data(db):
    model = clinicsim.default_model()
    model.add_node("channel", [HOSTILE, 'walk "in"'], cpd={HOSTILE: 0.5, 'walk "in"': 0.5})
    write_sample(db, 300, model=model, seed=5, table="t.visits")
    counts = dict(query(db, "SELECT channel::text, count(*) FROM t.visits GROUP BY 1"))
    assert set(counts) == {HOSTILE, 'walk "in"'} and sum(counts.values()) == 300
    assert query(db, "SELECT count(*) FROM pg_tables WHERE schemaname = 't'") == [(1,)]


def test_existing_table_refused_unless_replace_and_cli(db, capsys):
    assert run("sample", "-n", 100, "--seed", 1, "--database", db) == 0
    assert redact(db) in capsys.readouterr().err
    assert run("sample", "-n", 10, "--seed", 2, "-o", db) == 2
    err = capsys.readouterr().err
    assert "table public.records exists; pass --replace" in err
    assert query(db, "SELECT count(*) FROM records") == [(100,)]
    assert run("sample", "-n", 10, "--seed", 2, "-o", db, "--replace") == 0
    assert query(db, "SELECT count(*) FROM records") == [(10,)]


def test_a_failed_load_commits_nothing(db):
    def chunks():
        yield clinicsim.sample(50, seed=9)
        raise RuntimeError("stopped halfway")

    with pytest.raises(RuntimeError, match="halfway"):
        write_postgres(chunks(), db, table="t.half")
    assert query(db, "SELECT count(*) FROM pg_tables WHERE schemaname = 't'") == [(0,)]
    assert query(db, "SELECT count(*) FROM pg_type WHERE typname LIKE 'half_%%'") == [(0,)]


def _with(url, **parts):
    split = urllib.parse.urlsplit(url)
    user, password = split.username, parts.pop("password", split.password)
    netloc = f"{user}:{password}@{split.hostname}:{parts.pop('port', split.port)}"
    return urllib.parse.urlunsplit(split._replace(netloc=netloc, **parts))


@pytest.mark.parametrize("change, table, message", [
    ({"password": "wrong-password-123"}, "records", "password authentication failed"),
    ({"port": 1}, "records", "Connection refused"),
    ({"path": "/no_such_db"}, "records", 'database "no_such_db" does not exist'),
    ({}, "nowhere.records", "no schema 'nowhere'"),
])
def test_failures_are_named_with_the_password_redacted(db, capsys, change, table, message):
    url = _with(db, **change)
    password = urllib.parse.urlsplit(url).password
    assert run("sample", "-n", 10, "--database", url, "--table", table) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err, err
    assert password not in err and "***" in err
    assert len(err.strip().splitlines()) == 1


def test_redact():
    assert redact("postgresql://u:p%40ss@h/db") == "postgresql://u:***@h/db"
    assert redact("postgresql://h/db") == "postgresql://h/db"


def test_missing_psycopg_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(ClinicSimError, match=r"pip install 'clinicsim\[postgres\]'"):
        write_sample("postgresql://u:p@127.0.0.1:1/db", 10, seed=1)


def test_omop_into_a_schema_answers_the_analyst_queries(db, capsys):
    from .test_omop import QUERIES, N, expected

    assert run("sample", "-n", N, "--seed", 4, "--format", "omop", "--database", db,
               "--table", "t", "--chunk-size", 1000) == 0
    with psycopg.connect(db, options="-c search_path=t") as con:
        got = {name: [tuple(r) for r in con.execute(q).fetchall()]
               for name, q in QUERIES.items()}
        assert con.execute("SELECT count(*) FROM information_schema.table_constraints WHERE "
                           "table_schema = 't' AND constraint_type = 'FOREIGN KEY'"
                           ).fetchone()[0] > 0
    for query, want in expected(clinicsim.sample(N, seed=4), clinicsim.default_model()).items():
        assert sorted(got[query]) == sorted(want), query
    assert run("sample", "-n", 10, "--format", "omop", "--database", db, "--table", "t") == 2
    assert "already has the table" in capsys.readouterr().err
    assert run("sample", "-n", 10, "--format", "omop", "--database", db, "--table", "nope") == 2
    assert "no schema 'nope'" in capsys.readouterr().err
