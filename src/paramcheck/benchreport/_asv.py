"""Read an asv results folder (format version 2, asv 0.5 and later) into measurement rows.

The folder that ``asv run`` fills (``results_dir`` in ``asv.conf.json``) holds::

    benchmarks.json                       name -> param_names, unit, version, type
    <machine>/machine.json                {"machine": <machine>, "version": 1}
    <machine>/<commit>-<env>.json         one run: commit_hash, date, env_name, params,
                                          result_columns, results: name -> row

Each row lines up with ``result_columns`` (``result``, ``params``, ``version``,
``stats_q_25``, ``stats_q_75``, ...): the quartiles of the samples become the rows' ``q25``
and ``q75`` (absent after a ``--quick`` run, which takes one sample).
``result`` holds one value per combination of ``params``, in ``itertools.product``
order: a number, ``NaN`` when the benchmark was skipped (``NotImplementedError`` in
``setup``), or ``null`` when it failed. Parameter values are stored as ``repr``
strings (``"'cpu'"``, ``"64"``, ``"True"``).

As ``asv publish`` does, a result is kept only when its benchmark is in
``benchmarks.json`` with the same ``version`` (the hash of the benchmark's code):
numbers measured by different benchmark code are not comparable.
"""

from __future__ import annotations

import ast
import itertools
import json
import math
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from paramcheck.errors import UsageError

RESULTS_FORMAT = 2
_NOT_RESULTS = {"benchmarks.json", "machine.json"}

Row = dict[str, Any]


def read_results(results_dir: Path) -> tuple[list[Row], int]:
    """The measured rows of every results file under ``results_dir``, and how many files.

    Skipped and failed measurements are left out: a row is one number that was measured.
    """
    benchmarks = _read_benchmarks(results_dir)
    rows: list[Row] = []
    files = 0
    for path in _result_files(results_dir):
        files += 1
        rows.extend(_rows_of(path, _load(path), benchmarks))
    return rows, files


def has_results(results_dir: Path) -> bool:
    """Whether ``results_dir`` holds at least one asv results file."""
    return next(_result_files(results_dir), None) is not None


def _result_files(results_dir: Path) -> Iterator[Path]:
    """``<machine>/<commit>-<env>.json`` files, in a fixed order."""
    for machine_dir in sorted(p for p in results_dir.iterdir() if p.is_dir()):
        if not (machine_dir / "machine.json").is_file():
            continue
        for path in sorted(machine_dir.glob("*.json")):
            if path.name not in _NOT_RESULTS:
                yield path


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read asv results file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path} is not an asv results file (expected a JSON object)")
    return data


def _read_benchmarks(results_dir: Path) -> dict[str, Any]:
    path = results_dir / "benchmarks.json"
    if not path.is_file():
        raise UsageError(
            f"{path} is missing; run `asv run --bench just-discover` to write it"
        )
    data = _load(path)
    data.pop("version", None)
    return data


def _rows_of(path: Path, data: dict[str, Any], benchmarks: dict[str, Any]) -> Iterator[Row]:
    version = data.get("version")
    if version != RESULTS_FORMAT:
        raise UsageError(
            f"{path} is in asv results format {version!r}, not {RESULTS_FORMAT}; "
            "run `asv update` to convert it"
        )
    try:
        columns: list[str] = data["result_columns"]
        common = {
            "commit": data["commit_hash"],
            "date": _commit_date(data["date"]),
            "machine": data["params"]["machine"],
            "env": data["env_name"],
        }
        results: dict[str, list[Any]] = data["results"]
    except (KeyError, TypeError) as exc:
        raise UsageError(f"{path} is not an asv results file: missing {exc}") from None

    for name in sorted(results):
        entry = dict(zip(columns, results[name], strict=False))
        meta = benchmarks.get(name)
        if meta is None or meta.get("version") != entry.get("version"):
            continue  # benchmark removed or changed since: not comparable (as asv publish)
        values = entry.get("result")
        if values is None:
            continue  # the whole benchmark failed
        names: list[str] = meta.get("param_names", [])
        combos = itertools.product(*entry.get("params") or [])
        # Quartiles of the samples (a quick run takes one sample and stores none).
        q25s = entry.get("stats_q_25") or [None] * len(values)
        q75s = entry.get("stats_q_75") or [None] * len(values)
        for combo, value, q25, q75 in zip(combos, values, q25s, q75s, strict=False):
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue  # failed (null) or skipped (NaN)
            params = {n: _literal(v) for n, v in zip(names, combo, strict=True)}
            yield {"benchmark": name, **params, "value": float(value),
                   "q25": _number(q25), "q75": _number(q75),
                   "unit": meta.get("unit", ""), **common}


def _number(value: object) -> float | None:
    """A statistic as a float, or None where asv stored none."""
    return float(value) if isinstance(value, (int, float)) else None


def _commit_date(js_timestamp: int | None) -> datetime | None:
    """asv stores the commit date as a JavaScript timestamp (milliseconds, UTC)."""
    if js_timestamp is None:
        return None
    return datetime.fromtimestamp(js_timestamp / 1000, tz=timezone.utc)


def _literal(text: str) -> object:
    """A parameter value from asv's ``repr`` string: ``"'cpu'"`` -> ``'cpu'``."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text  # an object without a literal repr: keep its text
