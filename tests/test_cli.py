"""The ``paramcheck`` command line: exit statuses, outputs and usage errors.

Most tests call ``main(argv)`` in-process; one runs the installed console script. User
targets are the modules in tests/data (``cli_targets``, ``cli_import_error``), named as
``module:attr`` from that folder, as a user would from their project.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import paramcheck
from paramcheck import _cli
from paramcheck._cli import main

DATA = Path(__file__).parent / "data"

#: A short, reproducible search: enough for LossySymmetric's bug (any nonzero
#: off-diagonal entry shows it) and quick on a 2-core machine.
FAST = ["--max-examples", "4", "--seed", "0", "--dtypes", "float64", "--shape", "3x3", "-q"]


@pytest.fixture
def in_data(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from tests/data (the CLI makes the current folder importable); sys.path is
    restored afterwards."""
    monkeypatch.chdir(DATA)
    monkeypatch.setattr(sys, "path", list(sys.path))
    return DATA


def usage_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """Run ``argv``, check it is a usage error (2, no traceback), return its error line."""
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Traceback" not in captured.err
    lines = captured.err.strip().splitlines()
    error = lines[-1]
    assert error.startswith("paramcheck"), captured.err
    assert ": error: " in error
    return error


# -- exit statuses ------------------------------------------------------------------------


def test_a_correct_parametrization_exits_0(in_data: Path, capsys) -> None:
    argv = ["verify", "cli_targets:Symmetric", "--constraint", "symmetric", *FAST]
    assert main(argv) == 0
    out = capsys.readouterr().out
    header, rule, row = out.splitlines()[:3]
    assert header.split()[:4] == ["parametrization", "constrained", "to", "constraint"]
    assert set(rule.replace(" ", "")) == {"-"}
    assert row.split()[:2] == ["cli_targets:Symmetric", "symmetric"]
    assert "FAIL" not in out
    assert out.rstrip().splitlines()[-1].endswith("all properties hold")


def test_a_failing_property_exits_1_with_the_minimal_counterexample(in_data: Path, capsys) -> None:
    argv = ["verify", "cli_targets:LossySymmetric", "--constraint", "symmetric", *FAST]
    assert main(argv) == 1
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("cli_targets:"))
    cells = dict(zip(out.splitlines()[0].replace("constrained to", "constrained_to").split(),
                     row.split(), strict=True))
    assert cells["round_trip"] == "FAIL"
    assert cells["constraint"] == "pass"  # forward is right; only right_inverse is wrong
    assert "FAILED cli_targets:LossySymmetric · round_trip · float64" in out
    assert "counterexample X (shape (3, 3), float64):" in out
    assert "FAILED: cli_targets:LossySymmetric" in out.splitlines()[-1]


def test_json_output_carries_the_shrunk_counterexample(in_data: Path, capsys) -> None:
    argv = ["verify", "cli_targets:LossySymmetric", "--constraint", "symmetric", "--json", *FAST]
    assert main(argv) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] is False
    (entry,) = document["parametrizations"]
    assert entry["name"] == "cli_targets:LossySymmetric" and entry["constraint"] == "symmetric"
    failed = [r for r in entry["results"] if r["status"] == "failed"]
    assert [r["property"] for r in failed] == ["round_trip"]
    X = eval(failed[0]["counterexample"]["X"], {"torch": torch})
    # Any nonzero entry above the diagonal breaks the round trip, and Hypothesis shrinks
    # every other entry to zero: the minimal counterexample has exactly one.
    assert X.shape == (3, 3) and X.dtype == torch.float64
    assert int((X != 0).sum()) == 1 and int((X.triu(1) != 0).sum()) == 1


def test_markdown_output_is_a_pipe_table(in_data: Path, capsys) -> None:
    argv = ["verify", "cli_targets:make_symmetric", "--constraint", "symmetric", "--markdown",
            *FAST]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| parametrization | constrained to | constraint | round_trip")
    assert set(lines[1].replace(" ", "")) <= {"|", "-"}
    assert lines[2].startswith("| `cli_targets:make_symmetric` | symmetric | pass |")
    assert lines[-1].endswith("all properties hold.")


def test_without_shape_a_target_is_checked_at_its_own_shape(in_data: Path, capsys) -> None:
    """A target whose Spec fixes its shape (Pruning's mask is 3x5) is checked at that shape
    when --shape is not given, as paramcheck.verify does; the default 4x4 would not fit."""
    argv = ["verify", "cli_targets:make_pruned", "--max-examples", "2", "--seed", "0",
            "--dtypes", "float64", "-q", "--json"]
    assert main(argv) == 0, capsys.readouterr()
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] is True
    import cli_targets  # type: ignore[import-not-found]

    assert paramcheck.verify(cli_targets.make_pruned, max_examples=2, seed=0,
                             dtypes="float64").shape == (3, 5)


@pytest.mark.parametrize("attr", ["symmetric", "chain"])
def test_instances_and_chains_are_targets(in_data: Path, capsys, attr: str) -> None:
    argv = ["verify", f"cli_targets:{attr}", "--constraint", "symmetric", *FAST]
    assert main(argv) == 0, capsys.readouterr()


def test_progress_goes_to_stderr(in_data: Path, capsys) -> None:
    argv = ["verify", "cli_targets:Symmetric", *[a for a in FAST if a != "-q"]]
    assert main(argv) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "[1/1] verifying cli_targets:Symmetric"
    assert err[-1].startswith("verified 1 in ")


# -- no target: everything shipped --------------------------------------------------------


def test_every_shipped_entry_builds_a_parametrization() -> None:
    entries = _cli.shipped((4, 4))
    names = [name for name, _ in entries]
    assert len(set(names)) == len(names)
    for expected in ("Symmetric", "orthogonal_cayley()", "TorchOrthogonal('householder')",
                     "TorchSpectralNorm", "TorchWeightNorm"):
        assert expected in names
    for name, factory in entries:
        made = factory()  # type: ignore[operator]
        modules = list(made) if not isinstance(made, nn.Module) else [made]
        assert modules and all(isinstance(m, nn.Module) for m in modules), name


def test_no_target_verifies_the_catalog_and_lists_what_does_not_apply(
    in_data: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from paramcheck import transforms

    Double = _cli.load_target("cli_targets:Double")
    monkeypatch.setattr(_cli, "shipped", lambda shape: [("Skew", transforms.Skew),
                                                        ("Double", Double)])
    # Skew needs square matrices: on 3x4 it is listed as not applicable; Double runs.
    argv = ["verify", "--max-examples", "2", "--seed", "0", "--dtypes", "float64",
            "--shape", "3x4", "-q"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines()[2:4]}
    assert rows["Skew"][1:] == ["—"] + ["n/a"] * (len(rows["Skew"]) - 2)
    assert rows["Double"][1:3] == ["—", "n/a¹"]  # no constraint to check: footnote 1
    assert "¹ no constraint: pass constraint=" in out
    assert set(rows["Double"][3:]) == {"pass"}
    assert "Skew: not verified: Skew needs square matrices; got shape (3, 4)" in out
    assert "2 parametrizations (1 not applicable to these options)" in out


# -- usage errors: exit 2, one line ------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["verify", "no_such_module_xyz:Thing"], "cannot import 'no_such_module_xyz'"),
        (["verify", "cli_import_error:Thing"], "importing 'cli_import_error' raised RuntimeError"),
        (["verify", "cli_targets:NoSuchThing"], "has no attribute 'NoSuchThing'"),
        (["verify", "cli_targets"], "is not of the form package.module:attr"),
        (["verify", "cli_targets:not_a_parametrization"], "cannot verify cli_targets:"),
        # Bad option values: tests/test_validation.py (the same message as the API's).
        (["verify", "cli_targets:Symmetric", "--shape", "4by4"], "shape must be a tuple"),
        (["verify", "cli_targets:make_pruned", "--shape", "4x4"],
         "cannot verify cli_targets:make_pruned: Pruning was built for tensors of shape (3, 5)"),
        (["verify", "--json", "--markdown"], "not allowed with argument"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_usage_errors_exit_2_with_one_line(in_data: Path, capsys, argv, expected) -> None:
    assert expected in usage_error(capsys, argv)


def test_cuda_where_there_is_none_is_a_usage_error(
    in_data: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    error = usage_error(capsys, ["verify", "cli_targets:Symmetric", "--device", "cuda"])
    assert "no CUDA device" in error and "use device cpu" in error


def test_a_missing_command_is_a_usage_error(capsys) -> None:
    assert "required: COMMAND" in usage_error(capsys, [])


def test_the_console_script_reports_a_usage_error_in_one_line(tmp_path: Path) -> None:
    script = shutil.which("paramcheck")
    assert script is not None, "the paramcheck console script is not installed"
    done = subprocess.run(
        [script, "verify", "no_such_module_xyz:Thing"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "paramcheck verify: error: cannot import 'no_such_module_xyz' (No module named "
        "'no_such_module_xyz'); check the spelling, and run from the folder that holds it "
        "or install its package"
    ]


# -- parsers -----------------------------------------------------------------------------


def test_the_results_folder_comes_from_asv_conf(tmp_path: Path) -> None:
    assert _cli.asv_results_dir(tmp_path) == tmp_path / ".asv" / "results"
    (tmp_path / "asv.conf.json").write_text(
        '// asv allows comments\n{\n    // here too\n    "results_dir": "bench/results"\n}\n'
    )
    assert _cli.asv_results_dir(tmp_path) == tmp_path / "bench" / "results"
