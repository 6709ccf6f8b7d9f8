"""Measurement rows -> one tidy DataFrame: one row per measured number.

Columns, in order: ``benchmark``, one column per benchmark parameter (``family``,
``n``, ``k``, ``mode``... in order of first appearance), ``device``, ``implementation``
(a parameter ``impl`` is renamed so), ``value``, ``q25`` and ``q75`` (quartiles of the
samples, where there were several), ``unit``, ``commit``, ``date`` (of the
commit, UTC), ``machine`` and ``env`` (asv's environment name: Python and requirements). A
parameter a benchmark does not take is missing (``<NA>``) on its rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pandas as pd

LEADING = ["benchmark"]
#: Parameters with a fixed place: every table reads them.
NAMED_PARAMS = ["device", "implementation"]
#: ``q25`` and ``q75``: quartiles of the samples behind ``value`` (missing when one sample).
MEASUREMENT = ["value", "q25", "q75", "unit"]
RUN = ["commit", "date", "machine", "env"]
_NOT_PARAMS = {*LEADING, *NAMED_PARAMS, *MEASUREMENT, *RUN}
#: Other names benchmarks give the named parameters.
ALIASES = {"impl": "implementation"}


def tidy(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """The tidy frame of ``rows`` (dicts with the columns above), sorted for reproducibility."""
    # dtype=object: no early guess (ints next to a missing value would become floats).
    frame = pd.DataFrame([_renamed(row) for row in rows], dtype=object)
    for column in [*LEADING, *NAMED_PARAMS, *MEASUREMENT, *RUN]:
        if column not in frame.columns:
            frame[column] = None
    params = [str(c) for c in frame.columns if c not in _NOT_PARAMS]
    frame = frame[[*LEADING, *params, *NAMED_PARAMS, *MEASUREMENT, *RUN]]
    for column in [*params, *NAMED_PARAMS]:
        frame[column] = _parameter_column(frame[column])
    for column in ["benchmark", "unit", "commit", "machine", "env"]:
        frame[column] = frame[column].astype("string")
    for column in ("value", "q25", "q75"):
        frame[column] = frame[column].astype("float64")
    frame["date"] = pd.to_datetime(frame["date"], utc=True)
    order = ["machine", "env", "date", "commit", "benchmark", *params, *NAMED_PARAMS]
    tidy: pd.DataFrame = frame.sort_values(order, kind="stable", na_position="last")
    tidy = tidy.reset_index(drop=True)
    return tidy


def _renamed(row: dict[str, Any]) -> dict[str, Any]:
    return {ALIASES.get(key, key): value for key, value in row.items()}


def parameter_columns(frame: pd.DataFrame) -> list[str]:
    """The parameter columns of a tidy frame, ``device`` and ``implementation`` last."""
    params = [str(c) for c in frame.columns if c not in _NOT_PARAMS]
    return [*params, *NAMED_PARAMS]


def _parameter_column(values: pd.Series) -> pd.Series:
    """One dtype per parameter: booleans, integers, floats, or else text.

    Types are never mixed in a column, so sorting and grouping on it are well defined.
    """
    present = [v for v in values if not _missing(v)]
    if present and all(isinstance(v, bool) for v in present):
        return values.astype("boolean")
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return values.astype("Int64")
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return values.astype("Float64")
    return values.map(lambda v: None if _missing(v) else str(v)).astype("string")


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
