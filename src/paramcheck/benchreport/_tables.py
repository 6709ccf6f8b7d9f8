"""The report's tables, computed from the tidy frame (see ``_frame``).

- **Cached speedup** ``t_uncached / t_cached`` of each time benchmark measured both
  cached and uncached: how much ``parametrize.cached()`` saves when a weight is read
  ``k`` times.
- **Cost ratio** ``cost_paramcheck / cost_torch`` of each benchmark measured with both
  implementations: what paramcheck's reference ``parametrize`` costs next to torch's.
- **Tracked ratios**: the values of the dimensionless asv ``track_`` benchmarks.
- **History**: each measurement across commits, and per benchmark the geometric mean
  of the measurements relative to their first value among the commits shown.

Speedups, cost ratios and tracked ratios are read, per benchmark, at the latest commit
that measured it on each machine and environment. Every table is sorted on its key
columns, so the same results always give the same rows in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from paramcheck.benchreport._frame import parameter_columns

#: ``cost_ratio`` compares the implementation ``OURS`` with ``BASELINE``.
OURS = "paramcheck"
BASELINE = "torch"
#: Units of dimensionless benchmarks.
RATIO_UNITS = frozenset({"ratio", "x", "×"})


@dataclass(frozen=True)
class Run:
    """One run of the benchmarks: a commit measured on a machine in an environment.

    ``benchmarks``: the benchmarks read from it (those whose latest measurement on that
    machine and environment is this commit); empty for all of them.
    """

    machine: str
    env: str
    commit: str
    date: pd.Timestamp | None
    benchmarks: frozenset[str] = frozenset()


@dataclass(frozen=True)
class History:
    """The last commits measured on one machine and environment, oldest first.

    ``summary``: benchmark x commit, the geometric mean over the benchmark's parameter
    combinations of ``value / first value`` (the first measured in the window).
    ``series``: benchmark -> (parameters x commit) of values.
    """

    machine: str
    env: str
    commits: pd.DataFrame
    summary: pd.DataFrame
    series: dict[str, pd.DataFrame]


def latest_runs(frame: pd.DataFrame) -> list[Run]:
    """Each benchmark's latest commit (by commit date) on each machine and environment.

    A benchmark left out of the newest run (a heavy one, measured on an older commit) is
    read from the newest commit that measured it, so one run per commit holding a latest
    measurement: oldest first within a machine and environment.
    """
    runs = []
    for (machine, env), rows in frame.groupby(["machine", "env"], sort=True, dropna=False):
        rows = rows.sort_values(["date", "commit"], kind="stable", na_position="first")
        latest = rows.drop_duplicates("benchmark", keep="last")
        for commit, part in latest.groupby("commit", sort=False):
            runs.append(Run(str(machine), str(env), str(commit), _date(part["date"].iloc[0]),
                            frozenset(str(b) for b in part["benchmark"])))
    return sorted(runs, key=lambda r: (r.machine, r.env, _ns(r.date), r.commit))


def at_run(frame: pd.DataFrame, run: Run) -> pd.DataFrame:
    """The rows measured in ``run`` (of its ``benchmarks`` only, when it names them)."""
    mask = (
        (frame["machine"] == run.machine)
        & (frame["env"] == run.env)
        & (frame["commit"] == run.commit)
    )
    if run.benchmarks:
        mask &= frame["benchmark"].isin(run.benchmarks)
    rows: pd.DataFrame = frame[mask.fillna(False)]
    return rows


def cached_speedup(rows: pd.DataFrame) -> pd.DataFrame:
    """``uncached``, ``cached`` and ``speedup = uncached / cached`` per parameter combination.

    Reads the time benchmarks with a parameter telling cached from uncached reads (see
    :func:`cache_columns`). Columns: ``benchmark``, the other parameters, ``unit``,
    ``uncached``, ``cached``, ``speedup``, and its spread ``low``-``high`` (see
    :func:`_spread`). Empty when nothing was timed both ways.
    """
    rows = rows[rows["unit"] == "seconds"]
    parts = []
    for column in cache_columns(rows):
        flag = rows[column].map(lambda v, c=column: _as_cached(c, v)).astype("object")
        paired = _pair(rows.assign(**{column: flag}), column, level="cached", baseline="uncached")
        if not paired.empty:
            parts.append(paired)
    if not parts:
        return _empty()
    table = pd.concat(parts, ignore_index=True)
    keys = ["benchmark", *[c for c in parameter_columns(rows) if c in table.columns], "unit"]
    table = table.sort_values(keys, kind="stable", na_position="last", ignore_index=True)
    table = table.rename(columns={"level": "cached", "baseline": "uncached"})
    table["speedup"] = table["uncached"] / table["cached"]
    table["low"], table["high"] = _spread(
        (table["baseline_q25"], table["baseline_q75"]), (table["level_q25"], table["level_q75"])
    )
    speedups: pd.DataFrame = table[[*keys, "uncached", "cached", "speedup", "low", "high"]]
    return speedups


def cache_columns(rows: pd.DataFrame) -> list[str]:
    """The parameters telling cached from uncached: a boolean ``cached``, or any parameter
    (``mode``, ``variant``...) taking both the values ``"cached"`` and ``"uncached"``."""
    found = []
    for column in parameter_columns(rows):
        seen = {_as_cached(column, v) for v in rows[column].dropna().unique()}
        if {"cached", "uncached"} <= seen:
            found.append(column)
    return found


def cost_ratio(rows: pd.DataFrame) -> pd.DataFrame:
    """paramcheck's cost next to torch's, per parameter combination.

    Reads the benchmarks (but the dimensionless ones) with an ``implementation``
    parameter measured both as ``paramcheck`` and ``torch``. Columns: ``benchmark``,
    the other parameters, ``unit``, ``paramcheck``, ``torch``, ``ratio = paramcheck / torch``
    and its spread ``low``-``high``.
    """
    # Dimensionless benchmarks are ratios already; tracked_ratios lists them.
    rows = rows[~rows["unit"].isin(sorted(RATIO_UNITS)).fillna(False)]
    paired = _pair(rows, "implementation", level=OURS, baseline=BASELINE)
    if paired.empty:
        return paired
    paired = paired.rename(columns={"level": OURS, "baseline": BASELINE})
    paired["ratio"] = paired[OURS] / paired[BASELINE]
    paired["low"], paired["high"] = _spread(
        (paired["level_q25"], paired["level_q75"]), (paired["baseline_q25"], paired["baseline_q75"])
    )
    stats = ("level_q25", "level_q75", "baseline_q25", "baseline_q75")
    keys = [c for c in paired.columns if c not in (OURS, BASELINE, "ratio", "low", "high", *stats)]
    table: pd.DataFrame = paired[[*keys, OURS, BASELINE, "ratio", "low", "high"]]
    return table


def tracked_ratios(rows: pd.DataFrame) -> pd.DataFrame:
    """The dimensionless asv ``track_`` benchmarks (unit ``ratio``).

    Columns: ``benchmark``, the parameters they take, ``value`` (the median over asv's
    processes), ``q25``, ``q75``, ``unit``.
    """
    name = rows["benchmark"].str.rsplit(".", n=1).str[-1]
    track = name.str.startswith("track_").fillna(False)
    picked = rows[track & rows["unit"].isin(sorted(RATIO_UNITS)).fillna(False)]
    keys = ["benchmark", *_used(picked, parameter_columns(picked))]
    table: pd.DataFrame = picked[[*keys, "value", "q25", "q75", "unit"]]
    table = table.sort_values(keys, kind="stable").reset_index(drop=True)
    return table


def compiled_steps(rows: pd.DataFrame) -> pd.DataFrame:
    """Step time per ``backend`` of the time benchmarks taking one, and compiled / eager.

    Columns: ``benchmark``, the other parameters, ``unit``, one column per backend (``none``
    is eager) and ``<backend>/eager`` for each compiled backend (below 1: compiling pays).
    """
    name = rows["benchmark"].str.rsplit(".", n=1).str[-1]
    timed = name.str.startswith("time_").fillna(False)
    rows = rows[timed & (rows["unit"] == "seconds") & _has(rows, "backend")]
    if rows.empty:
        return _empty()
    params = [p for p in _used(rows, parameter_columns(rows)) if p != "backend"]
    keys = ["benchmark", *params, "unit"]
    wide = rows.pivot_table(index=keys, columns="backend", values="value", aggfunc="median",
                            dropna=False, observed=True).dropna(how="all")
    backends = [b for b in ("none", *sorted(set(wide.columns) - {"none"})) if b in wide.columns]
    table: pd.DataFrame = wide[backends].reset_index()
    table.columns = pd.Index([str(c) for c in table.columns])
    if "none" in backends:
        for backend in backends[1:]:
            table[f"{backend}/eager"] = table[backend] / table["none"]
    table = table.sort_values(keys, kind="stable", ignore_index=True)
    return table


def counts(rows: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """The ``track_`` benchmarks whose name starts with ``prefix`` (``compiled.``...),
    one column per track: ``benchmark`` is the class, the parameters, then each track."""
    picked = rows[rows["benchmark"].str.startswith(prefix).fillna(False)]
    name = picked["benchmark"].str.rsplit(".", n=1)
    picked = picked[name.str[-1].str.startswith("track_").fillna(False)]
    if picked.empty:
        return _empty()
    picked = picked.assign(benchmark=name.str[0], track=name.str[-1].str.removeprefix("track_"))
    params = [p for p in _used(picked, parameter_columns(picked)) if p != "track"]
    keys = ["benchmark", *params]
    wide = picked.pivot_table(index=keys, columns="track", values="value", aggfunc="median",
                              dropna=False, observed=True).dropna(how="all")
    table: pd.DataFrame = wide.reset_index()
    table.columns = pd.Index([str(c) for c in table.columns])
    table = table.sort_values(keys, kind="stable", ignore_index=True)
    return table


#: The torch release in an asv environment name: ``...-torch2.13.0``.
_TORCH_IN_ENV = r"torch(\d+\.\d+(?:\.\d+)?)"


def torch_releases(frame: pd.DataFrame) -> pd.DataFrame:
    """The ``track_`` benchmarks side by side across torch releases.

    Reads the latest commit of every environment whose name names a torch release (asv's
    environment names do: ``...-torch2.14.1``). Columns: ``benchmark``, the parameters,
    ``unit``, one column per release, oldest first. Empty with fewer than two releases.
    """
    release = frame["env"].str.extract(_TORCH_IN_ENV, expand=False)
    frame = frame.assign(release=release)
    runs = [run for run in latest_runs(frame[release.notna()])]
    latest = pd.concat([at_run(frame, run) for run in runs]) if runs else _empty()
    if latest.empty or latest["release"].nunique() < 2:
        return _empty()
    name = latest["benchmark"].str.rsplit(".", n=1).str[-1]
    latest = latest[name.str.startswith("track_").fillna(False)]
    params = [p for p in _used(latest, parameter_columns(latest)) if p != "release"]
    keys = ["benchmark", *params, "unit"]
    wide = latest.pivot_table(index=keys, columns="release", values="value", aggfunc="median",
                              dropna=False, observed=True).dropna(thresh=2)  # side by side
    order = sorted(wide.columns, key=lambda v: tuple(int(p) for p in str(v).split(".")))
    table: pd.DataFrame = wide[order].reset_index()
    table.columns = pd.Index([str(c) for c in table.columns])
    return table


def histories(frame: pd.DataFrame, last: int) -> list[History]:
    """The history of the last ``last`` commits on each machine and environment.

    Only what has a history: environments measured on two commits or more, and in them the
    benchmarks measured on two of the commits shown or more (one run of a new benchmark, or
    of another torch release, is in the other tables).
    """
    out = []
    for (machine, env), rows in frame.groupby(["machine", "env"], sort=True, dropna=False):
        commits = (
            rows[["commit", "date"]]
            .drop_duplicates("commit")
            .sort_values(["date", "commit"], kind="stable", na_position="first")
            .tail(last)
            .reset_index(drop=True)
        )
        rows = rows[rows["commit"].isin(commits["commit"])]
        measured_on = rows.groupby("benchmark", observed=True)["commit"].transform("nunique")
        rows = rows[measured_on >= 2]
        if len(commits) < 2 or rows.empty:
            continue
        params = _used(rows, parameter_columns(rows))
        wide = rows.pivot_table(
            index=["benchmark", *params, "unit"],
            columns="commit",
            values="value",
            aggfunc="median",
            dropna=False,
            observed=True,
        )
        wide = wide.dropna(how="all").reindex(columns=list(commits["commit"]))
        out.append(History(str(machine), str(env), commits, _summary(wide), _split(wide)))
    return out


def _summary(wide: pd.DataFrame) -> pd.DataFrame:
    """benchmark x commit: geometric mean of each series relative to its first measurement.

    ``exp(mean(log(value / first)))``, where ``first`` is the series' value at the oldest
    commit shown that measured it (a benchmark that failed there starts later).
    """
    first = wide.bfill(axis=1).iloc[:, 0]
    relative = wide.div(first, axis=0)
    logs = pd.DataFrame(np.log(relative.to_numpy(dtype=float)),
                        index=relative.index, columns=relative.columns)
    means = logs.groupby(level="benchmark", sort=True).mean()
    summary: pd.DataFrame = pd.DataFrame(np.exp(means.to_numpy(dtype=float)),
                           index=means.index, columns=means.columns)
    return summary


def _split(wide: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """benchmark -> its rows of ``wide``, with the parameters it takes as columns."""
    series = {}
    for benchmark, rows in wide.groupby(level="benchmark", sort=True):
        rows = rows.reset_index().drop(columns=["benchmark"])
        params = [c for c in rows.columns if c not in wide.columns and c != "unit"]
        keep = _used(rows, params)
        rows = rows.drop(columns=[c for c in params if c not in keep])
        series[str(benchmark)] = rows.reset_index(drop=True)
    return series


def _pair(rows: pd.DataFrame, column: str, level: object, baseline: object) -> pd.DataFrame:
    """The value measured at ``column == level`` next to the one at ``column == baseline``.

    Returns the key columns (``benchmark``, the parameters used but ``column``, ``unit``),
    ``level`` and ``baseline``: one row per key measured at both, sorted on the keys.
    """
    if column not in rows.columns:
        return _empty()
    rows = rows[rows[column].isin([level, baseline]).fillna(False)]
    if rows.empty:
        return _empty()
    params = [p for p in _used(rows, parameter_columns(rows)) if p != column]
    keys = ["benchmark", *params, "unit"]
    groups = rows.groupby([*keys, column], sort=True, dropna=False, observed=True)
    stats = groups[["value", "q25", "q75"]].median()
    wide = stats["value"].unstack(column)
    if level not in wide.columns or baseline not in wide.columns:
        return _empty()
    q25, q75 = stats["q25"].unstack(column), stats["q75"].unstack(column)
    both: pd.DataFrame = pd.DataFrame({
        "level": wide[level], "baseline": wide[baseline],
        "level_q25": q25[level], "level_q75": q75[level],
        "baseline_q25": q25[baseline], "baseline_q75": q75[baseline],
    })
    both = both.dropna(subset=["level", "baseline"]).reset_index()
    return both


def _spread(
    numerator: tuple[pd.Series, pd.Series], denominator: tuple[pd.Series, pd.Series]
) -> tuple[pd.Series, pd.Series]:
    """The range of ``numerator / denominator`` over their interquartile ranges.

    ``low = numerator_q25 / denominator_q75`` and ``high = numerator_q75 / denominator_q25``:
    conservative (the two spreads add), and missing where either side took one sample.
    """
    (n25, n75), (d25, d75) = numerator, denominator
    return n25 / d75, n75 / d25


def _empty() -> pd.DataFrame:
    """A table with no rows: nothing to compare."""
    empty: pd.DataFrame = pd.DataFrame()
    return empty


def _has(rows: pd.DataFrame, column: str) -> pd.Series:
    """Rows where ``column`` exists and holds a value."""
    if column not in rows.columns:
        absent: pd.Series = pd.Series(False, index=rows.index)
        return absent
    present: pd.Series = rows[column].notna()
    return present


def _used(rows: pd.DataFrame, columns: list[str]) -> list[str]:
    """The ``columns`` that hold a value on at least one of ``rows``."""
    return [c for c in columns if rows[c].notna().any()]


def _as_cached(column: str, value: object) -> str | None:
    """``"cached"``, ``"uncached"`` or ``None`` (neither, e.g. ``"plain"``) for a value."""
    if isinstance(value, (bool, np.bool_)):
        return ("cached" if value else "uncached") if column == "cached" else None
    if isinstance(value, str) and value.lower() in ("cached", "uncached"):
        return value.lower()
    return None


def _date(value: object) -> pd.Timestamp | None:
    return None if value is None or value is pd.NaT else pd.Timestamp(value)  # type: ignore[arg-type]


def _ns(date: pd.Timestamp | None) -> int:
    """A sort key: nanoseconds since the epoch, an unknown date first."""
    return -1 if date is None else int(date.value)
