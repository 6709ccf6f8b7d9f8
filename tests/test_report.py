"""``paramcheck report``: real asv and pytest-benchmark results -> tidy frame -> report files.

The results in tests/data were produced by actually running asv (three commits of a toy
project, see tests/data/asv_toy/make_results.sh) and pytest-benchmark. Expected numbers
are recomputed here from the raw JSON, independently of the code under test.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from pathlib import Path

import pandas as pd
import pytest

from paramcheck import benchreport as report
from paramcheck._cli import main
from paramcheck.benchreport import _atomic, _markdown, _plots
from paramcheck.errors import UsageError

ROOT = Path(__file__).parents[1]
DATA = Path(__file__).parent / "data"
RESULTS = DATA / "asv_results"
PYTEST_BENCHMARK = DATA / "pytest_benchmark.json"
TOY = "bench_toy.TimeReads.time_reads"


def raw_runs() -> list[dict]:
    """The asv results files of the fixture, oldest commit first."""
    runs = [json.loads(p.read_text()) for p in sorted((RESULTS / "toybox").glob("*-*.json"))]
    return sorted(runs, key=lambda r: r["date"])


def raw_value(
    run: dict, benchmark: str, column: str = "result", **params: object
) -> float | None:
    """The value asv stored for ``params`` (by name), found by walking the product;
    ``column`` "stats_q_25" or "stats_q_75" for the quartiles of its samples."""
    names = json.loads((RESULTS / "benchmarks.json").read_text())[benchmark]["param_names"]
    row = dict(zip(run["result_columns"], run["results"][benchmark], strict=False))
    wanted = tuple(repr(params[n]) for n in names)
    if row["result"] is None:  # asv stores a failed benchmark without parameters as null
        return None
    for combo, value in zip(itertools.product(*row["params"]), row[column], strict=True):
        if combo == wanted:
            return value
    raise KeyError(params)


def section(text: str, heading: str) -> list[str]:
    """The table lines under ``heading`` (up to the next blank line after the table)."""
    lines = text.splitlines()
    start = lines.index(heading) + 2
    end = lines.index("", start) if "" in lines[start:] else len(lines)
    return lines[start:end]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return report.load_results(RESULTS)


# -- the tidy frame ----------------------------------------------------------------------


def test_the_frame_has_one_row_per_measured_number(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == [
        "benchmark", "transform", "n", "k", "cached", "device", "implementation",
        "value", "q25", "q75", "unit", "commit", "date", "machine", "env",
    ]
    measured = 0
    for run in raw_runs():
        for row in run["results"].values():
            values = dict(zip(run["result_columns"], row, strict=False))["result"] or []
            measured += sum(v is not None and not math.isnan(v) for v in values)
    assert len(frame) == measured
    assert frame["n"].dtype == "Int64" and frame["cached"].dtype == "boolean"
    assert set(frame["machine"]) == {"toybox"}


def test_skipped_and_failed_measurements_are_left_out(frame: pd.DataFrame) -> None:
    # CUDA rows were skipped (NaN in the results: no GPU); peakmem_register failed (null)
    # on the first commit only.
    assert "cuda" not in set(frame["device"].dropna())
    _, *later = [r["commit_hash"] for r in raw_runs()]
    peak = frame[frame["benchmark"] == "bench_toy.peakmem_register"]
    assert set(peak["commit"]) == set(later)
    assert raw_value(raw_runs()[0], "bench_toy.peakmem_register") is None


def test_values_units_and_dates_come_from_the_results(frame: pd.DataFrame) -> None:
    last = raw_runs()[-1]
    params = {"transform": "skew", "n": 64, "k": 8, "device": "cpu",
              "implementation": "paramcheck", "cached": True}
    row = frame[
        (frame["benchmark"] == TOY)
        & (frame["commit"] == last["commit_hash"])
        & pd.concat([frame[k] == v for k, v in params.items()], axis=1).all(axis=1)
    ]
    assert len(row) == 1
    assert row["value"].iloc[0] == raw_value(last, TOY, **params)
    assert row["unit"].iloc[0] == "seconds"
    assert row["date"].iloc[0] == pd.Timestamp(last["date"], unit="ms", tz="UTC")
    assert set(frame.loc[frame["benchmark"] == "bench_toy.peakmem_register", "unit"]) == {"bytes"}


def test_asv_itself_reads_the_same_numbers(frame: pd.DataFrame) -> None:
    asv_results = pytest.importorskip("asv.results")  # in the test extra: runs in CI
    expected = {}
    for result in asv_results.iter_results(str(RESULTS)):
        for key in result.get_all_result_keys():
            values = result.get_result_value(key, result.get_result_params(key))
            for combo, value in zip(itertools.product(*result.get_result_params(key)),
                                    values, strict=True):
                if value is not None and not math.isnan(value):
                    expected[(result.commit_hash, key, combo)] = value
    assert len(frame) == len(expected)
    assert sorted(frame["value"]) == sorted(expected.values())


def test_pytest_benchmark_files_join_the_frame() -> None:
    raw = json.loads(PYTEST_BENCHMARK.read_text())
    frame = report.load_results(None, [PYTEST_BENCHMARK])
    assert len(frame) == len(raw["benchmarks"])
    assert set(frame["benchmark"]) == {raw["benchmarks"][0]["fullname"].split("[")[0]}
    for bench in raw["benchmarks"]:
        p = bench["params"]
        row = frame[(frame["n"] == p["n"]) & (frame["cached"] == p["cached"])]
        assert row["value"].tolist() == [bench["stats"]["median"]]
    assert set(frame["commit"]) == {raw["commit_info"]["id"]}
    assert set(frame["machine"]) == {raw["machine_info"]["node"]}
    both = report.load_results(RESULTS, [PYTEST_BENCHMARK])
    assert len(both) == len(frame) + len(report.load_results(RESULTS))


# -- tables ------------------------------------------------------------------------------


def test_cached_speedup_is_uncached_over_cached_at_the_latest_commit(tmp_path: Path) -> None:
    report.write_report(report.load_results(RESULTS), tmp_path)
    last = raw_runs()[-1]
    params = {"transform": "symmetric", "n": 8, "k": 8, "device": "cpu",
              "implementation": "torch"}
    uncached = raw_value(last, TOY, **params, cached=False)
    cached = raw_value(last, TOY, **params, cached=True)
    # The spread: uncached's first quartile over cached's third, and the other way round.
    low = raw_value(last, TOY, "stats_q_25", **params, cached=False) / raw_value(
        last, TOY, "stats_q_75", **params, cached=True)
    high = raw_value(last, TOY, "stats_q_75", **params, cached=False) / raw_value(
        last, TOY, "stats_q_25", **params, cached=True)
    text = (tmp_path / "benchmarks" / "cached_speedup.md").read_text()
    assert f"commit {last['commit_hash'][:8]}" in text
    table = section(text, f"### {TOY}")
    assert table[0] == (
        "| transform | n | k | device | implementation | uncached | cached | speedup | spread |"
    )
    (line,) = [x for x in table if x.startswith("| symmetric | 8 | 8 | cpu | torch |")]
    assert line.endswith(f" | {uncached / cached:.2f}× | {low:.2f}–{high:.2f}× |")
    assert low <= uncached / cached <= high
    # 2 transforms x 2 sizes x 2 k x 2 implementations on the CPU; CUDA was skipped.
    assert len(table) == 2 + 16


def test_cost_ratio_is_paramcheck_over_torch(tmp_path: Path) -> None:
    report.write_report(report.load_results(RESULTS), tmp_path)
    last = raw_runs()[-1]
    params = {"transform": "skew", "n": 64, "k": 1, "device": "cpu", "cached": False}
    ours = raw_value(last, TOY, **params, implementation="paramcheck")
    theirs = raw_value(last, TOY, **params, implementation="torch")
    text = (tmp_path / "benchmarks" / "cost_ratio.md").read_text()
    table = section(text, f"### {TOY}")
    assert table[0] == (
        "| transform | n | k | cached | device | paramcheck | torch | ratio | spread |"
    )
    (line,) = [x for x in table if x.startswith("| skew | 64 | 1 | False | cpu |")]
    assert f" | {ours / theirs:.2f}× | " in line
    # The track_ benchmark is listed with its own value, per transform.
    tracked = section(text, "### bench_toy.TrackCostRatio.track_cost_ratio")
    values = [raw_value(last, "bench_toy.TrackCostRatio.track_cost_ratio", transform=t)
              for t in ("skew", "symmetric")]
    assert [x.rsplit(" | ", 1)[0] + " |" for x in tracked] == [
        "| transform | value |", "| --- | ---: |",
        f"| skew | {values[0]:.2f}× |", f"| symmetric | {values[1]:.2f}× |"]


def test_history_lists_the_commits_oldest_first(tmp_path: Path) -> None:
    report.write_report(report.load_results(RESULTS), tmp_path)
    text = (tmp_path / "benchmarks" / "history.md").read_text()
    commits = [r["commit_hash"][:8] for r in raw_runs()]
    positions = [text.index(f"| {c} | 2025-01-0") for c in commits]
    assert positions == sorted(positions) and len(commits) == 3
    summary = section(text, "### Relative to the first measurement")
    assert summary[0] == "| benchmark | " + " | ".join(commits) + " |"
    assert any(x.startswith(f"| {TOY} | 1.00× | ") for x in summary)
    # peakmem_register failed on the first commit: its row starts with a dash, and its
    # geometric mean starts at the second commit.
    peak = [raw_value(run, "bench_toy.peakmem_register") for run in raw_runs()]
    assert peak[0] is None
    later = [_markdown.quantity(v, "bytes") for v in peak[1:]]
    assert f"| — | {later[0]} | {later[1]} |" in text
    ratio = f"{peak[2] / peak[1]:.2f}×"
    assert f"| bench_toy.peakmem_register | — | 1.00× | {ratio} |" in text


# -- files: layout, determinism, atomic replacement ---------------------------------------


def test_the_report_writes_its_files_and_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("the user's own file\n")
    (tmp_path / "verification.md").write_text("| committed table |\n")
    dest = report.write_report(report.load_results(RESULTS), tmp_path)
    assert dest == tmp_path / "benchmarks"
    written = {p.name for p in dest.iterdir()}
    # The toy measured no compile benchmark and one torch release: no plot of either.
    assert written == set(report.FILES) - {"compile.png", "releases.png"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "benchmarks",
                                                          "verification.md"]
    assert (tmp_path / "README.md").read_text() == "the user's own file\n"
    for png in dest.glob("*.png"):
        data = png.read_bytes()
        assert data.startswith(b"\x89PNG") and b"Software" not in data


def test_the_report_is_reproducible_byte_for_byte(tmp_path: Path) -> None:
    frame = report.load_results(RESULTS, [PYTEST_BENCHMARK])
    first = report.write_report(frame, tmp_path / "a")
    again = report.write_report(report.load_results(RESULTS, [PYTEST_BENCHMARK]), tmp_path / "b")
    files = sorted(p.name for p in first.iterdir())
    assert files == sorted(p.name for p in again.iterdir())
    for name in files:
        assert (first / name).read_bytes() == (again / name).read_bytes(), name
    # Rewriting in place gives the same bytes too, and --check agrees.
    before = {name: (first / name).read_bytes() for name in files}
    report.write_report(frame, tmp_path / "a")
    assert {name: (first / name).read_bytes() for name in files} == before
    assert report.check_report(frame, tmp_path / "a") == []


def test_a_failure_mid_write_leaves_the_previous_report_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = report.load_results(RESULTS)
    dest = report.write_report(frame, tmp_path)
    before = {p.name: p.read_bytes() for p in dest.iterdir()}

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    # history.png is drawn after the markdown files: the new folder is half written.
    monkeypatch.setattr(_plots, "history_lines", disk_full)
    with pytest.raises(OSError, match="No space left"):
        report.write_report(frame.iloc[: len(frame) // 2], tmp_path)
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["benchmarks"]  # no temp folder left


def test_a_failed_swap_puts_the_previous_report_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "benchmarks"
    dest.mkdir()
    (dest / "index.md").write_text("old\n")
    renames = []
    real_rename = os.rename

    def flaky_rename(src: str | Path, dst: str | Path) -> None:
        renames.append((Path(src).name, Path(dst).name))
        if len(renames) == 2:  # the new folder into place
            raise OSError("interrupted")
        real_rename(src, dst)

    monkeypatch.setattr(_atomic.os, "rename", flaky_rename)
    with pytest.raises(OSError, match="interrupted"):
        _atomic.replace_folder(dest, lambda tmp: (tmp / "index.md").write_text("new\n"))
    assert (dest / "index.md").read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["benchmarks"]


def test_a_user_file_in_the_report_folder_is_never_deleted(tmp_path: Path, capsys) -> None:
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "my notes.txt").write_text("keep me\n")
    argv = ["report", "--results", str(RESULTS), "--out", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "does not write (my notes.txt)" in err and len(err.splitlines()) == 1
    assert (tmp_path / "benchmarks" / "my notes.txt").read_text() == "keep me\n"


def test_the_committed_report_is_what_the_committed_results_give() -> None:
    """reports/benchmarks/ is `paramcheck report --results reports/results`, byte for byte."""
    committed = ROOT / "reports" / report.FOLDER
    results = ROOT / "reports" / "results"
    assert committed.is_dir() and results.is_dir(), "the committed report or its results are gone"
    stale = report.check_report(report.load_results(results), ROOT / "reports")
    assert stale == [], (
        f"run `paramcheck report --results reports/results` to rebuild reports/benchmarks/: {stale}"
    )


# -- the command --------------------------------------------------------------------------


def test_report_command_writes_then_checks(tmp_path: Path, capsys) -> None:
    argv = ["report", "--results", str(RESULTS), "--out", str(tmp_path)]
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith(f"wrote {tmp_path / 'benchmarks'}/ (")
    assert main([*argv, "--check"]) == 0
    assert "is up to date" in capsys.readouterr().out
    history = tmp_path / "benchmarks" / "history.md"
    history.write_text(history.read_text() + "edited by hand\n")
    assert main([*argv, "--check"]) == 1
    out = capsys.readouterr().out
    assert "out of date: history.md would change" in out
    assert history.read_text().endswith("edited by hand\n")  # --check writes nothing
    assert main([*argv, "--history", "2"]) == 0  # fewer commits: a different history
    assert main([*argv, "--check"]) == 1


def test_report_uses_pytest_benchmark_alone_when_there_are_no_asv_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)  # no asv.conf.json, no .asv/results here
    assert main(["report", "--pytest-benchmark", str(PYTEST_BENCHMARK)]) == 0
    assert (tmp_path / "reports" / "benchmarks" / "cached_speedup.md").is_file()


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p / "missing", "no asv results folder at"),
        (lambda p: p, "holds no results"),
        (lambda p: _machine_without_benchmarks_json(p), "benchmarks.json is missing"),
    ],
)
def test_missing_or_empty_results_are_a_usage_error(tmp_path: Path, capsys, make, expected) -> None:
    results = make(tmp_path)
    assert main(["report", "--results", str(results), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and expected in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_missing_pytest_benchmark_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        report.load_results(None, [tmp_path / "nope.json"])


def _machine_without_benchmarks_json(root: Path) -> Path:
    (root / "box").mkdir()
    (root / "box" / "machine.json").write_text('{"machine": "box", "version": 1}')
    (root / "box" / "abc-env.json").write_text("{}")
    return root


# -- formatting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (1.5e-5, "seconds", "15.0 µs"),
        (0.25602, "seconds", "256 ms"),
        (2.0, "seconds", "2.00 s"),
        (3 * 2**20, "bytes", "3.00 MiB"),
        (512, "bytes", "512 B"),
        (1.254, "ratio", "1.25×"),
        (7.0, "widgets", "7.00 widgets"),
    ],
)
def test_quantities_are_formatted_with_three_significant_digits(value, unit, text) -> None:
    assert _markdown.quantity(value, unit) == text


# -- compile, export and torch-release tables (tidy frames built here) -----------------


def tidy_rows(rows: list[dict], env: str = "virtualenv-py3.11-torch2.13.0") -> pd.DataFrame:
    """A tidy frame of ``rows`` measured on one commit, machine and environment."""
    from paramcheck.benchreport import _frame

    common = {"commit": "c0ffee00", "date": pd.Timestamp("2026-01-01", tz="UTC"),
              "machine": "box", "env": env, "unit": "seconds", "q25": None, "q75": None}
    return _frame.tidy([{**common, **row} for row in rows])


def test_compiled_steps_divide_each_backend_by_eager() -> None:
    from paramcheck.benchreport import _tables

    rows = [{"benchmark": "compiled.CompiledStep.time_step", "mode": mode, "impl": "torch",
             "backend": backend, "value": value}
            for mode, scale in (("uncached", 1.0), ("cached", 0.5))
            for backend, value in (("none", 4.0 * scale), ("aot_eager", 2.0 * scale),
                                   ("inductor", 1.0 * scale))]
    table = _tables.compiled_steps(tidy_rows(rows))
    assert list(table.columns) == ["benchmark", "mode", "implementation", "unit", "none",
                                   "aot_eager", "inductor", "aot_eager/eager", "inductor/eager"]
    assert table["aot_eager/eager"].tolist() == [0.5, 0.5]
    assert table["inductor/eager"].tolist() == [0.25, 0.25]


def test_counts_put_each_track_in_its_own_column() -> None:
    from paramcheck.benchreport import _tables

    rows = [{"benchmark": f"compiled.Recompiles.track_{track}", "family": family,
             "impl": "paramcheck", "value": value, "unit": "count"}
            for family, (recompiles, breaks) in (("plain", (0, 0)), ("skew", (7, 3)))
            for track, value in (("recompiles", recompiles), ("graph_breaks", breaks))]
    rows.append({"benchmark": "read.ReadCost.time_read", "family": "skew", "value": 1.0})
    table = _tables.counts(tidy_rows(rows), "compiled.")
    assert list(table.columns) == ["benchmark", "family", "implementation", "graph_breaks",
                                   "recompiles"]
    assert table.set_index("family")["recompiles"].to_dict() == {"plain": 0, "skew": 7}
    assert table.set_index("family")["graph_breaks"].to_dict() == {"plain": 0, "skew": 3}


def test_torch_releases_stand_side_by_side_oldest_first() -> None:
    from paramcheck.benchreport import _tables

    frames = [
        tidy_rows([{"benchmark": "ratios.CachedRatio.track_cached_over_uncached",
                    "family": "skew", "value": value, "unit": "ratio"}],
                  env=f"virtualenv-py3.11-hypothesis6.170.17-torch{version}")
        for version, value in (("2.14.1", 0.07), ("2.9.1", 0.05), ("2.13.0", 0.06))
    ]
    frame = pd.concat(frames, ignore_index=True)
    table = _tables.torch_releases(frame)
    # Numeric order: "2.14.1" sorts before "2.9.1" as text.
    assert [c for c in table.columns if c[0].isdigit()] == ["2.9.1", "2.13.0", "2.14.1"]
    assert table[["2.9.1", "2.13.0", "2.14.1"]].iloc[0].tolist() == [0.05, 0.06, 0.07]
    assert _tables.torch_releases(frames[0]).empty  # one release: nothing to compare


def test_a_benchmark_left_out_of_the_newest_run_is_read_where_it_was_last_measured() -> None:
    from paramcheck.benchreport import _tables

    old, new = (pd.Timestamp(day, tz="UTC") for day in ("2026-01-01", "2026-01-02"))
    step = {"benchmark": "compiled.CompiledStep.time_step", "mode": "cached", "impl": "torch",
            "backend": "none", "value": 2.0, "commit": "aaaa0000", "date": old}
    recompiles = {"benchmark": "compiled.Recompiles.track_recompiles", "family": "skew",
                  "impl": "torch", "mode": "cached", "unit": "count"}
    frame = tidy_rows([step, {**recompiles, "value": 9.0, "commit": "aaaa0000", "date": old},
                       {**recompiles, "value": 7.0, "commit": "bbbb0000", "date": new}])
    runs = _tables.latest_runs(frame)
    assert [(r.commit, sorted(r.benchmarks)) for r in runs] == [
        ("aaaa0000", ["compiled.CompiledStep.time_step"]),
        ("bbbb0000", ["compiled.Recompiles.track_recompiles"]),
    ]
    assert _tables.at_run(frame, runs[0])["value"].tolist() == [2.0]
    assert _tables.at_run(frame, runs[1])["value"].tolist() == [7.0]  # 9.0 is history


def test_compile_and_release_reports_are_written(tmp_path: Path) -> None:
    step = [{"benchmark": "compiled.CompiledStep.time_step", "mode": "cached",
             "impl": "torch", "backend": b, "value": v}
            for b, v in (("none", 2.0), ("inductor", 1.0))]
    counts = [{"benchmark": "compiled.CompileTime.track_compile_seconds", "family": "skew",
               "impl": "torch", "backend": "inductor", "value": 20.0},
              {"benchmark": "compiled.Recompiles.track_recompiles", "family": "skew",
               "impl": "torch", "mode": "uncached", "value": 7.0, "unit": "count"}]
    frame = tidy_rows(step + counts)
    report.write_report(frame, tmp_path)
    text = (tmp_path / "benchmarks" / "compile.md").read_text()
    assert "| time_step | cached | torch | 2.00 s | 1.00 s | 0.50× |" in text
    assert (tmp_path / "benchmarks" / "compile.png").read_bytes().startswith(b"\x89PNG")
