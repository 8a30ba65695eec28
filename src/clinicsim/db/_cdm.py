"""The OMOP CDM 5.4 tables clinicsim writes: each field's name, type and whether it is
required, as OHDSI/CommonDataModel inst/csv/OMOP_CDMv5.4_Field_Level.csv states them
(``cdmFieldName``, ``cdmDatatype``, ``isRequired``; primary keys first). Facts copied,
not code: the DDL of each engine is built from this by :func:`ddl`."""

from __future__ import annotations

__all__ = ["FIELDS", "TABLES", "ddl"]

# table -> ((field, CDM type, required), ...)
FIELDS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "person": (
        ("person_id", "integer", True),
        ("gender_concept_id", "integer", True),
        ("year_of_birth", "integer", True),
        ("month_of_birth", "integer", False),
        ("day_of_birth", "integer", False),
        ("birth_datetime", "datetime", False),
        ("race_concept_id", "integer", True),
        ("ethnicity_concept_id", "integer", True),
        ("location_id", "integer", False),
        ("provider_id", "integer", False),
        ("care_site_id", "integer", False),
        ("person_source_value", "varchar(50)", False),
        ("gender_source_value", "varchar(50)", False),
        ("gender_source_concept_id", "integer", False),
        ("race_source_value", "varchar(50)", False),
        ("race_source_concept_id", "integer", False),
        ("ethnicity_source_value", "varchar(50)", False),
        ("ethnicity_source_concept_id", "integer", False),
    ),
    "observation_period": (
        ("observation_period_id", "integer", True),
        ("person_id", "integer", True),
        ("observation_period_start_date", "date", True),
        ("observation_period_end_date", "date", True),
        ("period_type_concept_id", "integer", True),
    ),
    "visit_occurrence": (
        ("visit_occurrence_id", "integer", True),
        ("person_id", "integer", True),
        ("visit_concept_id", "integer", True),
        ("visit_start_date", "date", True),
        ("visit_start_datetime", "datetime", False),
        ("visit_end_date", "date", True),
        ("visit_end_datetime", "datetime", False),
        ("visit_type_concept_id", "integer", True),
        ("provider_id", "integer", False),
        ("care_site_id", "integer", False),
        ("visit_source_value", "varchar(50)", False),
        ("visit_source_concept_id", "integer", False),
        ("admitted_from_concept_id", "integer", False),
        ("admitted_from_source_value", "varchar(50)", False),
        ("discharged_to_concept_id", "integer", False),
        ("discharged_to_source_value", "varchar(50)", False),
        ("preceding_visit_occurrence_id", "integer", False),
    ),
    "condition_occurrence": (
        ("condition_occurrence_id", "integer", True),
        ("person_id", "integer", True),
        ("condition_concept_id", "integer", True),
        ("condition_start_date", "date", True),
        ("condition_start_datetime", "datetime", False),
        ("condition_end_date", "date", False),
        ("condition_end_datetime", "datetime", False),
        ("condition_type_concept_id", "integer", True),
        ("condition_status_concept_id", "integer", False),
        ("stop_reason", "varchar(20)", False),
        ("provider_id", "integer", False),
        ("visit_occurrence_id", "integer", False),
        ("visit_detail_id", "integer", False),
        ("condition_source_value", "varchar(50)", False),
        ("condition_source_concept_id", "integer", False),
        ("condition_status_source_value", "varchar(50)", False),
    ),
    "drug_exposure": (
        ("drug_exposure_id", "integer", True),
        ("person_id", "integer", True),
        ("drug_concept_id", "integer", True),
        ("drug_exposure_start_date", "date", True),
        ("drug_exposure_start_datetime", "datetime", False),
        ("drug_exposure_end_date", "date", True),
        ("drug_exposure_end_datetime", "datetime", False),
        ("verbatim_end_date", "date", False),
        ("drug_type_concept_id", "integer", True),
        ("stop_reason", "varchar(20)", False),
        ("refills", "integer", False),
        ("quantity", "float", False),
        ("days_supply", "integer", False),
        ("sig", "varchar(max)", False),
        ("route_concept_id", "integer", False),
        ("lot_number", "varchar(50)", False),
        ("provider_id", "integer", False),
        ("visit_occurrence_id", "integer", False),
        ("visit_detail_id", "integer", False),
        ("drug_source_value", "varchar(50)", False),
        ("drug_source_concept_id", "integer", False),
        ("route_source_value", "varchar(50)", False),
        ("dose_unit_source_value", "varchar(50)", False),
    ),
    "procedure_occurrence": (
        ("procedure_occurrence_id", "integer", True),
        ("person_id", "integer", True),
        ("procedure_concept_id", "integer", True),
        ("procedure_date", "date", True),
        ("procedure_datetime", "datetime", False),
        ("procedure_end_date", "date", False),
        ("procedure_end_datetime", "datetime", False),
        ("procedure_type_concept_id", "integer", True),
        ("modifier_concept_id", "integer", False),
        ("quantity", "integer", False),
        ("provider_id", "integer", False),
        ("visit_occurrence_id", "integer", False),
        ("visit_detail_id", "integer", False),
        ("procedure_source_value", "varchar(50)", False),
        ("procedure_source_concept_id", "integer", False),
        ("modifier_source_value", "varchar(50)", False),
    ),
    "observation": (
        ("observation_id", "integer", True),
        ("person_id", "integer", True),
        ("observation_concept_id", "integer", True),
        ("observation_date", "date", True),
        ("observation_datetime", "datetime", False),
        ("observation_type_concept_id", "integer", True),
        ("value_as_number", "float", False),
        ("value_as_string", "varchar(60)", False),
        ("value_as_concept_id", "integer", False),
        ("qualifier_concept_id", "integer", False),
        ("unit_concept_id", "integer", False),
        ("provider_id", "integer", False),
        ("visit_occurrence_id", "integer", False),
        ("visit_detail_id", "integer", False),
        ("observation_source_value", "varchar(50)", False),
        ("observation_source_concept_id", "integer", False),
        ("unit_source_value", "varchar(50)", False),
        ("qualifier_source_value", "varchar(50)", False),
        ("value_source_value", "varchar(50)", False),
        ("observation_event_id", "integer", False),
        ("obs_event_field_concept_id", "integer", False),
    ),
    "cdm_source": (
        ("cdm_source_name", "varchar(255)", True),
        ("cdm_source_abbreviation", "varchar(25)", True),
        ("cdm_holder", "varchar(255)", True),
        ("source_description", "varchar(max)", False),
        ("source_documentation_reference", "varchar(255)", False),
        ("cdm_etl_reference", "varchar(255)", False),
        ("source_release_date", "date", True),
        ("cdm_release_date", "date", True),
        ("cdm_version", "varchar(10)", False),
        ("cdm_version_concept_id", "integer", True),
        ("vocabulary_version", "varchar(20)", True),
    ),
}
TABLES = tuple(FIELDS)
# Primary keys (the first field, except cdm_source, which has none) and foreign keys
KEYS = {t: fields[0][0] for t, fields in FIELDS.items() if t != "cdm_source"}
FOREIGN = {"person_id": "person", "visit_occurrence_id": "visit_occurrence",
           "preceding_visit_occurrence_id": "visit_occurrence"}


def _type(cdm: str, dialect: str) -> str:
    if cdm == "integer":
        return "BIGINT" if dialect != "sqlite" else "INTEGER"
    if cdm == "float":
        return {"sqlite": "REAL", "duckdb": "DOUBLE"}.get(dialect, "DOUBLE PRECISION")
    if cdm == "date":
        return "DATE"
    if cdm == "datetime":
        return "TIMESTAMP"
    if cdm == "varchar(max)" or dialect == "sqlite":
        return "TEXT"
    return cdm.upper()


def ddl(table: str, dialect: str, name: str | None = None) -> str:
    """``CREATE TABLE`` of a CDM table for ``duckdb``, ``sqlite`` or ``postgresql``, with its
    NOT NULLs, primary key and (``person_id``, visits) foreign keys.

    >>> ddl("observation_period", "sqlite").split(", ")[1]
    'person_id INTEGER NOT NULL'
    """
    parts = [f"{f} {_type(t, dialect)}{' NOT NULL' if required else ''}"
             for f, t, required in FIELDS[table]]
    if table in KEYS:
        parts.append(f"PRIMARY KEY ({KEYS[table]})")
    for field, _, _ in FIELDS[table]:
        target = FOREIGN.get(field)
        if target is not None and target != table or field == "preceding_visit_occurrence_id":
            if field != KEYS.get(table):
                ref = target or table
                parts.append(f"FOREIGN KEY ({field}) REFERENCES {ref} ({KEYS[ref]})")
    return f"CREATE TABLE {name or table} ({', '.join(parts)})"

