"""Optional FHIR codings of the further nodes and their states, in ``metadata.nodes``.

A further node (one no record column of the brief carries, ``clinicsim.simulate.extra_nodes``)
becomes an ``Observation`` per record in a FHIR export: ``code.text`` the node,
``valueCodeableConcept.text`` the state. Its entry in ``metadata.nodes`` may add a coding
to either::

    metadata:
      nodes:
        payment:
          coding: {system: 'http://loinc.org', code: '...', display: '...'}   # optional
          state_codings:                                                    # optional, any states
            medicare: {system: 'https://nahdo.org/sopt', code: '1', display: MEDICARE}

``system`` (an absolute URI) and ``code`` are required in a coding, ``display`` optional.
Other keys of the entry (``add_node(metadata=...)`` keeps what it is given) are left alone.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from ._treatments import _CODE, _URI

__all__ = ["Coding", "check_node_codings", "node_codings"]

_KEYS = ("system", "code", "display")


@dataclass(frozen=True)
class Coding:
    """A FHIR Coding: code system URI, code and (optionally) display."""

    system: str
    code: str
    display: str | None = None


def _check_coding(entry: Any, where: str, errors: list[str]) -> None:
    if not isinstance(entry, dict) or not {"system", "code"} <= set(entry) <= set(_KEYS) \
            or not all(isinstance(v, str) and v for v in entry.values()):
        errors.append(f"{where} must be {{system, code}} and optionally display, each a "
                      f"non-empty string; got {entry!r}")
        return
    if not _URI.match(entry["system"]):
        errors.append(f"{where}.system must be the code system's URI (http://, https:// or "
                      f"urn:); got {entry['system']!r}")
    if not _CODE.match(entry["code"]):
        errors.append(f"{where}.code must have no leading, trailing or repeated spaces; "
                      f"got {entry['code']!r}")


def check_node_codings(spec: Any, states: dict[str, list[str]], further: Collection[str],
                       errors: list[str]) -> None:
    """Add to ``errors`` every problem of the codings in ``metadata.nodes`` (``spec``).

    ``states`` gives every node's states; ``further`` the nodes that are Observations in a
    FHIR export, the only ones a coding is for.
    """
    if spec is None:
        return
    if not isinstance(spec, dict):
        errors.append(f"metadata.nodes must be a mapping of node names to entries; got {spec!r}")
        return
    for node, entry in spec.items():
        where = f"metadata.nodes[{node!r}]"
        if node not in states:
            errors.append(f"{where}: {node!r} is not a node of the model")
            continue
        if not isinstance(entry, dict):
            errors.append(f"{where} must be a mapping; got {entry!r}")
            continue
        if ("coding" in entry or "state_codings" in entry) and node not in further:
            errors.append(f"{where}: only a further node (an Observation in FHIR) takes a "
                          f"coding; {node!r} has its own FHIR mapping")
            continue
        if "coding" in entry:
            _check_coding(entry["coding"], f"{where}.coding", errors)
        codes = entry.get("state_codings", {})
        if not isinstance(codes, dict):
            errors.append(f"{where}.state_codings must map states of {node!r} to codings; "
                          f"got {codes!r}")
            continue
        for state, coding in codes.items():
            if state not in states[node]:
                errors.append(f"{where}.state_codings[{state!r}]: {state!r} is not a state of "
                              f"{node!r} {states[node]}")
            else:
                _check_coding(coding, f"{where}.state_codings[{state!r}]", errors)


def node_codings(metadata: dict[str, Any], node: str
                 ) -> tuple[Coding | None, dict[str, Coding]]:
    """The coding of ``node`` (or None) and of those of its states that have one, from a
    validated model's metadata.

    Examples
    --------
    >>> from clinicsim.model import node_codings
    >>> meta = {"nodes": {"payment": {"state_codings": {"medicare": {
    ...     "system": "https://nahdo.org/sopt", "code": "1", "display": "MEDICARE"}}}}}
    >>> node_codings(meta, "payment")
    (None, {'medicare': Coding(system='https://nahdo.org/sopt', code='1', display='MEDICARE')})
    """
    entry = (metadata.get("nodes") or {}).get(node) or {}
    own = Coding(**entry["coding"]) if "coding" in entry else None
    return own, {s: Coding(**c) for s, c in (entry.get("state_codings") or {}).items()}
