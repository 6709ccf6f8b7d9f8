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
    _markdown,
    _plots,
    _pytest_benchmark,
    _tables,
)
from paramcheck.benchreport._frame import parameter_columns
from paramcheck.benchreport._plots import short_name
from paramcheck.benchreport._tables import (
    BASELINE,
    OURS,
    History,
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

    _write(folder / "cached_speedup.md", _speedup_markdown(speedups))
    _write(folder / "cost_ratio.md", _ratio_markdown(ratios, tracks))
    _write(folder / "compile.md", _compile_markdown(steps, compiles, exports))
    _write(folder / "releases.md", _releases_markdown(releases))
    _write(folder / "history.md", _history_markdown(history_sections))
    by_k = [(h, t) for h, t in speedups if {"k", "n"} <= set(t.columns)]
    if by_k:  # the run that read most combinations of k; the first such on a tie
        heading, rows = max(by_k, key=lambda item: int(item[1]["k"].notna().sum()))
        rows = rows[rows["k"].notna() & rows["n"].notna()]
        panels = [(f"n = {n} ({short_name(str(b))}) · {heading}", _lines(part))
                  for (b, n), part in rows.groupby(["benchmark", "n"], sort=True)]
        _plots.speedup_vs_k(folder / "cached_speedup.png", panels,
                            "What parametrize.cached() buys an n x n weight read k times")
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
            [(f"{h.machine} · {h.env}", h.summary, _short(h.commits["commit"]))
             for h in history_sections],
        )
    csv = frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ", lineterminator="\n")
    _write(folder / "results.csv", csv)
    _write(folder / "index.md", _index(frame, folder, history))


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
        "- [compile.md](compile.md): training steps under torch.compile, compile time, "
        f"recompiles and graph breaks, torch.export{plot('compile.png')}\n",
        "- [releases.md](releases.md): the tracked ratios across torch releases"
        f"{plot('releases.png')}\n",
        f"- [history.md](history.md): the last {history} commits{plot('history.png')}\n",
        "- [results.csv](results.csv): every measurement, one row each "
        "(`pandas.read_csv('results.csv', parse_dates=['date'])`)\n",
    ]
    return "".join(lines)


def _speedup_markdown(sections: list[tuple[str, pd.DataFrame]]) -> str:
    parts = [
        _GENERATED,
        "# Speedup of `parametrize.cached()`\n\n",
        "Time without the cache over the time with it: `speedup = uncached / cached` "
        "(above 1: the cache pays off; reading a weight `k` times, the ideal is `k`). "
        "`spread`: the speedup's range over the interquartile ranges of both timings "
        "(— after a one-sample `--quick` run). Plot: [cached_speedup.png]"
        "(cached_speedup.png), speedup against `k`.\n\n",
    ]
    if not sections:
        parts.append("No benchmark was measured both cached and uncached.\n")
    for heading, rows in sections:
        rows = _spread_column(rows, "low", "high")
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
        "paramcheck costs more (time, or memory for byte counts); `spread` as in "
        "cached_speedup.md. Plot: [cost_ratio.png](cost_ratio.png).\n\n",
    ]
    if not sections:
        parts.append("No benchmark was measured with both implementations.\n\n")
    for heading, rows in sections:
        rows = _spread_column(rows, "low", "high")
        parts += [f"## {heading}\n\n", _quantity_table(rows, [OURS, BASELINE], "ratio"), "\n"]
    if tracks:
        parts.append(
            "# Ratios tracked by asv\n\n"
            "Dimensionless `track_` benchmarks: both costs of each ratio are timed "
            "in one process, so it stays comparable across machines. What each one "
            "divides is in its benchmark's docstring.\n\n"
        )
    for heading, rows in tracks:
        rows = _spread_column(rows, "q25", "q75")
        parts += [f"## {heading}\n\n", _quantity_table(rows, ["value"], None), "\n"]
    return "".join(parts).rstrip("\n") + "\n"


def _compile_markdown(
    steps: list[tuple[str, pd.DataFrame]],
    compiles: list[tuple[str, pd.DataFrame]],
    exports: list[tuple[str, pd.DataFrame]],
) -> str:
    parts = [
        _GENERATED,
        "# torch.compile and torch.export\n\n",
        "A recurrent model, `h <- tanh(W h)` over 8 steps with a 64 x 64 parametrized `W` "
        "read at every step, next to its unparametrized twin (`plain`); see "
        "benchmarks/compiled.py and benchmarks/export.py. Plot: [compile.png](compile.png)."
        "\n\n",
    ]
    if not (steps or compiles or exports):
        parts.append("No compile or export benchmark was measured.\n")
    for heading, table in steps:
        parts += [
            f"## Training step, compiled and eager · {heading}\n\n",
            "Time of one step (forward, backward, SGD step) per backend (`none`: eager); "
            "`<backend>/eager` below 1: compiling pays.\n\n",
            _backend_table(table), "\n",
        ]
    for heading, table in compiles:
        parts += [
            f"## Compile time, recompiles, graph breaks · {heading}\n\n",
            "`compile_seconds`: CPU seconds of the first compiled forward and backward "
            "(caches off). `recompiles`: frames compiled again when the same compiled "
            "function meets instances 2-8 (0: compile's guards hold across instances). "
            "`graph_breaks`: while compiling the first instance.\n\n",
            _counts_table(table), "\n",
        ]
    for heading, table in exports:
        parts += [
            f"## torch.export (pytorch/pytorch#167645) · {heading}\n\n",
            "`exported_over_eager_cached`: forward of the program exported as usual over the "
            "eager forward inside `cached()`, timed alternately in one process. "
            "`export_seconds`: wall time of `torch.export.export`. The exported forward "
            "per export mode is in cost_ratio.md and results.csv "
            "(`export.ExportedRun`).\n\n",
            _counts_table(table), "\n",
        ]
    return "".join(parts).rstrip("\n") + "\n"


def _backend_table(table: pd.DataFrame) -> str:
    ratios = [c for c in table.columns if c.endswith("/eager")]
    backends = [c for c in table.columns if c not in ratios and c not in
                ("benchmark", "unit") and c in ("none", "aot_eager", "inductor", "eager")]
    keys = [c for c in table.columns if c not in (*ratios, *backends, "unit")]
    rows = _in_units(table[[*keys, *backends, "unit"]], backends)
    for column in ratios:
        rows[column] = table[column]
    rows["benchmark"] = [short_name(str(b)) for b in rows["benchmark"]]
    return _markdown.table(rows, dict.fromkeys(ratios, _markdown.ratio), [*backends, *ratios])


def _counts_table(table: pd.DataFrame) -> str:
    """A ``### class`` table per benchmark class, with the parameters and tracks it has."""
    parts = []
    for benchmark, rows in table.groupby("benchmark", sort=True):
        rows = rows.drop(columns=["benchmark"]).dropna(axis=1, how="all")
        tracks = [c for c in rows.columns if c not in parameter_columns(table)]
        formats: dict[str, _markdown.Formatter] = {
            c: (_markdown.ratio if c.endswith("_over_eager_cached") else _count) for c in tracks
        }
        parts.append(f"### {benchmark}\n\n" + _markdown.table(rows, formats, tracks))
    return "\n".join(parts)


def _count(value: object) -> str:
    """A count as an integer, seconds with three significant digits."""
    if not _markdown.present(value):
        return "—"
    number = float(value)  # type: ignore[arg-type]
    return str(int(number)) if number.is_integer() else _markdown.significant(number)


def _releases_markdown(releases: pd.DataFrame) -> str:
    parts = [
        _GENERATED,
        "# Across torch releases\n\n",
        "The same paramcheck commit and benchmarks, one asv environment per torch release "
        "(benchmarks/asv.releases.json; 2.9.1 and 2.14.1 are CUDA builds run on the CPU). "
        "Each `track_` value at the latest commit of each release, oldest release first. "
        "The verify verdicts of torch's built-ins per release are in reports/releases/. "
        "Plot: [releases.png](releases.png).\n\n",
    ]
    if releases.empty:
        parts.append("Fewer than two torch releases were measured.\n")
        return "".join(parts)
    versions = [c for c in releases.columns if c[:1].isdigit()]
    rows = _in_units(releases, versions)
    rows = rows.rename(columns={v: f"torch {v}" for v in versions})
    parts.append(_markdown.table(rows, numeric=[f"torch {v}" for v in versions]))
    return "".join(parts)


def _spread_column(rows: pd.DataFrame, low: str, high: str) -> pd.DataFrame:
    """``rows`` with ``low`` and ``high`` replaced by one text column ``spread``."""
    rows = rows.copy()
    spread = []
    for lo, hi, unit in zip(rows.pop(low), rows.pop(high), rows["unit"], strict=True):
        ratio = unit in _tables.RATIO_UNITS or low == "low"
        if not (_markdown.present(lo) and _markdown.present(hi)):
            spread.append("—")
        elif ratio:
            spread.append(f"{float(lo):.2f}–{float(hi):.2f}×")
        else:
            spread.append(f"{_markdown.quantity(float(lo), unit)}–"
                          f"{_markdown.quantity(float(hi), unit)}")
    rows["spread"] = spread
    return rows


def _history_markdown(sections: list[History]) -> str:
    parts = [
        _GENERATED,
        "# Benchmark history\n\n",
        "Per benchmark, the geometric mean over its parameter combinations of each "
        "measurement relative to its first value among the commits shown (below 1: "
        "faster, or smaller); then every measurement (— where it failed or was "
        "not run).\n\n",
    ]
    if not sections:
        parts.append("No benchmark was measured on two commits of one machine and "
                     "environment yet.\n")
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
