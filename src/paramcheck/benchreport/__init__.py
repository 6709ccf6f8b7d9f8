"""Benchmark results -> one tidy DataFrame -> markdown tables and PNG plots.

(Named ``benchreport`` so that it is not confused with :class:`paramcheck.Report`, the
result of ``verify``.) ``paramcheck report`` is this package's command-line face::

    frame = load_results(Path(".asv/results"), pytest_benchmark=[Path(".benchmarks/b.json")])
    write_report(frame, Path("reports"))      # writes reports/benchmarks/, whole or not at all

The frame has one row per measured number: ``benchmark``, the benchmark's parameters,
``device``, ``implementation``, ``value``, ``unit``, ``commit``, ``date``, ``machine``
and ``env`` (see ``paramcheck.benchreport._frame``). The report is a pure function of the
frame: the same results give the same markdown, byte for byte, and the same PNGs on
the same machine.

Needs the ``report`` extra (pandas, matplotlib). One idea per private module:

- ``_asv``: asv's results folder -> measurement rows;
- ``_pytest_benchmark``: pytest-benchmark JSON files -> measurement rows;
- ``_frame``: measurement rows -> the tidy DataFrame (one row per measured number);
- ``_tables``: the tidy frame -> cached speedups, paramcheck/torch cost ratios, history;
- ``_markdown``: frames -> markdown pipe tables with fixed number formatting;
- ``_plots``: frames -> reproducible PNG plots (matplotlib, Agg);
- ``_atomic``: build a folder beside its destination, then swap it in whole.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from paramcheck.benchreport import _asv, _atomic, _frame, _markdown, _plots, _pytest_benchmark
from paramcheck.benchreport._tables import (
    BASELINE,
    OURS,
    History,
    Run,
    at_run,
    cached_speedup,
    cost_ratio,
    histories,
    latest_runs,
    tracked_ratios,
)
from paramcheck.errors import UsageError

__all__ = ["FILES", "FOLDER", "check_report", "load_results", "render", "write_report"]

#: The folder, inside the reports folder, that ``write_report`` owns and replaces whole.
FOLDER = "benchmarks"
#: Every file ``write_report`` may write into it. Anything else there is a user's file.
FILES = (
    "index.md",
    "cached_speedup.md",
    "cached_speedup.png",
    "cost_ratio.md",
    "cost_ratio.png",
    "history.md",
    "history.png",
    "results.csv",
)
#: How many commits the history shows, newest last.
HISTORY_COMMITS = 10


def load_results(
    results: Path | None, pytest_benchmark: Sequence[Path] = ()
) -> pd.DataFrame:
    """The tidy frame of an asv results folder and pytest-benchmark JSON files.

    ``results`` is asv's ``results_dir`` (``.asv/results`` here), or ``None`` to read
    only ``pytest_benchmark`` files. Raises :class:`~paramcheck.errors.UsageError` when
    there is nothing to read.
    """
    rows = []
    if results is not None:
        if not results.is_dir():
            raise UsageError(
                f"no asv results folder at {results}: run `asv run` first, "
                "or pass --results DIR"
            )
        if not _asv.has_results(results):
            raise UsageError(
                f"the asv results folder {results} holds no results: run `asv run` first, "
                "or pass --results DIR"
            )
        asv_rows, files = _asv.read_results(results)
        if not asv_rows:
            raise UsageError(
                f"none of the {files} results files in {results} holds a measurement of "
                "a benchmark in its benchmarks.json: run `asv run` again"
            )
        rows.extend(asv_rows)
    rows.extend(_pytest_benchmark.read_files(list(pytest_benchmark)))
    if not rows:
        raise UsageError("no benchmark results to report: pass --results or --pytest-benchmark")
    return _frame.tidy(rows)


def render(frame: pd.DataFrame, folder: Path, history: int = HISTORY_COMMITS) -> None:
    """Write every file of the report into the existing, empty ``folder``."""
    runs = latest_runs(frame)
    speedups = [(_heading(run), cached_speedup(at_run(frame, run))) for run in runs]
    ratios = [(_heading(run), cost_ratio(at_run(frame, run))) for run in runs]
    tracks = [(_heading(run), tracked_ratios(at_run(frame, run))) for run in runs]
    history_sections = histories(frame, history)

    speedups = [(h, t) for h, t in speedups if not t.empty]
    ratios = [(h, t) for h, t in ratios if not t.empty]
    tracks = [(h, t) for h, t in tracks if not t.empty]

    _write(folder / "cached_speedup.md", _speedup_markdown(speedups))
    _write(folder / "cost_ratio.md", _ratio_markdown(ratios, tracks))
    _write(folder / "history.md", _history_markdown(history_sections))
    if speedups:
        _plots.ratio_bars(
            folder / "cached_speedup.png",
            [(h, t.drop(columns=["uncached", "cached", "speedup", "unit"]), t["speedup"])
             for h, t in speedups],
            "Speedup of parametrize.cached(): uncached time / cached time", "speedup",
        )
    if ratios or tracks:
        _plots.ratio_bars(
            folder / "cost_ratio.png",
            [(h, t.drop(columns=[OURS, BASELINE, "ratio", "unit"]), t["ratio"])
             for h, t in ratios]
            + [(f"tracked by asv · {h}", t.drop(columns=["value", "unit"]), t["value"])
               for h, t in tracks],
            "Cost ratios (1 is par; below 1 is cheaper)", "ratio",
        )
    if any(len(h.commits) for h in history_sections):
        _plots.history_lines(
            folder / "history.png",
            [(f"{h.machine} · {h.env}", h.summary, _short(h.commits["commit"]))
             for h in history_sections],
        )
    csv = frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ", lineterminator="\n")
    _write(folder / "results.csv", csv)
    _write(folder / "index.md", _index(frame, folder, history))


def write_report(frame: pd.DataFrame, reports: Path, history: int = HISTORY_COMMITS) -> Path:
    """Write the report into ``reports/benchmarks/``, replacing the previous one whole.

    Files in ``reports/`` outside ``benchmarks/`` are never touched. Refuses (with a
    :class:`~paramcheck.errors.UsageError`) to replace a ``benchmarks/`` folder holding
    files this function does not write, so a user's file there is never deleted.
    """
    dest = reports / FOLDER
    _refuse_foreign_files(dest)
    _atomic.replace_folder(dest, lambda folder: render(frame, folder, history))
    return dest


def check_report(frame: pd.DataFrame, reports: Path, history: int = HISTORY_COMMITS) -> list[str]:
    """The report files that a fresh build would change (empty when it is up to date).

    Builds the report in a temporary folder elsewhere; writes nothing under ``reports``.
    """
    dest = reports / FOLDER
    with tempfile.TemporaryDirectory(prefix="paramcheck-report-") as scratch:
        fresh = Path(scratch)
        render(frame, fresh, history)
        names = sorted(_names(fresh) | _names(dest))
        return [
            name for name in names
            if not ((fresh / name).is_file() and (dest / name).is_file()
                    and (fresh / name).read_bytes() == (dest / name).read_bytes())
        ]


# -- markdown ---------------------------------------------------------------------------

_GENERATED = (
    "<!-- Generated by `paramcheck report` from benchmark results; "
    "do not edit (see reports/README.md). -->\n\n"
)


def _index(frame: pd.DataFrame, folder: Path, history: int) -> str:
    """What was read, and a line per file of the report (written last: it lists the plots
    that were drawn)."""
    runs = frame.groupby(["machine", "env"], sort=True)["commit"].nunique().reset_index()
    runs.columns = pd.Index(["machine", "env", "commits"])

    def plot(name: str) -> str:
        return f"; plot: [{name}]({name})" if (folder / name).is_file() else ""

    lines = [
        _GENERATED,
        "# Benchmark report\n\n",
        f"{len(frame)} measurements of {frame['benchmark'].nunique()} benchmarks "
        f"on {frame['commit'].nunique()} commits.\n\n",
        _markdown.table(runs, numeric=["commits"]),
        "\n",
        "- [cached_speedup.md](cached_speedup.md): what `parametrize.cached()` saves"
        f"{plot('cached_speedup.png')}\n",
        "- [cost_ratio.md](cost_ratio.md): paramcheck's cost next to torch's, and the "
        f"ratios asv tracks{plot('cost_ratio.png')}\n",
        f"- [history.md](history.md): the last {history} commits{plot('history.png')}\n",
        "- [results.csv](results.csv): every measurement, one row each "
        "(`pandas.read_csv('results.csv', parse_dates=['date'])`)\n",
    ]
    return "".join(lines)


def _speedup_markdown(sections: list[tuple[str, pd.DataFrame]]) -> str:
    parts = [
        _GENERATED,
        "# Speedup of `parametrize.cached()`\n\n",
        "Time to read a parametrized weight `k` times without the cache, over the time "
        "with it: `speedup = uncached / cached` (above 1: the cache pays off).\n\n",
    ]
    if not sections:
        parts.append("No benchmark was measured both cached and uncached.\n")
    for heading, rows in sections:
        table = _quantity_table(rows, ["uncached", "cached"], "speedup")
        parts += [f"## {heading}\n\n", table, "\n"]
    return "".join(parts).rstrip("\n") + "\n"


def _ratio_markdown(
    sections: list[tuple[str, pd.DataFrame]], tracks: list[tuple[str, pd.DataFrame]]
) -> str:
    parts = [
        _GENERATED,
        "# Cost of paramcheck's `parametrize` next to torch's\n\n",
        "`ratio = paramcheck / torch`, each measured on its own: 1 is par, above 1 "
        "paramcheck costs more (time, or memory for byte counts).\n\n",
    ]
    if not sections:
        parts.append("No benchmark was measured with both implementations.\n\n")
    for heading, rows in sections:
        parts += [f"## {heading}\n\n", _quantity_table(rows, [OURS, BASELINE], "ratio"), "\n"]
    if tracks:
        parts.append(
            "# Ratios tracked by asv\n\n"
            "Dimensionless `track_` benchmarks: both costs of each ratio are timed "
            "in one process, so it stays comparable across machines. What each one "
            "divides is in its benchmark's docstring.\n\n"
        )
    for heading, rows in tracks:
        parts += [f"## {heading}\n\n", _quantity_table(rows, ["value"], None), "\n"]
    return "".join(parts).rstrip("\n") + "\n"


def _history_markdown(sections: list[History]) -> str:
    parts = [
        _GENERATED,
        "# Benchmark history\n\n",
        "Per benchmark, the geometric mean over its parameter combinations of each "
        "measurement relative to its first value among the commits shown (below 1: "
        "faster, or smaller); then every measurement (— where it failed or was "
        "not run).\n\n",
    ]
    for h in sections:
        labels = _short(h.commits["commit"])
        names = dict(zip(h.commits["commit"], labels, strict=True))
        commits = pd.DataFrame({"commit": labels, "date": [_day(d) for d in h.commits["date"]]})
        summary = h.summary.rename(columns=names).reset_index()
        parts += [
            f"## {h.machine} · {h.env}\n\n",
            "Commits, oldest first:\n\n",
            _markdown.table(commits),
            "\n### Relative to the first measurement\n\n",
            _markdown.table(summary, formats=dict.fromkeys(labels, _markdown.ratio),
                            numeric=labels),
        ]
        for benchmark, rows in h.series.items():
            rows = _in_units(rows.rename(columns=names), labels)
            parts += [f"\n### {benchmark}\n\n", _markdown.table(rows, numeric=labels)]
        parts.append("\n")
    return "".join(parts).rstrip("\n") + "\n"


def _quantity_table(rows: pd.DataFrame, quantities: list[str], ratio: str | None) -> str:
    """A ``### benchmark`` table per benchmark, with the parameters it takes as columns,
    each quantity in its row's unit and the ratio as ``1.52×``."""
    formats: dict[str, _markdown.Formatter] = {ratio: _markdown.ratio} if ratio else {}
    numeric = [*quantities, *([ratio] if ratio else [])]
    parts = []
    for benchmark, group in rows.groupby("benchmark", sort=True):
        group = group.drop(columns=["benchmark"])
        unused = [c for c in group.columns if c not in numeric and group[c].isna().all()]
        table = _in_units(group.drop(columns=unused), quantities)
        parts.append(f"### {benchmark}\n\n" + _markdown.table(table, formats, numeric))
    return "\n".join(parts)


def _in_units(rows: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``rows`` without its ``unit`` column, each of ``columns`` as text in its row's unit."""
    rows = rows.copy()
    units = list(rows.pop("unit"))
    for column in columns:
        rows[column] = [
            _markdown.cell(v) if not _markdown.present(v) else _markdown.quantity(float(v), u)
            for v, u in zip(rows[column], units, strict=True)
        ]
    return rows


# -- helpers ----------------------------------------------------------------------------


def _heading(run: Run) -> str:
    return f"{run.machine} · {run.env} · commit {run.commit[:8]} ({_day(run.date)})"


def _day(date: pd.Timestamp | None) -> str:
    """A commit date as ``2025-01-03 12:00`` (UTC)."""
    if date is None or pd.isna(date):
        return "—"
    return date.strftime("%Y-%m-%d %H:%M")


def _short(commits: pd.Series) -> list[str]:
    return [str(c)[:8] for c in commits]


def _names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def _refuse_foreign_files(dest: Path) -> None:
    foreign = sorted(_names(dest) - set(FILES))
    if foreign:
        raise UsageError(
            f"{dest} holds files `paramcheck report` does not write ({', '.join(foreign)}); "
            "move them out of it, or pass another --out"
        )


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", newline="\n")
