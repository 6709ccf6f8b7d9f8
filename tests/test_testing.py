"""paramcheck.testing: one declaration becomes one pytest test per property.

Each case writes a small test module and runs pytest on it in a subprocess, so the
outcome is what a user's own run would show.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from paramcheck.errors import UsageError
from paramcheck.testing import ParametrizationTests, make_tests

HEADER = '''
import torch
from torch import nn
from paramcheck.testing import ParametrizationTests, make_tests


class Skew(nn.Module):
    def forward(self, X):
        U = X.triu(1)
        return U - U.mT

    def right_inverse(self, A):
        return A.triu(1)


class Cayley(nn.Module):
    def forward(self, X):
        eye = torch.eye(X.shape[-1], dtype=X.dtype, device=X.device)
        return torch.linalg.solve(eye - X, eye + X)

    def right_inverse(self, Q):
        eye = torch.eye(Q.shape[-1], dtype=Q.dtype, device=Q.device)
        return torch.linalg.solve(Q + eye, Q - eye)


class TutorialCayley(Cayley):
    def right_inverse(self, Q):
        eye = torch.eye(Q.shape[-1], dtype=Q.dtype, device=Q.device)
        return torch.linalg.solve(Q + eye, eye - Q)


class NoInverse(nn.Module):
    def forward(self, X):
        return X + X.mT
'''


def run_pytest(tmp_path: Path, body: str) -> tuple[dict[str, str], str]:
    """Run pytest on HEADER + body; return {test id: outcome} and the output."""
    module = tmp_path / "test_declared.py"
    module.write_text(HEADER + body)
    env = {**os.environ, "PARAMCHECK_PROFILE": "ci"}
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", str(module), "-v", "-rA", "-p", "no:cacheprovider",
         "-p", "no:xdist", "--rootdir", str(tmp_path)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600,
    )
    output = completed.stdout + completed.stderr
    outcomes = {
        m.group(1).rsplit("::", 1)[1]: m.group(2)
        for m in re.finditer(r"^(\S+::\S+) (PASSED|FAILED|SKIPPED|ERROR)", output, re.MULTILINE)
    }
    return outcomes, output


PROPERTY_TESTS = ["test_constraint", "test_round_trip", "test_cache", "test_gradient",
                  "test_batch", "test_dtype", "test_device", "test_state", "test_differential"]


def test_a_declaration_becomes_one_passing_test_per_property(tmp_path: Path) -> None:
    outcomes, output = run_pytest(tmp_path, '''
class TestCayley(ParametrizationTests):
    parametrization = staticmethod(lambda: [Skew(), Cayley()])
    constraint = "orthogonal"
    max_examples = 5
''')
    passed = {k for k, v in outcomes.items() if v == "PASSED"}
    assert passed == set(PROPERTY_TESTS), output


def test_opt_in_properties_get_a_test_only_when_declared(tmp_path: Path) -> None:
    outcomes, output = run_pytest(tmp_path, '''
class TestCayleyCoverage(ParametrizationTests):
    parametrization = staticmethod(lambda: [Skew(), Cayley()])
    constraint = "orthogonal"
    properties = ("constraint", "coverage")
    max_examples = 5
''')
    assert outcomes == {"test_constraint": "PASSED", "test_coverage": "PASSED"}, output


def test_each_failing_property_shows_as_its_own_failed_test(tmp_path: Path) -> None:
    outcomes, output = run_pytest(tmp_path, '''
def factory():
    return [Skew(), TutorialCayley()]


TestTutorial = make_tests(factory, name="TestTutorial", constraint="orthogonal",
                          max_examples=10, seed=3)
''')
    failed = {k for k, v in outcomes.items() if v == "FAILED"}
    assert failed == {"test_round_trip"}, output
    assert "VerificationFailed" in output and "counterexample X" in output
    assert "replay: paramcheck.properties.round_trip(parametrization, X)" in output


def test_a_property_that_does_not_apply_is_skipped_with_its_reason(tmp_path: Path) -> None:
    outcomes, output = run_pytest(tmp_path, '''
class TestNoInverse(ParametrizationTests):
    parametrization = NoInverse
    constraint = "symmetric"
    max_examples = 5
    dtypes = (torch.float64,)
''')
    assert outcomes.get("test_round_trip") == "SKIPPED", output
    assert "NoInverse has no right_inverse" in output
    assert sum(v == "PASSED" for v in outcomes.values()) == len(PROPERTY_TESTS) - 1, output


def test_a_plain_function_is_a_factory_and_a_constraint_function_is_not_a_method(
        tmp_path: Path) -> None:
    outcomes, output = run_pytest(tmp_path, '''
class TestFunctions(ParametrizationTests):
    def parametrization():
        return Skew()

    def constraint(A):
        return bool((A + A.mT).abs().max() == 0)

    max_examples = 5
    dtypes = (torch.float64,)
''')
    assert outcomes.get("test_constraint") == "PASSED", output


def test_make_tests_rejects_unknown_options() -> None:
    with pytest.raises(UsageError, match="unknown option colour"):
        make_tests(lambda: None, colour="red")


def test_the_base_class_itself_is_not_collected() -> None:
    assert not ParametrizationTests.__name__.startswith("Test")
