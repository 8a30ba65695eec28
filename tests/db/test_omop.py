"""OMOP CDM 5.4 exports checked as a CDM user checks them: the analyst's first queries in
DuckDB and SQLite against the records, and the export read back into records (issue 24)."""

import sqlite3

import duckdb
import pytest

import clinicsim
from clinicsim.db import read_omop
from clinicsim.db._cdm import FIELDS, TABLES
from clinicsim.model import treatment_codes

from .test_files import HOSTILE, run

N = 3000

QUERIES = {
    "persons by gender concept":
        "SELECT gender_concept_id, count(*) FROM person GROUP BY 1 ORDER BY 1",
    "visits per person":
        "SELECT n, count(*) FROM (SELECT person_id, count(*) AS n FROM visit_occurrence "
        "GROUP BY 1) AS per_person GROUP BY 1",
    "conditions by source value":
        "SELECT condition_source_value, count(*) FROM condition_occurrence GROUP BY 1 "
        "ORDER BY 1",
    "events outside observation periods": """
        SELECT count(*) FROM (
          SELECT person_id, visit_start_date AS d FROM visit_occurrence
          UNION ALL SELECT person_id, condition_start_date FROM condition_occurrence
          UNION ALL SELECT person_id, drug_exposure_start_date FROM drug_exposure
          UNION ALL SELECT person_id, procedure_date FROM procedure_occurrence
          UNION ALL SELECT person_id, observation_date FROM observation) e
        WHERE NOT EXISTS (SELECT 1 FROM observation_period p WHERE p.person_id = e.person_id
          AND e.d BETWEEN p.observation_period_start_date AND p.observation_period_end_date)""",
    "orphan foreign keys": """
        SELECT (SELECT count(*) FROM visit_occurrence v LEFT JOIN person p USING (person_id)
                WHERE p.person_id IS NULL)
             + (SELECT count(*) FROM condition_occurrence c LEFT JOIN visit_occurrence v
                USING (visit_occurrence_id) WHERE v.visit_occurrence_id IS NULL)
             + (SELECT count(*) FROM drug_exposure c LEFT JOIN visit_occurrence v
                USING (visit_occurrence_id) WHERE v.visit_occurrence_id IS NULL)
             + (SELECT count(*) FROM procedure_occurrence c LEFT JOIN visit_occurrence v
                USING (visit_occurrence_id) WHERE v.visit_occurrence_id IS NULL)
             + (SELECT count(*) FROM observation c LEFT JOIN person p USING (person_id)
                WHERE p.person_id IS NULL)
             + (SELECT count(*) FROM observation_period c LEFT JOIN person p USING (person_id)
                WHERE p.person_id IS NULL)""",
}


def expected(records, model):
    codes = records.diagnosis.astype(str).map(model.diagnosis_codes).value_counts()
    genders = records.gender.astype(str).map({"male": 8507, "female": 8532}).fillna(0)
    return {
        "persons by gender concept": sorted(genders.astype(int).value_counts().items()),
        "visits per person": [(1, len(records))],
        "conditions by source value": sorted(codes.items()),
        "events outside observation periods": [(0,)],
        "orphan foreign keys": [(0,)],
    }


def answers(path):
    if path.suffix == ".duckdb":
        con = duckdb.connect(str(path), read_only=True)
    else:
        con = sqlite3.connect(path)
    try:
        return {name: [tuple(r) for r in con.execute(q).fetchall()]
                for name, q in QUERIES.items()}
    finally:
        con.close()


@pytest.mark.parametrize("name", ["omop.duckdb", "omop.sqlite"])
def test_analyst_queries_match_the_records(tmp_path, name):
    path = tmp_path / name
    assert run("sample", "-n", N, "--seed", 4, "--format", "omop", "-o", path,
               "--chunk-size", 1000) == 0
    records = clinicsim.sample(N, seed=4)
    got = answers(path)
    for query, want in expected(records, clinicsim.default_model()).items():
        assert sorted(got[query]) == sorted(want), query
    assert run("report", path) == 0


def test_csv_folder_reads_back_as_the_records(tmp_path):
    folder = tmp_path / "omop"
    assert run("sample", "-n", N, "--seed", 4, "--format", "omop", "-o", f"{folder}/") == 0
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{t}.csv" for t in TABLES)
    for table in TABLES:  # every CDM field, in the spec's order
        header = (folder / f"{table}.csv").read_text().splitlines()[0].split(",")
        assert header == [f for f, _, _ in FIELDS[table]]
    model = clinicsim.default_model()
    back = read_omop(folder, model)
    records = clinicsim.sample(N, seed=4)
    for column in records.columns:
        assert back[column].astype(str).tolist() == records[column].astype(str).tolist(), column
    assert run("report", folder) == 0


def test_no_record_is_dropped_and_other_gender_is_kept(tmp_path):
    path = tmp_path / "omop.duckdb"
    model = clinicsim.default_model()
    model.add_node("channel", [HOSTILE, "phone"], cpd={HOSTILE: 0.5, "phone": 0.5})
    assert clinicsim.db.sample_omop(path, N, model=model, seed=8) == N
    records = clinicsim.sample(N, model=model, seed=8)
    resource = records.treatment.astype(str).map(
        {t: c.resource for t, c in treatment_codes(model.metadata).items()})
    with duckdb.connect(str(path), read_only=True) as con:
        def one(q):
            return con.execute(q).fetchone()[0]
        assert one("SELECT count(*) FROM drug_exposure") == (resource == "MedicationRequest").sum()
        assert one("SELECT count(*) FROM procedure_occurrence") == (resource == "Procedure").sum()
        assert one("SELECT count(*) FROM observation WHERE observation_source_value = "
                   "'referral'") == (resource == "ServiceRequest").sum()
        others = (records.gender == "other").sum()
        assert one("SELECT count(*) FROM person WHERE gender_concept_id = 0 AND "
                   "gender_source_value = 'other'") == others
        assert one("SELECT count(*) FROM observation WHERE observation_source_value = "
                   "'gender_identity' AND value_as_string = 'other'") == others
        assert one("SELECT count(*) FROM observation WHERE observation_source_value = "
                   "'channel'") == N
        assert one("SELECT count(*) FROM cdm_source WHERE cdm_version = 'CDM v5.4'") == 1
    back = read_omop(path, model)
    assert back.channel.tolist() == records.channel.astype(str).tolist()
    assert (back.age == records.age).all()
    assert clinicsim.conformance_report(back, model).passed


def test_omop_refuses_existing_tables_and_bad_targets(tmp_path, capsys):
    path = tmp_path / "omop.sqlite"
    assert run("sample", "-n", 50, "--seed", 1, "--format", "omop", "-o", path) == 0
    assert run("sample", "-n", 50, "--seed", 1, "--format", "omop", "-o", path) == 2
    assert "already has a table 'person'" in capsys.readouterr().err
    assert run("sample", "-n", 60, "--seed", 1, "--format", "omop", "-o", path,
               "--replace") == 0
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT count(*) FROM person").fetchone() == (60,)
    assert run("sample", "-n", 5, "--format", "omop") == 2
    assert "--format omop writes to -o DIR/" in capsys.readouterr().err


CONCEPT_HEADER = ("concept_id\tconcept_name\tdomain_id\tvocabulary_id\tconcept_class_id\t"
                  "standard_concept\tconcept_code\tvalid_start_date\tvalid_end_date\t"
                  "invalid_reason")
RELATION_HEADER = ("concept_id_1\tconcept_id_2\trelationship_id\tvalid_start_date\t"
                   "valid_end_date\tinvalid_reason")


def vocabulary(folder, concept_lines=None):
    """A small Athena-like download: I10 maps to a standard SNOMED concept, ATC J01 is a
    classification with no map, a SNOMED procedure is standard itself."""
    folder.mkdir()
    concepts = concept_lines or [
        "45591453\tEssential hypertension\tCondition\tICD10CM\t4-char billing code\t\tI10\t"
        "19700101\t20991231\t",
        "320128\tEssential hypertension\tCondition\tSNOMED\tClinical Finding\tS\t59621000\t"
        "19700101\t20991231\t",
        "21602796\tANTIBACTERIALS FOR SYSTEMIC USE\tDrug\tATC\tATC 2nd\tC\tJ01\t19700101\t"
        "20991231\t",
        "4163872\tVaccination\tProcedure\tSNOMED\tProcedure\tS\t33879002\t19700101\t20991231\t",
    ]
    (folder / "CONCEPT.csv").write_text("\n".join([CONCEPT_HEADER, *concepts]) + "\n")
    (folder / "CONCEPT_RELATIONSHIP.csv").write_text(
        f"{RELATION_HEADER}\n45591453\t320128\tMaps to\t19700101\t20991231\t\n"
        "45591453\t320128\tIs a\t19700101\t20991231\t\n")
    (folder / "VOCABULARY.csv").write_text(
        "vocabulary_id\tvocabulary_name\tvocabulary_reference\tvocabulary_version\t"
        "vocabulary_concept_id\nNone\tOMOP Standardized Vocabularies\tOMOP\t"
        "v5.0 TEST-FIXTURE\t44819096\n")
    return folder


def test_vocabulary_fills_concepts_and_drops_nothing(tmp_path):
    vocab = vocabulary(tmp_path / "athena")
    path = tmp_path / "omop.duckdb"
    assert run("sample", "-n", N, "--seed", 4, "--format", "omop", "-o", path,
               "--vocabulary", vocab) == 0
    records = clinicsim.sample(N, seed=4)
    with duckdb.connect(str(path), read_only=True) as con:
        def rows(q):
            return sorted(con.execute(q).fetchall())
        assert rows("SELECT condition_source_value = 'I10', condition_concept_id, "
                    "condition_source_concept_id, count(*) FROM condition_occurrence "
                    "GROUP BY ALL") == sorted([
                        (True, 320128, 45591453, (records.diagnosis == "hypertension").sum()),
                        (False, 0, 0, (records.diagnosis != "hypertension").sum())])
        assert rows("SELECT DISTINCT drug_source_value, drug_concept_id, drug_source_concept_id "
                    "FROM drug_exposure WHERE drug_source_value = 'J01'") == \
            [("J01", 0, 21602796)]
        assert rows("SELECT DISTINCT procedure_concept_id, procedure_source_concept_id FROM "
                    "procedure_occurrence WHERE procedure_source_value = '33879002'") == \
            [(4163872, 4163872)]
        assert con.execute("SELECT vocabulary_version FROM cdm_source").fetchone() == \
            ("v5.0 TEST-FIXTURE",)
        assert con.execute("SELECT count(*) FROM person").fetchone() == (N,)
    assert run("report", path) == 0


def test_malformed_vocabulary_is_named_with_its_line(tmp_path, capsys):
    vocab = vocabulary(tmp_path / "athena", [
        "45591453\tEssential hypertension\tCondition\tICD10CM\t\t\tI10\t19700101\t20991231\t",
        "oops\tbad\tCondition\tICD10CM\t\t\tE11.9\t19700101\t20991231\t",
        "1\ttoo few fields"])
    out = tmp_path / "omop.sqlite"
    assert run("sample", "-n", 10, "--format", "omop", "-o", out, "--vocabulary", vocab) == 2
    err = capsys.readouterr().err
    assert "CONCEPT.csv' line 3: concept id 'oops' is not an integer" in err, err
    assert not out.exists()
