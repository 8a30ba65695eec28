"""An Athena vocabulary download (``CONCEPT.csv``, ``CONCEPT_RELATIONSHIP.csv``, tab
separated as Athena writes them) as the concept ids of clinicsim's source codes.

A code's source concept is the CONCEPT row of its vocabulary (ICD10CM for diagnoses, ATC
for drugs, SNOMED for procedures and referrals) with that ``concept_code``; its standard
concept is where the source concept 'Maps to' (a valid relationship), or the source
concept itself when it is standard. A code the vocabulary lacks keeps concept 0: no record
is dropped. Only the rows of those vocabularies and relationships are kept in memory.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

from .._errors import ClinicSimError

__all__ = ["VOCABULARIES", "Vocabulary", "read_vocabulary"]

# FHIR code systems of the model's codes -> Athena vocabulary_id
VOCABULARIES = {"http://hl7.org/fhir/sid/icd-10-cm": "ICD10CM",
                "http://www.whocc.no/atc": "ATC", "http://snomed.info/sct": "SNOMED"}
_CONCEPT = ("concept_id", "vocabulary_id", "concept_code", "standard_concept")
_RELATION = ("concept_id_1", "concept_id_2", "relationship_id", "invalid_reason")


@dataclass
class Vocabulary:
    """Source and standard concept ids by (vocabulary_id, concept_code)."""

    version: str
    source: dict[tuple[str, str], int] = field(default_factory=dict)
    standard: dict[int, int] = field(default_factory=dict)

    def concepts(self, vocabulary: str, code: str) -> tuple[int, int]:
        """(standard concept id, source concept id) of ``code``; 0 where unknown."""
        source = self.source.get((vocabulary, code), 0)
        return self.standard.get(source, 0), source


def _rows(path: Path, needed: tuple[str, ...]):
    """The rows of a tab-separated Athena file as dicts of ``needed``; a malformed file is
    named with its line."""
    if not path.is_file():
        raise ClinicSimError(f"vocabulary: no {path.name} in {str(path.parent)!r}")
    with open(path, newline="", encoding="utf-8") as file:
        reader = csv.reader(file, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader, [])
        missing = [c for c in needed if c not in header]
        if missing:
            raise ClinicSimError(f"vocabulary {str(path)!r} line 1: no column "
                                 f"{', '.join(missing)} (a tab-separated Athena file)")
        index = [header.index(c) for c in needed]
        for row in reader:
            if len(row) != len(header):
                raise ClinicSimError(f"vocabulary {str(path)!r} line {reader.line_num}: "
                                     f"{len(row)} fields, the header has {len(header)}")
            yield row, index, reader.line_num


def read_vocabulary(folder: str | os.PathLike[str]) -> Vocabulary:
    """The concepts of an Athena download in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ClinicSimError(f"vocabulary {str(folder)!r} is not a folder (an Athena "
                             "download with CONCEPT.csv and CONCEPT_RELATIONSHIP.csv)")
    wanted = set(VOCABULARIES.values())
    vocab = Vocabulary(version="Athena download " + str(folder.name))
    standard_self: set[int] = set()
    for row, (cid, vid, code, std), line in _rows(folder / "CONCEPT.csv", _CONCEPT):
        if row[vid] in wanted:
            concept = _int(row[cid], folder / "CONCEPT.csv", line)
            vocab.source[(row[vid], row[code])] = concept
            if row[std] == "S":
                standard_self.add(concept)
    known = set(vocab.source.values())
    for row, (one, two, rel, invalid), line in _rows(folder / "CONCEPT_RELATIONSHIP.csv",
                                                     _RELATION):
        if row[rel] == "Maps to" and not row[invalid]:
            source = _int(row[one], folder / "CONCEPT_RELATIONSHIP.csv", line)
            if source in known:
                vocab.standard[source] = _int(row[two], folder / "CONCEPT_RELATIONSHIP.csv",
                                              line)
    for concept in standard_self:
        vocab.standard.setdefault(concept, concept)
    version_file = folder / "VOCABULARY.csv"
    if version_file.is_file():
        for row, (vid, version), _ in _rows(version_file, ("vocabulary_id",
                                                           "vocabulary_version")):
            if row[vid] == "None":
                vocab.version = row[version]
    return vocab


def _int(text: str, path: Path, line: int) -> int:
    try:
        return int(text)
    except ValueError:
        raise ClinicSimError(f"vocabulary {str(path)!r} line {line}: concept id {text!r} is "
                             "not an integer") from None
