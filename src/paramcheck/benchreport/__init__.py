"""Benchmark results -> one tidy DataFrame -> markdown tables and PNG plots.

(Named ``benchreport`` so that it is not confused with :class:`paramcheck.Report`, the
result of ``verify``.) ``paramcheck report`` is this package's command-line face::

    frame = load_results(Path(".asv/results"), pytest_benchmark=[Path(".benchmarks/b.json")])
    write_report(frame, Path("reports"))      # writes reports/benchmarks/, whole or not at all

The frame has one row per measured number: ``benchmark``, the benchmark's parameters,
``device``, ``implementation``, ``value``, ``q25``, ``q75`` (quartiles of the samples),
``unit``, ``commit``, ``date``, ``machine``
and ``env`` (see ``paramcheck.benchreport._frame``). The report is a pure function of the
frame: the same results give the same markdown, byte for byte, and the same PNGs on
the same machine.

Needs the ``report`` extra (pandas, matplotlib). One idea per private module:

- ``_asv``: asv's results folder -> measurement rows;
- ``_pytest_benchmark``: pytest-benchmark JSON files -> measurement rows;
- ``_frame``: measurement rows -> the tidy DataFrame (one row per measured number);
- ``_tables``: the tidy frame -> cached speedups, paramcheck/torch cost ratios (both with
  their spread), compiled step times and compile counts, torch releases, history;
- ``_pages``: those tables -> the markdown pages, one function per file;
- ``_markdown``: frames -> markdown pipe tables with fixed number formatting;
- ``_plots``: frames -> reproducible PNG plots (matplotlib, Agg);
- ``_atomic``: build a folder beside its destination, then swap it in whole.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from paramcheck.benchreport import (
    _asv,
    _atomic,
    _frame,
    _pages,
    _plots,
    _pytest_benchmark,
)
from paramcheck.benchreport._plots import short_name
from paramcheck.benchreport._tables import (
    BASELINE,
    OURS,
    Run,
    at_run,
    cached_speedup,
    compiled_steps,
    cost_ratio,
    counts,
    histories,
    latest_runs,
    torch_releases,
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
    "compile.md",
    "compile.png",
    "releases.md",
    "releases.png",
    "history.md",
    "history.png",
    "results.csv",
)
#: The benchmark modules of the compile and export tables.
COMPILE_PREFIX = "compiled."
EXPORT_PREFIX = "export."
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
    steps = [(_heading(run), compiled_steps(at_run(frame, run))) for run in runs]
    compiles = [(_heading(run), counts(at_run(frame, run), COMPILE_PREFIX)) for run in runs]
    exports = [(_heading(run), counts(at_run(frame, run), EXPORT_PREFIX)) for run in runs]
    history_sections = histories(frame, history)
    releases = torch_releases(frame)

    speedups = [(h, t) for h, t in speedups if not t.empty]
    ratios = [(h, t) for h, t in ratios if not t.empty]
    tracks = [(h, t) for h, t in tracks if not t.empty]
    steps = [(h, t) for h, t in steps if not t.empty]
    compiles = [(h, t) for h, t in compiles if not t.empty]
    exports = [(h, t) for h, t in exports if not t.empty]

    _write(folder / "cached_speedup.md", _pages.speedup_page(speedups))
    _write(folder / "cost_ratio.md", _pages.ratio_page(ratios, tracks))
    _write(folder / "compile.md", _pages.compile_page(steps, compiles, exports))
    _write(folder / "releases.md", _pages.releases_page(releases))
    _write(folder / "history.md", _pages.history_page(history_sections))
    by_k = [(h, t) for h, t in speedups if {"k", "n"} <= set(t.columns)]
    if by_k:  # the run that read most combinations of k; the first such on a tie
        heading, rows = max(by_k, key=lambda item: int(item[1]["k"].notna().sum()))
        rows = rows[rows["k"].notna() & rows["n"].notna()]
        panels = [(f"n = {n} ({short_name(str(b))})", _lines(part))
                  for (b, n), part in rows.groupby(["benchmark", "n"], sort=True)]
        _plots.speedup_vs_k(folder / "cached_speedup.png", panels,
                            "What parametrize.cached() buys an n x n weight read k times\n"
                            + heading)
    dot_sections = [(h, *_dot_rows(t, "ratio", "low", "high", [OURS, BASELINE]))
                    for h, t in ratios]
    dot_sections += [(f"tracked by asv · {h}", *_dot_rows(t, "value", "q25", "q75", []))
                     for h, t in tracks]
    if dot_sections:
        _plots.dots(folder / "cost_ratio.png", dot_sections,
                    "Cost ratios: median and interquartile spread (1 is par; below 1 is "
                    "cheaper)", "ratio")
    bar_panels = _compile_panels(compiles)
    if bar_panels:
        _plots.grouped_bars(folder / "compile.png", bar_panels,
                            "torch.compile: compile time and recompiles per transform")
    if not releases.empty:
        _plots.grouped_bars(folder / "releases.png", _release_panels(releases),
                            "Tracked ratios per torch release", log=True)
    if any(len(h.commits) for h in history_sections):
        _plots.history_lines(
            folder / "history.png",
            [(f"{h.machine} · {h.env}", h.summary, _pages.short(h.commits["commit"]))
             for h in history_sections],
        )
    csv = frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ", lineterminator="\n")
    _write(folder / "results.csv", csv)
    _write(folder / "index.md", _pages.index(frame, folder, history))


def _lines(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with a ``line`` label made of every parameter but ``n`` and ``k`` that
    varies (the transform family, the implementation...), for :func:`_plots.speedup_vs_k`."""
    fixed = {"benchmark", "n", "k", "unit", "uncached", "cached", "speedup", "low", "high"}
    keys = rows[[c for c in rows.columns if c not in fixed and rows[c].nunique() > 1]]
    labels = [_plots.label(keys.columns, row) or "all" for row in keys.itertuples(index=False)]
    labelled: pd.DataFrame = rows.assign(line=labels)
    return labelled


def _dot_rows(
    table: pd.DataFrame, value: str, low: str, high: str, drop: list[str]
) -> tuple[list[str], pd.Series, pd.Series, pd.Series]:
    """Labels, values and spread of a ratio table, for :func:`_plots.dots`."""
    keys = table.drop(columns=[value, low, high, "unit", *drop])
    labels = [_plots.label(keys.columns, row) for row in keys.itertuples(index=False)]
    return labels, table[value], table[low], table[high]


def _compile_panels(compiles: list[tuple[str, pd.DataFrame]]) -> list[_plots.Panel]:
    """Compile seconds (a bar per implementation and backend) and recompiles (a bar per
    implementation and mode), a row per transform family, for the latest run with both."""
    panels: list[_plots.Panel] = []
    for heading, table in compiles:
        for cls, track, series, xlabel in (
            ("compiled.CompileTime", "compile_seconds", ["implementation", "backend"],
             "CPU seconds of the first compiled forward and backward"),
            ("compiled.Recompiles", "recompiles", ["implementation", "mode"],
             "frames compiled again for instances 2-8 (0: guards hold)"),
            ("compiled.Recompiles", "graph_breaks", ["implementation", "mode"],
             "graph breaks compiling the first instance"),
        ):
            rows = table[table["benchmark"] == cls]
            if rows.empty or track not in rows.columns:
                continue
            wide = rows.pivot_table(index="family", columns=series, values=track,
                                    aggfunc="median", dropna=False, observed=True)
            wide.columns = pd.Index([" ".join(str(p) for p in c) for c in wide.columns])
            wide = wide.dropna(how="all", axis=1).dropna(how="all")
            panels.append((f"{track} · {heading}", wide, xlabel))
    return panels


def _release_panels(releases: pd.DataFrame) -> list[_plots.Panel]:
    versions = [c for c in releases.columns if c[:1].isdigit()]
    keys = releases.drop(columns=[*versions, "unit"])
    labels = [_plots.label(keys.columns, row) for row in keys.itertuples(index=False)]
    panels: list[_plots.Panel] = []
    for unit, part in releases.assign(label=labels).groupby("unit", sort=True):
        table = part.set_index("label")[versions]
        table.columns = pd.Index([f"torch {v}" for v in versions])
        panels.append((f"track_ benchmarks in {unit}", table, str(unit)))
    return panels


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


# -- helpers ----------------------------------------------------------------------------


def _heading(run: Run) -> str:
    return f"{run.machine} · {run.env} · commit {run.commit[:8]} ({_pages.day(run.date)})"


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
