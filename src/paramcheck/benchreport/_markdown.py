"""Markdown pipe tables with fixed number formatting, so a report is reproducible byte for byte.

Numbers keep three significant digits in a unit chosen from their size (``12.3 µs``,
``1.50 MiB``); ratios keep two decimals (``1.52×``). Formatting goes through Python's
``format``, which gives the same text for the same float on every platform.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pandas as pd

_TIME_UNITS = (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9))
_BYTE_UNITS = (("GiB", 2.0**30), ("MiB", 2.0**20), ("KiB", 2.0**10), ("B", 1.0))

#: Units of dimensionless ``track_`` benchmarks, shown as ``1.52×``.
_RATIO_UNITS = {"ratio", "x", "×"}

Formatter = Callable[[object], str]


def significant(value: float, digits: int = 3) -> str:
    """``value`` with ``digits`` significant digits, in fixed notation: 0.0123, 12.3, 123."""
    if value == 0 or not math.isfinite(value):
        return format(value, "g")
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{value:.{decimals}f}"


def quantity(value: float, unit: str) -> str:
    """A measured value in a readable unit: seconds as s/ms/µs/ns, bytes as B/KiB/MiB/GiB,
    ratios as ``1.52×``."""
    if unit in _RATIO_UNITS:
        return ratio(value)
    scales = {"seconds": _TIME_UNITS, "bytes": _BYTE_UNITS}.get(unit)
    if scales is None:
        return f"{significant(value)} {unit}".rstrip()
    for name, scale in scales:
        if abs(value) >= scale or scale == scales[-1][1]:
            return f"{significant(value / scale)} {name}"
    raise AssertionError("unreachable: the last scale always matches")


def ratio(value: object) -> str:
    """A dimensionless ratio: ``1.52×``."""
    return f"{float(value):.2f}×" if present(value) else "—"  # type: ignore[arg-type]


def cell(value: object) -> str:
    """A table cell for a parameter or label: missing values show as an em dash."""
    if not present(value):
        return "—"
    if isinstance(value, float):
        return significant(value)
    return str(value)


def table(
    frame: pd.DataFrame,
    formats: dict[str, Formatter] | None = None,
    numeric: Sequence[str] = (),
) -> str:
    """``frame`` as a markdown pipe table; ``numeric`` columns are right-aligned."""
    formats = formats or {}
    columns = [str(c) for c in frame.columns]
    header = "| " + " | ".join(_escape(c) for c in columns) + " |"
    rule = "| " + " | ".join("---:" if c in numeric else "---" for c in columns) + " |"
    lines = [header, rule]
    for row in frame.itertuples(index=False, name=None):
        cells = [formats.get(c, cell)(v) for c, v in zip(columns, row, strict=True)]
        lines.append("| " + " | ".join(_escape(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def present(value: object) -> bool:
    """Whether ``value`` is there: not None, NA or NaN."""
    return not (value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)))


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
