"""The verification table: ``paramcheck verify``'s output as text, markdown or JSON.

One row per parametrization, one column per property (in the order ``verify`` runs
them; the constraint check is the ``constraint`` column, next to the constraint's name),
each cell ``pass``, ``FAIL`` (naming the dtypes when it holds in others) or ``skip``; then
every failure with its shrunk counterexample and how to replay it, and a summary line.
Needs no pandas: it reads :class:`paramcheck.Report` objects directly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from paramcheck._verify import Report, Result


@dataclass
class Outcome:
    """One parametrization's verification: the report, or why it does not apply."""

    name: str
    report: Report | None = None
    not_applicable: str = ""

    @property
    def ok(self) -> bool:
        return self.report is None or bool(self.report.ok)


def render(outcomes: list[Outcome], style: str) -> str:
    """The table of ``outcomes`` as ``"text"``, ``"markdown"`` or ``"json"``."""
    return {"json": _as_json, "markdown": _as_markdown, "text": _as_text}[style](outcomes)


_PASS, _FAIL, _SKIP = "pass", "FAIL", "skip"
_CONSTRAINT = "constraint"


def _columns(outcomes: list[Outcome]) -> list[str]:
    """The properties, in the order verify ran them; the constraint's is ``constraint``."""
    columns: list[str] = []
    for report in _reports(outcomes):
        for r in report.results:
            name = _property(report, r)
            if name not in columns:
                columns.append(name)
    return columns


def _reports(outcomes: list[Outcome]) -> list[Report]:
    """The reports of the parametrizations that were verified."""
    return [o.report for o in outcomes if o.report is not None]


def _property(report: Report, result: Result) -> str:
    """A result's column: the constraint check (labelled by its name) is ``constraint``."""
    return _CONSTRAINT if result.property == report.constraint else result.property


def _table(outcomes: list[Outcome]) -> tuple[list[str], list[list[str]]]:
    """Header and rows: one row per parametrization, its constraint, then one cell per
    property: ``pass``, ``FAIL`` (naming the dtypes if it holds in others) or ``skip``."""
    columns = _columns(outcomes)
    header = ["parametrization", "constrained to", *columns]
    rows = []
    for o in outcomes:
        if o.report is None:
            rows.append([o.name, "—", *("n/a" for _ in columns)])
            continue
        cells = []
        for column in columns:
            statuses = {_dtype_name(r.dtype): str(r.status) for r in o.report.results
                        if _property(o.report, r) == column}
            cells.append(_cell(statuses))
        rows.append([o.name, o.report.constraint or "—", *cells])
    return header, rows


def _cell(statuses: dict[str, str]) -> str:
    if not statuses:
        return "—"
    failed = [dtype for dtype, status in statuses.items() if status == "failed"]
    if failed:
        return _FAIL if len(failed) == len(statuses) else f"{_FAIL} ({', '.join(failed)})"
    if all(status == "skipped" for status in statuses.values()):
        return _SKIP
    return _PASS


def _counts(outcomes: list[Outcome]) -> dict[str, int]:
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for report in _reports(outcomes):
        for r in report.results:
            counts[r.status] += 1
    return counts


def _summary(outcomes: list[Outcome]) -> str:
    """``17 parametrizations, 306 checks: 290 passed, 1 failed, 15 skipped; ...``."""
    counts = _counts(outcomes)
    failing = [o.name for o in outcomes if not o.ok]
    absent = sum(o.report is None for o in outcomes)
    verdict = (f"FAILED: {', '.join(failing)}" if failing else "all properties hold")
    extra = f" ({absent} not applicable to these options)" if absent else ""
    plural = "" if len(outcomes) == 1 else "s"
    return (
        f"{len(outcomes)} parametrization{plural}{extra}, {sum(counts.values())} checks: "
        f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped; "
        f"{verdict}"
    )


def _failure_blocks(outcomes: list[Outcome]) -> list[str]:
    """For each failure: what failed, why, the shrunk counterexample and how to replay it."""
    from paramcheck._numerics import format_tensor

    blocks = []
    for o in outcomes:
        for f in o.report.failures if o.report is not None else ():
            lines = [f"FAILED {o.name} · {f.property} · {_dtype_name(f.dtype)} "
                     f"(after {f.examples} examples):"]
            lines += ["  " + line for line in str(f.message).splitlines()]
            for name, tensor in f.inputs.items():
                lines.append(f"  minimal counterexample {name}, shape {tuple(tensor.shape)}:")
                lines.append("    " + format_tensor(tensor, indent=4))
            if f.replay:
                lines.append("  replay: " + str(f.replay).replace("\n", "\n          "))
            blocks.append("\n".join(lines))
    return blocks


def _notes(outcomes: list[Outcome]) -> list[str]:
    return [f"{o.name}: not verified: {o.not_applicable}" for o in outcomes if o.report is None]


def _as_text(outcomes: list[Outcome]) -> str:
    header, rows = _table(outcomes)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    parts = ["\n".join(lines), *_notes(outcomes), *_failure_blocks(outcomes), _summary(outcomes)]
    return "\n\n".join(p for p in parts if p) + "\n"


def _as_markdown(outcomes: list[Outcome]) -> str:
    header, rows = _table(outcomes)
    lines = [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---" for _ in header) + " |",
        *("| " + " | ".join([f"`{row[0]}`", *row[1:]]) + " |" for row in rows),
    ]
    parts = ["\n".join(lines), *(f"- {n}" for n in _notes(outcomes)), _summary(outcomes) + "."]
    failures = _failure_blocks(outcomes)
    if failures:
        parts.append("## Failures\n\n" + "\n\n".join(f"```\n{b}\n```" for b in failures))
    return "\n\n".join(parts) + "\n"


def _as_json(outcomes: list[Outcome]) -> str:
    from paramcheck._numerics import format_tensor

    def result(r: Result) -> dict[str, Any]:
        out = {"property": str(r.property), "dtype": _dtype_name(r.dtype),
               "status": str(r.status), "message": str(r.message),
               "examples": int(r.examples)}
        if r.status == "failed":
            out["counterexample"] = {k: format_tensor(v) for k, v in r.inputs.items()}
            out["replay"] = str(r.replay)
        return out

    document = {
        "ok": all(o.ok for o in outcomes),
        "summary": _summary(outcomes),
        "parametrizations": [
            {
                "name": o.name,
                "ok": o.ok,
                "constraint": o.report.constraint if o.report is not None else None,
                "not_applicable": o.not_applicable or None,
                "results": [result(r) for r in o.report.results] if o.report is not None
                else [],
            }
            for o in outcomes
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def _dtype_name(dtype: object) -> str:
    return str(dtype).removeprefix("torch.")
