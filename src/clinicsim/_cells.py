"""Cells of a records table read as days or told apart as true/false values: one reading
of a visit date for the records check (``analysis``) and ``sample_remaining``."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["DATE_TEXT", "booleans", "days"]

# A visit date as text: a calendar date, perhaps with a time of day (which is dropped);
# never a time zone (one row in another zone is not the same day) nor a relative word
# ("today", "now"), which pandas would read as the day the report is made.
DATE_TEXT = r"\s*\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?\s*"


def booleans(column: pd.Series) -> np.ndarray:
    """Which cells are true/false values (a JSON ``true`` is no age, nor a date)."""
    if pd.api.types.is_bool_dtype(column.dtype):
        return column.notna().to_numpy(bool)
    if not pd.api.types.is_object_dtype(column.dtype):
        return np.zeros(len(column), bool)
    return np.fromiter((isinstance(v, (bool, np.bool_)) for v in column), bool, len(column))


def days(column: pd.Series) -> np.ndarray:
    """The cells as datetime64[D], NaT where a cell is not a date.

    A date column keeps its dates (a time-zone-aware one its local dates); anything else
    is read as text (a ``datetime.date`` cell as its ISO form), and only the text of
    :data:`DATE_TEXT` is parsed: no numbers, true/false, relative words or time zones.
    """
    if column.dtype.kind == "M":
        parsed = column.dt.tz_localize(None) if column.dt.tz is not None else column
    else:
        import pyarrow as pa
        import pyarrow.compute as pc

        try:
            text = column.astype(str)
            arrow = pa.array(text, pa.large_string(), from_pandas=True)
        except UnicodeEncodeError:  # text that is not Unicode ('\ud800') is no date
            text = pd.Series([str(v).encode("utf-8", "replace").decode() for v in column],
                             index=column.index, dtype=object)
            arrow = pa.array(text, pa.large_string(), from_pandas=True)
        # Arrow's RE2 kernel: about 12 times pandas' str.fullmatch on a million rows
        dated = pc.match_substring_regex(arrow,
                                         f"^(?:{DATE_TEXT})$").fill_null(False)
        dated = dated.to_numpy(zero_copy_only=False) & ~booleans(column)
        parsed = pd.to_datetime(text.where(dated), format="ISO8601", errors="coerce")
    return parsed.to_numpy(dtype="datetime64[D]", na_value=np.datetime64("NaT"))
