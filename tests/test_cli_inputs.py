"""The command line's --inputs, --constraint package.module:callable, --strict, and the
summary of warnings raised by the checked code (after the table, once each)."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from paramcheck._cli import main

USER_MODULE = '''
import warnings
import torch
from torch import nn


class UnitColumns(nn.Module):
    def forward(self, X):
        return X / torch.linalg.vector_norm(X, dim=-2, keepdim=True)


class Noisy(UnitColumns):
    def forward(self, X):
        warnings.warn("Noisy says hello", UserWarning, stacklevel=1)
        return super().forward(X)


def unit_columns(W):
    return bool(((torch.linalg.vector_norm(W, dim=-2) - 1).abs() < 1e-5).all())


def unit_rows(W):
    return bool(((torch.linalg.vector_norm(W, dim=-1) - 1).abs() < 1e-5).all())


not_callable = 3
'''


@pytest.fixture
def user_pkg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "userchecks.py").write_text(textwrap.dedent(USER_MODULE))
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    sys.modules.pop("userchecks", None)


FAST = ["--dtypes", "float64", "--max-examples", "5", "--seed", "0", "-q",
        "--properties", "constraint"]


def test_constraint_from_the_users_package(user_pkg: Path, capsys) -> None:
    code = main(["verify", "userchecks:UnitColumns", "--constraint", "userchecks:unit_columns",
                 "--inputs", "nonzero", *FAST])
    out = capsys.readouterr().out
    assert code == 0, out
    wrong = main(["verify", "userchecks:UnitColumns", "--constraint", "userchecks:unit_rows",
                  "--inputs", "nonzero", *FAST])
    assert wrong == 1
    assert "unit_rows" in capsys.readouterr().out


def test_a_constraint_that_is_not_callable_is_a_usage_error(user_pkg: Path, capsys) -> None:
    code = main(["verify", "userchecks:UnitColumns", "--constraint",
                 "userchecks:not_callable", *FAST])
    assert code == 2
    assert "not a callable" in capsys.readouterr().err


def test_inputs_names_a_domain_and_refuses_an_unknown_one(user_pkg: Path, capsys) -> None:
    assert main(["verify", "userchecks:UnitColumns", "--constraint", "userchecks:unit_columns",
                 "--inputs", "nonzero", *FAST]) == 0
    assert main(["verify", "userchecks:UnitColumns", "--inputs", "bogus", *FAST]) == 2
    err = capsys.readouterr().err
    assert "inputs must be" in err and "'image'" in err


def test_warnings_of_the_checked_code_are_summarised_once_after_the_table(
        user_pkg: Path, capsys) -> None:
    code = main(["verify", "userchecks:Noisy", "--constraint", "userchecks:unit_columns",
                 "--inputs", "nonzero", *FAST])
    captured = capsys.readouterr()
    assert code == 0
    assert "Noisy says hello" not in captured.out
    lines = [ln for ln in captured.err.splitlines() if "Noisy says hello" in ln]
    assert len(lines) == 1, captured.err
    assert lines[0].lstrip().split("x ")[0].isdigit()
    assert "warnings from the checked code" in captured.err
