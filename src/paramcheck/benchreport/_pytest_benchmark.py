"""Read pytest-benchmark JSON files (``--benchmark-json``) into measurement rows.

A file holds ``machine_info`` (``node`` is the machine's name), ``commit_info``
(``id``, ``time``: the commit and its date, when run inside a git checkout),
``datetime`` (when the run happened) and ``benchmarks``: one entry per test with
``fullname`` (``benchmarks/test_x.py::test_reads[cpu-64]``), ``params`` (the
``pytest.mark.parametrize`` values, as JSON) and ``stats`` in seconds.

A row's value is the median time, as asv reports for its ``time_`` benchmarks, and its
benchmark name is ``fullname`` without the parameter suffix.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from paramcheck.errors import UsageError

Row = dict[str, Any]


def read_files(paths: list[Path]) -> list[Row]:
    """The rows of every pytest-benchmark JSON file in ``paths``, in a fixed order."""
    rows: list[Row] = []
    for path in sorted(paths):
        rows.extend(_rows_of(path))
    return rows


def _rows_of(path: Path) -> Iterator[Row]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        benchmarks: list[dict[str, Any]] = data["benchmarks"]
        machine = data["machine_info"]["node"]
    except FileNotFoundError:
        raise UsageError(f"pytest-benchmark file {path} does not exist") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(
            f"{path} is not a pytest-benchmark JSON file ({type(exc).__name__}: {exc}); "
            "write one with `pytest --benchmark-json=FILE`"
        ) from None
    commit_info = data.get("commit_info") or {}
    date = commit_info.get("time") or data.get("datetime")
    common = {
        "commit": commit_info.get("id"),
        "date": datetime.fromisoformat(date) if date else None,
        "machine": machine,
        "env": f"pytest-benchmark py{data['machine_info'].get('python_version', '?')}",
    }
    for bench in sorted(benchmarks, key=lambda b: str(b.get("fullname"))):
        name = str(bench["fullname"]).split("[", 1)[0]
        params = bench.get("params") or {}
        yield {"benchmark": name, **params, "value": float(bench["stats"]["median"]),
               "q25": bench["stats"].get("q1"), "q75": bench["stats"].get("q3"),
               "unit": "seconds", **common}
