"""Write reports/sizes.md: every shipped transform and chain verified from 4×4 to 1024×1024.

Run from the repository root (about half an hour on 2 cores with ``--jobs 2``; the 1024
column is most of it)::

    PARAMCHECK_PROFILE=ci python properties/sizes_report.py --jobs 2 [--sizes 4,64,256,1024]
                                                            [--only NAME ...] [--output FILE]

For each entry of ``paramcheck.transforms.catalog()``, each size n and each dtype,
``paramcheck.verify(entry.build, shape=(n, n), dtypes=(dtype,), seed=0)``, as a user
would call it on a weight of that size: every default property, the inputs drawn as
descriptions and built by torch at full size. A clean cell is the claim "no false alarm
at this size". Then the seed tutorial's wrong ``CayleyMap.right_inverse`` at the same
sizes: it must be found, and its counterexample printed as the description that rebuilds
it. The script exits 1 when a shipped transform fails (a false alarm, or a real bug) or
the tutorial's bug is missed.

Examples per search fall with the size (``EXAMPLES``): the cost of one example grows like
the parametrization's (n³ for a solve or an exponential), and the ci profile's
derandomized search still tries the shrunk, simplest descriptions (zero, identity, one
entry) first, where most bugs of these maps show.
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

import paramcheck
from paramcheck.known_bugs import TutorialCayleyMap
from paramcheck.transforms import Skew, catalog

OUT = Path(__file__).resolve().parent.parent / "reports" / "sizes.md"
SIZES = (4, 64, 256, 1024)
DTYPES = (torch.float32, torch.float64)
#: Examples per property search at each size: the ci profile's budget at 4×4, fewer where
#: one example costs n³ factorisations and their backward (TorchOrthogonal('householder')'s
#: cache law alone took 205 s for 3 examples at 1024 on a shared 2-core machine).
EXAMPLES = {4: 20, 64: 10, 256: 5, 1024: 2}


def _examples(n: int) -> int:
    return next((e for size, e in sorted(EXAMPLES.items(), reverse=True) if n >= size), 20)


def _dtype(d: torch.dtype) -> str:
    return str(d).removeprefix("torch.")


def _cell(report: paramcheck.Report) -> str:
    """One verify's outcome in a table cell: clean, or what failed, then its time."""
    failed = sorted({r.column for r in report.results if r.failed})
    untested = sorted({r.column for r in report.results if r.could_not_test})
    upstream = sorted({r.column for r in report.results if r.status.cell == "upstream"})
    words = ["FAIL " + ", ".join(failed)] if failed else ["clean"]
    if upstream:
        words.append("upstream " + ", ".join(upstream))
    if untested:
        words.append("untested " + ", ".join(untested))
    return f"{'; '.join(words)} ({report.seconds:.1f} s)"


def _verify_cell(name: str, n: int, dtype_name: str, threads: int) -> tuple[str, str | None]:
    """One verify, in a worker process: its table cell, and its report if not clean."""
    torch.set_num_threads(threads)
    entry = next(e for e in catalog() if e.name == name)
    dtype = getattr(torch, dtype_name)
    report = paramcheck.verify(lambda: entry.build((n, n)), shape=(n, n), dtypes=(dtype,),
                               max_examples=_examples(n), seed=0)
    passed = sum(r.passed for r in report.results)
    cell = f"{dtype_name}: {_cell(report)}, {passed} passed"
    print(f"{name} {n} {cell}", file=sys.stderr, flush=True)
    clean = report.ok and not any(r.could_not_test for r in report.results)
    return cell, None if clean else f"### {name} at {n}×{n}, {dtype_name}\n\n```\n{report}\n```\n"


def sweep(names: list[str], sizes: tuple[int, ...], jobs: int) -> tuple[list[str], list[str]]:
    """The table rows and the failures (each with its report) of the shipped transforms.

    The cells run in ``jobs`` worker processes, the largest sizes first (they take longest).
    """
    entries = [e.name for e in catalog() if not names or e.name in names]
    cells = [(name, n, _dtype(d)) for n in sorted(sizes, reverse=True) for name in entries
             for d in DTYPES]
    threads = max(1, torch.get_num_threads() // jobs)
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        names_, ns, dtypes = zip(*cells, strict=True)
        results = pool.map(_verify_cell, names_, ns, dtypes, [threads] * len(cells))
        done = dict(zip(cells, results, strict=True))
    rows = [f"| {name} | " + " | ".join("<br>".join(done[(name, n, _dtype(d))][0]
                                                    for d in DTYPES) for n in sizes) + " |"
            for name in entries]
    failures = [text for _, text in done.values() if text is not None]
    return rows, failures


def tutorial(sizes: tuple[int, ...]) -> tuple[list[str], bool]:
    """The seed tutorial's bug at each size: found, and its counterexample."""
    rows, all_found = [], True
    for n in sizes:
        report = paramcheck.verify(lambda s=n: [Skew(), TutorialCayleyMap(s)], shape=(n, n),
                                   dtypes=(torch.float32,), max_examples=5, seed=0,
                                   properties=["round_trip"])
        failed = report.failures
        drawn = failed[0].descriptions.get("X") if failed else None
        found = drawn is not None  # failed, with the description that rebuilds X
        all_found &= found
        print(f"tutorial {n}: {'found' if found else 'MISSED'} {drawn}", file=sys.stderr,
              flush=True)
        text = f"`{drawn}`" if found else "MISSED"
        rows.append(f"| {n}×{n} | {'found' if found else 'MISSED'} | {text} | "
                    f"{report.seconds:.1f} s |")
    return rows, all_found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)),
                        help="comma-separated n of the n×n weights (default %(default)s)")
    parser.add_argument("--only", nargs="*", default=[], metavar="NAME",
                        help="catalog names to verify (default: all)")
    parser.add_argument("--output", type=Path, default=OUT)
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (one per core)")
    args = parser.parse_args(argv)
    try:
        sizes = tuple(int(s) for s in args.sizes.split(","))
    except ValueError:
        parser.error(f"--sizes takes comma-separated integers, not {args.sizes!r}")
    known = {e.name for e in catalog()}
    if unknown := [n for n in args.only if n not in known]:
        parser.error(f"unknown names {unknown}; the catalog has {sorted(known)}")

    start = time.perf_counter()
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, not {args.jobs}")
    rows, failures = sweep(args.only, sizes, args.jobs)
    tutorial_rows, found = tutorial(sizes)
    profile = os.environ.get("PARAMCHECK_PROFILE", "dev")
    lines = [
        "# Every shipped parametrization at real sizes",
        "",
        f"Made by `PARAMCHECK_PROFILE={profile} python properties/sizes_report.py"
        f"{''.join(' ' + a for a in (argv if argv is not None else sys.argv[1:]))}` on "
        f"{datetime.date.today().isoformat()}: torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, {time.perf_counter() - start:.0f} s in all. "
        "Each cell is one `paramcheck.verify(entry.build, shape=(n, n), dtypes=(dtype,), "
        "seed=0)` with every default property; examples per search: "
        + ", ".join(f"{e} at {n}" for n, e in EXAMPLES.items())
        + ". `clean`: nothing failed and nothing was left untested (properties that do not "
        "apply are n/a and not counted as passed); `upstream`: a known torch defect.",
        "",
        "| parametrization | " + " | ".join(f"{n}×{n}" for n in sizes) + " |",
        "|---|" + "---|" * len(sizes),
        *rows,
        "",
        "## The tutorial's CayleyMap bug at the same sizes",
        "",
        "`[Skew(), TutorialCayleyMap(n)]`, float32, round trip, 5 examples: the "
        "counterexample as verify prints it, the description that rebuilds the input.",
        "",
        "| size | bug | counterexample X | time |",
        "|---|---|---|---|",
        *tutorial_rows,
        "",
        "## Failures and untested cells",
        "",
        *(failures or ["None."]),
    ]
    args.output.write_text("\n".join(lines).rstrip() + "\n")
    print(f"wrote {args.output}", file=sys.stderr)
    return 0 if found and not failures else 1


if __name__ == "__main__":
    sys.exit(main())
