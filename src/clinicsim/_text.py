"""Text that is not valid Unicode: a ``str`` holding a lone surrogate (U+D800..U+DFFF).

Python strings can hold them (``json.loads('"\\ud800"')``, ``os.fsdecode`` of bytes that
are not UTF-8, half of a pair cut by slicing), but no UTF-8 file, Arrow string or pandas
text column can: whatever first encodes one fails with ``UnicodeEncodeError``, far from
where it came in. clinicsim refuses such text at the door, naming where it is: in a model
(:func:`model_text_errors`, for model files, ``model_from_dict`` and edits) and in the
cells of a records table (:func:`bad_text`, for the report and ``sample_remaining``).
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pandas as pd

from ._validate import shown

__all__ = ["bad_text", "model_text_errors", "not_unicode"]

_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_DEPTH = 64  # model/_limits.MAX_DEPTH: deeper model data is refused anyway
_SHOWN_ERRORS = 10  # texts named in one model error; the rest are counted


def not_unicode(text: str) -> str | None:
    """Why ``text`` is not valid Unicode text, or None if it is.

    >>> not_unicode("asthma"), not_unicode("ast\\ud800hma")
    (None, 'lone surrogate U+D800 at character 4')
    """
    found = _SURROGATE.search(text)
    if found is None:
        return None
    return f"lone surrogate U+{ord(found[0]):04X} at character {found.start() + 1}"


def _any_bad(data: Any) -> bool:
    """Whether any str in plain data (a model file's) holds a lone surrogate: one pass in
    C, so that valid data (all but never) costs no walk in Python."""
    try:
        json.dumps(data, ensure_ascii=False, skipkeys=True, default=str).encode("utf-8")
    except UnicodeEncodeError:
        return True
    except (ValueError, TypeError, RecursionError):  # not JSON-like: look at every value
        return True
    return False


def model_text_errors(data: Any) -> list[str]:
    """An error for each text in model-file ``data`` that is not valid Unicode.

    Node names and states are named as such (once each, though a state is also a key of
    CPD columns and metadata); any other text by its place in the data.

    >>> data = {"nodes": {"gender": {"states": ["male", "fe\\udc80male"]}},
    ...         "metadata": {"note": ["x\\ud83d"]}}
    >>> for e in model_text_errors(data):
    ...     print(e)  # doctest: +NORMALIZE_WHITESPACE
    state 'fe\\udc80male' of node 'gender' is not valid Unicode text
    (lone surrogate U+DC80 at character 3)
    metadata.note[0]: 'x\\ud83d' is not valid Unicode text (lone surrogate U+D83D at character 2)
    """
    if not _any_bad(data):
        return []
    errors: list[str] = []
    named: set[str] = set()
    nodes = data.get("nodes") if isinstance(data, dict) else None
    for node, spec in nodes.items() if isinstance(nodes, dict) else ():
        if isinstance(node, str) and (why := not_unicode(node)):
            errors.append(f"node {shown(node)} is not valid Unicode text ({why})")
            named.add(node)
        states = spec.get("states") if isinstance(spec, dict) else None
        for state in states if isinstance(states, list) else ():
            if isinstance(state, str) and state not in named and (why := not_unicode(state)):
                errors.append(f"state {shown(state)} of node {shown(node)} is not valid "
                              f"Unicode text ({why})")
                named.add(state)

    def walk(value: Any, at: str, depth: int = 0) -> None:
        if depth > _MAX_DEPTH:  # deeper data is refused by its own check
            return
        if isinstance(value, str):
            if value not in named and (why := not_unicode(value)):
                errors.append(f"{at or 'the model'}: {shown(value)} is not valid Unicode "
                              f"text ({why})")
                named.add(value)
        elif isinstance(value, dict):
            for key, child in value.items():
                walk(key, at, depth + 1)
                name = shown(key) if isinstance(key, str) and not_unicode(key) else str(key)
                walk(child, f"{at}.{name}" if at else name, depth + 1)
        elif isinstance(value, (list, tuple)):
            for i, child in enumerate(value):
                walk(child, f"{at}[{i}]", depth + 1)

    walk(data, "")
    if len(errors) > _SHOWN_ERRORS:
        errors[_SHOWN_ERRORS:] = [f"... and {len(errors) - _SHOWN_ERRORS} more texts that "
                                  "are not valid Unicode"]
    return errors


def bad_text(column: pd.Series) -> np.ndarray:
    """Which cells of a records column are text that is not valid Unicode.

    Only an object column can hold such a cell (pandas' and Arrow's text columns are
    UTF-8); its text is checked in C, and cell by cell only if that fails.

    >>> bad_text(pd.Series(["ok", "b\\udc80d", 3], dtype=object)).tolist()
    [False, True, False]
    """
    if not pd.api.types.is_object_dtype(column.dtype):
        return np.zeros(len(column), bool)
    text = [v for v in column if isinstance(v, str)]
    try:
        "".join(text).encode("utf-8")
    except UnicodeEncodeError:
        return np.fromiter((isinstance(v, str) and _SURROGATE.search(v) is not None
                            for v in column), bool, len(column))
    return np.zeros(len(column), bool)
