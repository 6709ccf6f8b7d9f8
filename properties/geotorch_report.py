"""Write reports/geotorch.md: paramcheck.verify over every geotorch manifold, both dtypes.

Run from the repository root (it takes a few minutes on 2 cores)::

    PARAMCHECK_PROFILE=ci python properties/geotorch_report.py

Each failure verify reports is listed under the finding that explains it (``FINDINGS`` in
properties/_geotorch.py), with the finding's argument and a reproducer that runs without
paramcheck, executed here and its output pasted. A failure no finding explains is listed
as unexplained, and the script exits 1: that is a false alarm to fix, or a new finding
to argue.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time
from pathlib import Path

import geotorch
import torch

import paramcheck

sys.path.insert(0, str(Path(__file__).parent))
from _geotorch import CASES, FINDINGS, finding_for

OUT = Path(__file__).resolve().parent.parent / "reports" / "geotorch.md"

#: Examples per search: the ci profile's derandomized search, cut to what 2 cores run
#: in a few minutes over 19 manifolds (geotorch builds a manifold per example).
MAX_EXAMPLES = 20


def _cell(r: paramcheck.Result) -> str:
    return r.status.cell


def main() -> int:
    start = time.perf_counter()
    reports = []
    for case in CASES:
        t = time.perf_counter()
        report = paramcheck.verify(case.factory, shape=case.shape, constraint=case.constraint,
                                   max_examples=MAX_EXAMPLES, **case.options)
        reports.append((case, report))
        print(f"{case.name}: {'ok' if report.ok else 'FAILED'} in "
              f"{time.perf_counter() - t:.1f} s", file=sys.stderr)
    props: list[str] = []
    for _, report in reports:
        for r in report.results:
            if r.column not in props:
                props.append(r.column)
    dtypes = ("float32", "float64")
    lines = [
        "# geotorch under paramcheck.verify",
        "",
        f"Made by `PARAMCHECK_PROFILE={os.environ.get('PARAMCHECK_PROFILE', 'dev')} python "
        f"properties/geotorch_report.py` on {datetime.date.today().isoformat()}: geotorch "
        f"{geotorch.__version__ if hasattr(geotorch, '__version__') else '0.4.0'}, torch "
        f"{torch.__version__}, {time.perf_counter() - start:.0f} s. Each manifold is verified "
        "as a user would: `paramcheck.verify(factory, shape=..., constraint=...)`, the "
        "constraint named in paramcheck.constraints where one fits, else a check in "
        f"properties/_geotorch.py (derived tolerances), {MAX_EXAMPLES} examples per "
        "search. Cells: float32 / float64; n/a: the property does not apply (the reason "
        "is in verify's report).",
        "",
        "| manifold | constraint | " + " | ".join(props) + " |",
        "|---|---|" + "---|" * len(props),
    ]
    unexplained = []
    by_finding: dict[str, list[str]] = {}
    for case, report in reports:
        cells = {}
        for r in report.results:
            name = r.column
            cells[(name, str(r.dtype).removeprefix("torch."))] = r
            if r.failed:
                key = finding_for(case.name, name, str(r.dtype).removeprefix("torch."))
                first = r.message.splitlines()[0] if r.message else ""
                entry = (f"`{case.name}` {name} [{str(r.dtype).removeprefix('torch.')}]: "
                         f"{first[:200]}")
                blame = next((ln.strip() for ln in r.message.splitlines()
                              if "diverges first" in ln or "holds float32" in ln), "")
                if blame:
                    entry += f"  \n  {blame}"
                if key is None:
                    unexplained.append(entry)
                else:
                    by_finding.setdefault(key, []).append(entry)
        row = [" / ".join(_cell(cells[(p, d)]) if (p, d) in cells else "-" for d in dtypes)
               for p in props]
        label = getattr(case.constraint, "__name__", case.constraint)
        lines.append(f"| {case.name} | {label} | " + " | ".join(row) + " |")
    lines += ["", "## Findings", ""]
    if not by_finding and not unexplained:
        lines.append("Nothing failed.")
    for key, entries in by_finding.items():
        finding = FINDINGS[key]
        lines += [f"### {finding.title}", "", finding.argument, "", "Reproducer (no paramcheck):",
                  "", "```python", finding.reproducer.strip(), "```", "", "Its output here:",
                  "", "```", _run(finding.reproducer), "```", "", "Failures it explains:", ""]
        lines += [f"- {e}" for e in entries]
        lines.append("")
    if unexplained:
        lines += ["## Unexplained failures", ""] + [f"- {e}" for e in unexplained]
    OUT.write_text("\n".join(lines).rstrip() + "\n")
    print(f"wrote {OUT}", file=sys.stderr)
    return 1 if unexplained else 0


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, check=False)
    return (done.stdout + done.stderr).strip()


if __name__ == "__main__":
    sys.exit(main())
