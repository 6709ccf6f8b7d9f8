"""The verification table: ``paramcheck verify``'s output as text, markdown or JSON.

One row per parametrization, one column per property (in the order ``verify`` runs
them, that of the registry; the constraint check is the ``constraint`` column, next to
the constraint's name), each cell a verdict (:class:`paramcheck.Verdict`): ``pass``,
``FAIL`` (naming the dtypes when it holds in others), ``n/a``, ``untested`` or
``upstream``; then every failure with its shrunk counterexample and how to replay it,
and a summary line. Needs no pandas: it reads :class:`paramcheck.Report` objects, and
renders from their structured fields.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from paramcheck.engine._results import Report, Result, Verdict, dtype_name


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


def _columns(outcomes: list[Outcome]) -> list[str]:
    """The properties, in the order verify ran them; the constraint's is ``constraint``."""
    columns: list[str] = []
    for report in _reports(outcomes):
        for r in report.results:
            if r.column not in columns:
                columns.append(r.column)
    return columns


def _reports(outcomes: list[Outcome]) -> list[Report]:
    """The reports of the parametrizations that were verified."""
    return [o.report for o in outcomes if o.report is not None]


_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _table(outcomes: list[Outcome]) -> tuple[list[str], list[list[str]], list[str]]:
    """Header, rows and footnotes: one row per parametrization, its constraint, then one
    cell per property: its verdict, ``FAIL`` naming the dtypes if it holds in others. A
    cell that is not a pass or a failure (``n/a``, ``untested``) carries a footnote mark;
    the footnote says why, once for every cell with the same reason."""
    columns = _columns(outcomes)
    header = ["parametrization", "constrained to", *columns]
    rows = []
    reasons: dict[str, int] = {}
    for o in outcomes:
        if o.report is None:
            rows.append([o.name, "—", *("n/a" for _ in columns)])
            continue
        cells = []
        for column in columns:
            results = [r for r in o.report.results if r.column == column]
            cell = _cell({dtype_name(r.dtype): r.status for r in results})
            why = "; ".join(dict.fromkeys(r.message for r in results
                                          if r.skipped and r.message))
            if why and cell.startswith((Verdict.NOT_APPLICABLE.cell,
                                        Verdict.COULD_NOT_TEST.cell)):
                mark = reasons.setdefault(why, len(reasons) + 1)
                cell += str(mark).translate(_SUPERSCRIPTS)
            cells.append(cell)
        rows.append([o.name, o.report.constraint or "—", *cells])
    footnotes = [f"{str(k).translate(_SUPERSCRIPTS)} {why}" for why, k in reasons.items()]
    return header, rows, footnotes


def _cell(statuses: dict[str, Verdict]) -> str:
    """The worst verdict over the dtypes: FAIL (naming the dtypes when it holds in
    others), then upstream, could not test, pass; n/a only when it applies to none."""
    if not statuses:
        return "—"
    for verdict in (Verdict.FAILED, Verdict.UPSTREAM, Verdict.COULD_NOT_TEST):
        hit = [dtype for dtype, status in statuses.items() if status is verdict]
        if hit:
            which = "" if len(hit) == len(statuses) else f" ({', '.join(hit)})"
            return verdict.cell + which
    if all(status is Verdict.NOT_APPLICABLE for status in statuses.values()):
        return Verdict.NOT_APPLICABLE.cell
    return Verdict.PASSED.cell


def _counts(outcomes: list[Outcome]) -> dict[Verdict, int]:
    counts = dict.fromkeys(Verdict, 0)
    for report in _reports(outcomes):
        for r in report.results:
            counts[r.status] += 1
    return counts


def _summary(outcomes: list[Outcome]) -> str:
    """``17 parametrizations, 306 checks: 290 passed, 1 failed, 15 skipped; ...``."""
    counts = _counts(outcomes)
    failing = [o.name for o in outcomes if not o.ok]
    absent = sum(o.report is None for o in outcomes)
    untested = counts[Verdict.COULD_NOT_TEST]
    verdict = (f"FAILED: {', '.join(failing)}" if failing else
               "no failure found; the checks that could not test have no verdict" if untested
               else "all properties hold")
    extra = f" ({absent} not applicable to these options)" if absent else ""
    plural = "" if len(outcomes) == 1 else "s"
    tally = ", ".join(f"{n} {v}" for v, n in counts.items()
                      if n or v in (Verdict.PASSED, Verdict.FAILED))
    return (f"{len(outcomes)} parametrization{plural}{extra}, {sum(counts.values())} checks: "
            f"{tally}; {verdict}")


def _failure_blocks(outcomes: list[Outcome]) -> list[str]:
    """For each failure: what failed, why, the shrunk counterexample and how to replay it."""
    blocks = []
    for o in outcomes:
        for r in o.report.results if o.report is not None else ():
            if r.failed or r.status is Verdict.UPSTREAM:
                title = "FAILED" if r.failed else "UPSTREAM"
                blocks.append("\n".join(
                    r.block(f"{title} {o.name} · {r.property} · {dtype_name(r.dtype)}")))
    return blocks


def _notes(outcomes: list[Outcome]) -> list[str]:
    return [f"{o.name}: not verified: {o.not_applicable}" for o in outcomes if o.report is None]


def _as_text(outcomes: list[Outcome]) -> str:
    header, rows, footnotes = _table(outcomes)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    parts = ["\n".join(lines), "\n".join(footnotes), *_notes(outcomes),
             *_failure_blocks(outcomes), _summary(outcomes)]
    return "\n\n".join(p for p in parts if p) + "\n"


def _as_markdown(outcomes: list[Outcome]) -> str:
    header, rows, footnotes = _table(outcomes)
    lines = [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---" for _ in header) + " |",
        *("| " + " | ".join([f"`{row[0]}`", *row[1:]]) + " |" for row in rows),
    ]
    parts = ["\n".join(lines), "\n".join(f"- {n}" for n in footnotes),
             *(f"- {n}" for n in _notes(outcomes)), _summary(outcomes) + "."]
    failures = _failure_blocks(outcomes)
    if failures:
        parts.append("## Failures\n\n" + "\n\n".join(f"```\n{b}\n```" for b in failures))
    return "\n\n".join(parts) + "\n"


def _as_json(outcomes: list[Outcome]) -> str:
    from paramcheck._numerics import format_tensor

    def result(r: Result) -> dict[str, Any]:
        out: dict[str, Any] = {"property": r.property, "dtype": dtype_name(r.dtype),
                               "status": str(r.status), "message": r.message,
                               "examples": r.examples}
        if r.failure is not None:
            f = r.failure
            out["failure"] = {"law": f.law, "summary": f.summary, "gap": _number(f.gap),
                              "tolerance": _number(f.tolerance), "formula": f.formula,
                              "location": f.location}
        if r.defect is not None:
            out["defect"] = {"op": r.defect.op, "versions": r.defect.versions,
                             "issue": r.defect.issue, "workaround": r.defect.workaround}
        if r.failed:
            out["counterexample"] = {k: format_tensor(v) for k, v in r.inputs.items()}
            out["replay"] = r.replay
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


def _number(x: float | None) -> float | str | None:
    """JSON has no infinity or NaN: those are written as text."""
    return x if x is None or math.isfinite(x) else str(x)
