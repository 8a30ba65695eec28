"""Records rows as FHIR R4 resources, built as NDJSON lines by vectorised string joins.

A resource is a fixed JSON template with a few per-row values (ids, dates, the state's
own fragment); the lines are joined column-wise by pyarrow, so a million records take a
few seconds, not the minutes of a dict and a ``json.dumps`` per resource.
:func:`clinicsim.fhir.resources` parses these same lines: one mapping, two outputs.

Ids are stable and derived from ``patient_id``: ``Patient/{id}``, ``Encounter/{id}-enc``,
``Condition/{id}-dx``, the treatment ``{id}-tx``, the follow-up ``ServiceRequest/{id}-fu``
and, for the ``k``-th further node of the model (``clinicsim.simulate.extra_nodes``, from
0), ``Observation/{id}-o{k}``: ``code.text`` the node, ``valueCodeableConcept.text`` the
state, each with a ``coding`` when the model's ``metadata.nodes`` gives one
(:func:`clinicsim.model.node_codings`).
A ``patient_id`` that is not a valid FHIR id (letters, digits, ``-`` and ``.``, at most 60
characters here, leaving room for the suffixes) is replaced by ``x-`` and 40 hex digits of
its SHA-256; the original is kept in ``Patient.identifier``.
"""

from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .._errors import ClinicSimError
from .._random import block_seed
from ..model import FOLLOW_UP_CODE, ClinicModel, Coding, node_codings, treatment_codes
from ..simulate import extra_nodes

__all__ = ["BIRTH_BLOCK_ROWS", "CLINICAL_STATUS", "GENDERS", "ICD10CM", "ID_SYSTEM", "Mapper",
           "age_on", "birth_dates", "file_order"]

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ID_SYSTEM = "urn:clinicsim:patient_id"
GENDERS = ("male", "female", "other", "unknown")  # FHIR administrative-gender
# Condition.clinicalStatus by diagnosis category: a chronic disease stays active, and a
# surgical one until its operation (not in the records); the acute episodes (viral,
# bacterial, injury, other) are over by the time anyone reads the export, and a
# preventive visit's "condition" (Z00.*) ends with the visit.
CLINICAL_STATUS = {"chronic": "active", "surgical": "active", "viral": "resolved",
                   "bacterial": "resolved", "injury": "resolved", "other": "resolved",
                   "preventive": "resolved"}
BIRTH_BLOCK_ROWS = 1 << 16  # birth dates of rows [i * this, (i + 1) * this) use stream i
_FOLLOW_UP_DISPLAY = "Follow-up encounter (procedure)"
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,60}$")
_NEEDS_ESCAPE = r'["\\\x00-\x1f]'
_DATE_FIELD = {"Procedure": "performedDateTime", "MedicationRequest": "authoredOn",
               "ServiceRequest": "authoredOn"}
_STATUS = {"Procedure": '"status":"completed"',  # done at the visit
           "MedicationRequest": '"status":"active","intent":"order"',  # ordered at the visit
           "ServiceRequest": '"status":"active","intent":"order"'}
_CODE_FIELD = {"Procedure": "code", "MedicationRequest": "medicationCodeableConcept",
               "ServiceRequest": "code"}


def _j(value: str) -> str:
    """``value`` as a JSON string literal (quotes included), UTF-8 kept as is."""
    return json.dumps(value, ensure_ascii=False)


def _coding(system: str, code: str, display: str | None = None) -> str:
    shown = f',"display":{_j(display)}' if display is not None else ""
    return f'{{"system":{_j(system)},"code":{_j(code)}{shown}}}'


def _concept(text: str, coding: Coding | None) -> str:
    """A CodeableConcept's fields (no braces): its coding when there is one, and text."""
    if coding is None:
        return f'"text":{_j(text)}'
    return f'"coding":[{_coding(coding.system, coding.code, coding.display)}],"text":{_j(text)}'


def file_order(model: ClinicModel) -> list[str]:
    """Resource types an export of ``model`` can write, in file and Bundle order."""
    types = {c.resource for c in treatment_codes(model.metadata).values()} | {"ServiceRequest"}
    if extra_nodes(model):
        types.add("Observation")
    return ["Patient", "Encounter", "Condition", *sorted(types)]


class Mapper:
    """A model's states compiled into JSON fragments; :meth:`lines` maps a chunk of rows."""

    def __init__(self, model: ClinicModel) -> None:
        self.model = model
        genders = model.states("gender")
        wrong = [g for g in genders if g not in GENDERS]
        if wrong:
            raise ClinicSimError(f"gender state(s) {wrong} have no FHIR administrative-gender "
                                 f"code ({', '.join(GENDERS)}); rename them in the model")
        self.states = {n: model.states(n) for n in ("gender", "diagnosis", "treatment")}
        self.gender = pa.array(genders)
        codes, categories = model.diagnosis_codes, model.diagnosis_categories
        self.condition = pa.array([
            '"clinicalStatus":{"coding":[' + _coding(
                "http://terminology.hl7.org/CodeSystem/condition-clinical",
                CLINICAL_STATUS[categories[d]]) + ']},'
            '"verificationStatus":{"coding":[' + _coding(
                "http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed")
            + ']},"category":[{"coding":[' + _coding(
                "http://terminology.hl7.org/CodeSystem/condition-category",
                "encounter-diagnosis", "Encounter Diagnosis") + ']}],'
            f'"code":{{"coding":[{_coding(ICD10CM, codes[d])}],"text":{_j(d)}}}'
            for d in self.states["diagnosis"]])
        tx = treatment_codes(model.metadata)
        self.types = file_order(model)
        self.tx_type = np.array([self.types.index(tx[t].resource)
                                 for t in self.states["treatment"]])
        self.tx_head = pa.array([f'{{"resourceType":"{tx[t].resource}","id":"'
                                 for t in self.states["treatment"]])
        self.tx_body = pa.array([
            f'{_STATUS[c.resource]},"{_CODE_FIELD[c.resource]}":{{"coding":['
            f'{_coding(c.system, c.code, c.display)}],"text":{_j(t)}}}'
            for t, c in tx.items()])
        self.tx_date = pa.array([f',"{_DATE_FIELD[tx[t].resource]}":"'
                                 for t in self.states["treatment"]])
        # further nodes: (node, its Observation's head, a valueCodeableConcept per state)
        self.observed: list[tuple[str, str, pa.Array]] = []
        for k, node in enumerate(extra_nodes(model)):
            own, state_codes = node_codings(model.metadata, node)
            self.observed.append((
                node, f'-o{k}","status":"final","code":{{{_concept(node, own)}}}',
                pa.array([f'"valueCodeableConcept":{{{_concept(state, state_codes.get(state))}}}}}'
                          for state in model.states(node)])))
        for node, _, _ in self.observed:
            self.states[node] = model.states(node)

    def codes(self, column: pd.Series, node: str) -> np.ndarray:
        """State codes of a checked records column (every value a state)."""
        return np.asarray(pd.Categorical(column, categories=self.states[node]).codes)

    def lines(self, rows: pd.DataFrame, birth: np.ndarray) -> dict[str, pa.Array]:
        """NDJSON lines (without newlines) of ``rows`` per resource type, in row order.

        ``rows`` are checked records; ``birth`` their birth dates (datetime64[D]).
        """
        pid, value = _ids(rows["patient_id"])
        visit = _day_strings(_days(rows["visit_date"]))
        join = pc.binary_join_element_wise
        patient_ref = ',"subject":{"reference":"Patient/'
        encounter_ref = '"},"encounter":{"reference":"Encounter/'
        condition_ref = '-enc"},"reasonReference":[{"reference":"Condition/'
        # per type: (row of each line, lines); a file is in row order, a treatment before
        # its row's follow-up, so its bytes never depend on how rows are sliced
        out: dict[str, list[tuple[np.ndarray, pa.Array]]] = {t: [] for t in self.types}
        everyone = np.arange(len(rows))
        out["Patient"].append((everyone, join(
            '{"resourceType":"Patient","id":"', pid,
            f'","identifier":[{{"system":"{ID_SYSTEM}","value":"', value,
            '"}],"gender":"', self.gender.take(self.codes(rows["gender"], "gender")),
            '","birthDate":"', _day_strings(birth), '"}', "")))
        out["Encounter"].append((everyone, join(
            '{"resourceType":"Encounter","id":"', pid, '-enc","status":"finished",'
            '"class":' + _coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB",
                                 "ambulatory"),
            patient_ref, pid, '"},"period":{"start":"', visit, '","end":"', visit,
            '"},"reasonReference":[{"reference":"Condition/', pid, '-dx"}]}', "")))
        dx = self.codes(rows["diagnosis"], "diagnosis")
        out["Condition"].append((everyone, join(
            '{"resourceType":"Condition","id":"', pid, '-dx",', self.condition.take(dx),
            patient_ref, pid, encounter_ref, pid, '-enc"},"recordedDate":"', visit, '"}', "")))
        tx = self.codes(rows["treatment"], "treatment")
        lines = join(self.tx_head.take(tx), pid, '-tx",', self.tx_body.take(tx), patient_ref,
                     pid, encounter_ref, pid, condition_ref, pid, '-dx"}]',
                     self.tx_date.take(tx), visit, '"}', "")
        kind = self.tx_type[tx]
        for node, head, values in self.observed:
            if node in rows.columns:  # a column the records lack has no Observations
                out["Observation"].append((everyone, join(
                    '{"resourceType":"Observation","id":"', pid, head, patient_ref, pid,
                    encounter_ref, pid, '-enc"},"effectiveDateTime":"', visit, '",',
                    values.take(self.codes(rows[node], node)), "")))
        for k in np.unique(kind):
            out[self.types[k]].append((everyone[kind == k], lines.filter(pa.array(kind == k))))
        follow = rows["follow_up"].to_numpy(bool)
        if follow.any():
            mask = pa.array(follow)
            due = ""
            if "follow_up_date" in rows.columns:
                days = _days(rows["follow_up_date"])[follow]
                due = join('"occurrenceDateTime":"', _day_strings(days), '",', "")
            resource, system, code = FOLLOW_UP_CODE
            pid_f = pid.filter(mask)
            out[resource].append((everyone[follow], join(
                f'{{"resourceType":"{resource}","id":"', pid_f, '-fu",'
                '"status":"active","intent":"order","code":{"coding":['
                + _coding(system, code, _FOLLOW_UP_DISPLAY) + '],"text":"follow-up visit"}',
                patient_ref, pid_f, encounter_ref, pid_f, condition_ref, pid_f, '-dx"}],',
                due, '"authoredOn":"', visit.filter(mask), '"}', "")))
        result = {}
        for kind, parts in out.items():
            if not parts or not sum(len(p[0]) for p in parts):
                continue
            if len(parts) == 1:
                result[kind] = parts[0][1]
                continue
            order = np.argsort(np.concatenate([p[0] for p in parts]), kind="stable")
            result[kind] = pa.concat_arrays([p[1] for p in parts]).take(pa.array(order))
        return result


def _ids(patient_id: pd.Series) -> tuple[pa.Array, pa.Array]:
    """FHIR ids and JSON-escaped identifier values of a ``patient_id`` column."""
    values = pa.array(patient_id.astype(str), pa.string())
    fid = values
    valid = pc.match_substring_regex(values, _FHIR_ID.pattern)
    if not pc.all(valid).as_py():
        fid = pa.array([v if ok else "x-" + hashlib.sha256(v.encode()).hexdigest()[:40]
                        for v, ok in zip(values.to_pylist(), valid.to_pylist(), strict=True)],
                       pa.string())
    escaped = values
    if pc.any(pc.match_substring_regex(values, _NEEDS_ESCAPE)).as_py():
        escaped = pa.array([_j(v)[1:-1] for v in values.to_pylist()], pa.string())
    return fid, escaped


def _days(column: pd.Series) -> np.ndarray:
    return pd.to_datetime(column, format="ISO8601").to_numpy("datetime64[D]")


def _day_strings(days: np.ndarray) -> pa.Array:
    """``YYYY-MM-DD`` of each day, formatted once per distinct day in the range."""
    if len(days) == 0:
        return pa.array([], pa.string())
    lo, hi = days.min(), days.max()
    table = np.datetime_as_string(np.arange(lo, hi + 1), unit="D")
    return pa.array(table, pa.string()).take(pa.array((days - lo).astype(np.int64)))


def birth_dates(visit: np.ndarray, age: np.ndarray, root: np.random.SeedSequence,
                start: int) -> np.ndarray:
    """Birth dates (datetime64[D]) of rows ``start ..`` with ``age`` on ``visit``.

    Uniform over the 365 or 366 days whose age on the visit date is ``age`` (a year older
    on each birthday; one born on 29 February is a year older on 1 March in other years).
    The uniforms of rows in block ``i`` of ``BIRTH_BLOCK_ROWS`` come from child 2 of the
    sampler's block seed ``i`` (children 0 and 1 draw the records), so an export from
    records made with the same seed equals ``sample --format fhir``, however chunked.
    """
    n = len(visit)
    u = np.empty(n)
    pos = 0
    while pos < n:
        row = start + pos
        block, offset = divmod(row, BIRTH_BLOCK_ROWS)
        take = min(n - pos, BIRTH_BLOCK_ROWS - offset)
        stream = np.random.default_rng(block_seed(block_seed(root, block), 2))
        u[pos:pos + take] = stream.random(offset + take)[offset:]
        pos += take
    year = visit.astype("datetime64[Y]").astype(np.int64) + 1970
    month = visit.astype("datetime64[M]").astype(np.int64) % 12
    day = (visit - visit.astype("datetime64[M]")).astype(np.int64)
    age = np.asarray(age, np.int64)
    latest = _clamped(year - age, month, day)  # the birthday on the visit day, or before
    earliest = _clamped(year - age - 1, month, day) + 1
    span = (latest - earliest).astype(np.int64) + 1
    return earliest + (u * span).astype(np.int64)


def _clamped(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """The date ``year-month-(day+1)``, or the month's last day if it has fewer days."""
    first = ((year - 1970) * 12 + month).astype("datetime64[M]")
    last = (first + 1).astype("datetime64[D]") - 1
    return np.minimum(first.astype("datetime64[D]") + day, last)


def age_on(birth: np.ndarray, visit: np.ndarray) -> np.ndarray:
    """Whole years from ``birth`` to ``visit`` (both datetime64[D])."""
    def parts(d):
        months = d.astype("datetime64[M]").astype(np.int64)
        return months // 12, months % 12, (d - d.astype("datetime64[M]")).astype(np.int64)
    by, bm, bd = parts(birth)
    vy, vm, vd = parts(visit)
    return vy - by - ((vm * 32 + vd) < (bm * 32 + bd))
