"""paramcheck.verify / paramcheck.check: planted bugs are caught, one property each.

For every property, a parametrization below breaks exactly that property (and a comment
says why no other property sees it); verify must report that property and nothing else,
and nothing at all on the correct twin.
"""

from __future__ import annotations

import functools
import math
import os
import sys
from typing import Any

import pytest
import torch
from hypothesis import settings
from hypothesis import strategies as st
from torch import Tensor, nn

import paramcheck
from paramcheck import known_bugs, strategies
from paramcheck._profiles import profile_name
from paramcheck.engine._property import BATCH_SIZE
from paramcheck.errors import UsageError, VerificationFailed
from paramcheck.properties import builtin

#: The built-in properties by name: each has a planted bug below.
#: The properties verify runs by default (the opt-in ones, coverage and inplace, have
#: their planted bugs and twins in tests/test_coverage.py).
PROPERTIES = tuple(p.name for p in builtin() if p.default)

# Few examples suffice: every planted bug below fails on almost every input. The seed
# makes the test deterministic whatever PARAMCHECK_PROFILE says.
FAST: dict[str, Any] = {"max_examples": 12, "seed": 20240611}


# ------------------------------------------------------------------ correct references


class Skew(nn.Module):
    """X ↦ U - Uᵀ with U the strict upper triangle; right_inverse A ↦ triu(A, 1)."""

    def forward(self, X: Tensor) -> Tensor:
        U = X.triu(1)
        return U - U.mT

    def right_inverse(self, A: Tensor) -> Tensor:
        return A.triu(1)


class Cayley(nn.Module):
    """(I - X)⁻¹(I + X), right inverse (Q + I)⁻¹(Q - I)."""

    def forward(self, X: Tensor) -> Tensor:
        eye = torch.eye(X.shape[-1], dtype=X.dtype, device=X.device)
        return torch.linalg.solve(eye - X, eye + X)

    def right_inverse(self, Q: Tensor) -> Tensor:
        eye = torch.eye(Q.shape[-1], dtype=Q.dtype, device=Q.device)
        return torch.linalg.solve(Q + eye, Q - eye)


class TutorialCayley(nn.Module):
    """The seed tutorial's CayleyMap: right_inverse has the wrong sign (returns -X)."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.register_buffer("Id", torch.eye(n))

    def forward(self, X: Tensor) -> Tensor:
        return torch.linalg.solve(self.Id - X, self.Id + X)

    def right_inverse(self, A: Tensor) -> Tensor:
        return torch.linalg.solve(A + self.Id, self.Id - A)


class _SkewFn(torch.autograd.Function):
    """Skew with a hand-written backward: the gradient of U - Uᵀ is triu(G - Gᵀ, 1)."""

    @staticmethod
    def forward(ctx: Any, X: Tensor, mode: str) -> Tensor:
        ctx.mode = mode
        U = X.triu(1)
        return U - U.mT

    @staticmethod
    def backward(ctx: Any, G: Tensor) -> tuple[Tensor, None]:
        if ctx.mode == "clip":
            G = G.clamp(-1.0, 1.0)  # planted: not linear in the incoming gradient
        if ctx.mode == "wrong":
            return G.triu(1), None  # planted: forgets the -Gᵀ term
        return (G - G.mT).triu(1), None


class ManualSkew(nn.Module):
    def __init__(self, mode: str = "right") -> None:
        super().__init__()
        self.mode = mode

    def forward(self, X: Tensor) -> Tensor:
        out: Tensor = _SkewFn.apply(X, self.mode)
        return out

    def right_inverse(self, A: Tensor) -> Tensor:
        return A.triu(1)


# ---------------------------------------------------------------------- planted bugs


class SymmetricNotSkew(nn.Module):
    """constraint: builds U + Uᵀ (a sign slip). Its right_inverse still inverts it, so
    round_trip holds; everything else is plumbing it does right."""

    def forward(self, X: Tensor) -> Tensor:
        U = X.triu(1)
        return U + U.mT

    def right_inverse(self, A: Tensor) -> Tensor:
        return A.triu(1)


class WholeTensorNormalize(nn.Module):
    """batch: divides by the norm of the whole tensor, not of each matrix. On one matrix
    that is the Frobenius norm, so only a batch tells."""

    def forward(self, X: Tensor) -> Tensor:
        return X / X.norm()

    def right_inverse(self, A: Tensor) -> Tensor:
        return A


class MatrixNormalize(nn.Module):
    def forward(self, X: Tensor) -> Tensor:
        return X / torch.linalg.matrix_norm(X, keepdim=True)

    def right_inverse(self, A: Tensor) -> Tensor:
        return A


class UpcastingSkew(nn.Module):
    """dtype: computes in float64 'for accuracy' and forgets to cast back. The values are
    right (more accurate, even); only float32 inputs get a float64 output."""

    def __init__(self, cast_back: bool = False) -> None:
        super().__init__()
        self.cast_back = cast_back

    def forward(self, X: Tensor) -> Tensor:
        U = X.double().triu(1)
        out = U - U.mT
        return out.to(X.dtype) if self.cast_back else out

    def right_inverse(self, A: Tensor) -> Tensor:
        return A.triu(1)


class DeviceBlindCayley(nn.Module):
    """device: the Cayley map with its identity made by torch.eye(n) without device=, so
    it lives on the CPU whatever the input's device. Right on the CPU; on a GPU (here: on
    the meta device) torch refuses to subtract tensors on different devices."""

    def forward(self, X: Tensor) -> Tensor:
        eye = torch.eye(X.shape[-1], dtype=X.dtype)
        return torch.linalg.solve(eye - X, eye + X)

    def right_inverse(self, Q: Tensor) -> Tensor:
        eye = torch.eye(Q.shape[-1], dtype=Q.dtype)
        return torch.linalg.solve(Q + eye, Q - eye)


class FittedScaleSkew(nn.Module):
    """state: right_inverse fits a scale to the weight it is given, kept as a plain
    attribute instead of a buffer, so state_dict does not carry it. Round trips, batches,
    caching and copies all use the module's own scale consistently."""

    def __init__(self, as_buffer: bool = False) -> None:
        super().__init__()
        if as_buffer:
            self.register_buffer("scale", torch.tensor(1.0))
        else:
            self.scale = torch.tensor(1.0)

    def forward(self, X: Tensor) -> Tensor:
        U = X.triu(1)
        return (U - U.mT) * self.scale

    def right_inverse(self, A: Tensor) -> Tensor:
        scale = 1.0 + A.detach().abs().amax()
        if "scale" in self._buffers:
            self.scale.copy_(scale)
        else:
            self.scale = scale
        return A.triu(1) / scale


def _called_by_torch_parametrize() -> bool:
    frame = sys._getframe(1)
    for _ in range(8):
        if frame is None:
            return False
        if frame.f_globals.get("__name__") == "torch.nn.utils.parametrize":
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


class TorchInternalsSkew(nn.Module):
    """differential: behaves differently when torch's ParametrizationList calls it
    (relying on a private detail of torch's implementation). Every other property runs it
    under a single implementation, where it is consistent; only comparing the two
    implementations shows the dependence."""

    def forward(self, X: Tensor) -> Tensor:
        U = X.triu(1)
        out = U - U.mT
        return out * 1.5 if _called_by_torch_parametrize() else out

    def right_inverse(self, A: Tensor) -> Tensor:
        return A.triu(1)


def _nonzero(shape: tuple[int, ...] = (4, 4)) -> Any:
    return strategies.nonzero(shape)


# property -> (buggy parametrization, correct twin, verify keyword arguments)
PLANTED: dict[str, tuple[Any, Any, dict[str, Any]]] = {
    "constraint": (SymmetricNotSkew, Skew, {"constraint": "skew"}),
    "round_trip": (lambda: [Skew(), TutorialCayley(4)], lambda: [Skew(), Cayley()],
                   {"constraint": "orthogonal"}),
    "cache": (lambda: ManualSkew("clip"), lambda: ManualSkew("right"), {"constraint": "skew"}),
    "gradient": (lambda: ManualSkew("wrong"), lambda: ManualSkew("right"),
                 {"constraint": "skew"}),
    "batch": (WholeTensorNormalize, MatrixNormalize,
              {"constraint": "unit_norm", "inputs": _nonzero()}),
    "dtype": (UpcastingSkew, lambda: UpcastingSkew(cast_back=True), {"constraint": "skew"}),
    "device": (lambda: [Skew(), DeviceBlindCayley()], lambda: [Skew(), Cayley()],
               {"constraint": "orthogonal"}),
    "state": (FittedScaleSkew, lambda: FittedScaleSkew(as_buffer=True), {"constraint": "skew"}),
    "differential": (TorchInternalsSkew, Skew, {"constraint": "skew"}),
}


def _failing(report: paramcheck.Report) -> set[str]:
    return {f.property for f in report.failures}


@pytest.mark.parametrize("prop", PROPERTIES)
def test_planted_bug_is_reported_as_exactly_its_property(prop: str) -> None:
    buggy, _, kwargs = PLANTED[prop]
    report = paramcheck.verify(buggy, **kwargs, **FAST)
    expected = kwargs["constraint"] if prop == "constraint" else prop
    assert _failing(report) == {expected}, str(report)
    for failure in report.failures:
        assert isinstance(failure.counterexample, Tensor)
        assert failure.message
        assert "counterexample X" in str(report)


@pytest.mark.parametrize("prop", PROPERTIES)
def test_correct_twin_of_a_planted_bug_passes(prop: str) -> None:
    _, correct, kwargs = PLANTED[prop]
    report = paramcheck.verify(correct, **kwargs, **FAST)
    assert report.ok, str(report)
    assert not report.skipped


def test_dtype_bug_shows_only_where_the_dtype_changes() -> None:
    report = paramcheck.verify(UpcastingSkew, constraint="skew", **FAST)
    assert [(f.property, f.dtype) for f in report.failures] == [("dtype", torch.float32)]


# --------------------------------------------------------------- the tutorial's bug


def test_tutorial_cayley_fails_round_trip_with_a_small_counterexample() -> None:
    from paramcheck.known_bugs import TutorialCayleyMap
    from paramcheck.transforms import Skew as ShippedSkew

    with pytest.raises(VerificationFailed) as caught:
        paramcheck.check([ShippedSkew(), TutorialCayleyMap(4)], constraint="orthogonal")
    report = caught.value.report
    assert isinstance(caught.value, AssertionError)
    assert {f.property for f in report.failures} == {"round_trip"}
    for failure in report.failures:
        X = failure.counterexample
        assert X is not None and X.shape == (4, 4)
        # Shrunk: a skew input needs one nonzero entry above the diagonal to show the
        # sign error (forward(-S) = Qᵀ ≠ Q); the rest shrinks to zeros.
        assert int((X.triu(1) != 0).sum()) == 1
        assert int((X != 0).sum()) <= 2
    text = str(report)
    assert "round_trip" in text and "torch.tensor(" in text and "replay" in text


@pytest.mark.parametrize("name", [bug.__name__ for bug in known_bugs.KNOWN_BUGS])
def test_each_known_bug_is_reported_as_the_property_it_breaks(name: str) -> None:
    bug = known_bugs.instances(4)[name]
    report = paramcheck.verify(bug, seed=3, max_examples=20)
    assert {f.property for f in report.failures} == {bug.breaks}, str(report)


def test_shipped_cayley_chain_passes() -> None:
    from paramcheck.transforms import CayleyMap as ShippedCayley
    from paramcheck.transforms import Skew as ShippedSkew

    report = paramcheck.check([ShippedSkew(), ShippedCayley(4)], constraint="orthogonal")
    assert report.ok
    assert {r.property for r in report.results} == {"orthogonal", *PROPERTIES[1:]}


def test_local_tutorial_cayley_counterexample_is_shrunk() -> None:
    report = paramcheck.verify([Skew(), TutorialCayley(4)], constraint="orthogonal",
                               properties=["round_trip"], seed=1)
    (first, second) = report.failures
    for failure in (first, second):
        assert failure.property == "round_trip"
        assert int((failure.counterexample != 0).sum()) == 1  # type: ignore[union-attr]


# ------------------------------------------------------------------ broken outputs


class Raises(nn.Module):
    def forward(self, X: Tensor) -> Tensor:
        raise RuntimeError("boom from forward")


class WrongShape(nn.Module):
    def forward(self, X: Tensor) -> Tensor:
        return X[..., :-1, :]


class ReturnsNaN(nn.Module):
    def forward(self, X: Tensor) -> Tensor:
        return X * float("nan")


class NotATensor(nn.Module):
    def forward(self, X: Tensor) -> Any:
        return X.tolist()


@pytest.mark.parametrize(
    ("module", "needle"),
    [
        (Raises, "boom from forward"),
        (WrongShape, "has shape (3, 4)"),
        (ReturnsNaN, "not finite"),
        (NotATensor, "returned a list, not a tensor"),
    ],
)
def test_broken_parametrization_gives_failures_never_a_crash(module: Any, needle: str) -> None:
    report = paramcheck.verify(module, constraint="symmetric", max_examples=3, seed=0,
                               properties=["constraint", "batch", "dtype"])
    assert not report.ok
    assert {f.property for f in report.failures} == {"symmetric", "batch", "dtype"} - (
        {"dtype"} if module is ReturnsNaN or module is WrongShape else set())
    assert any(needle in f.message for f in report.failures), str(report)


def test_user_predicate_as_constraint_takes_its_name() -> None:
    def nonnegative(A: Tensor) -> Tensor:
        return A >= 0

    report = paramcheck.verify(Skew, constraint=nonnegative, properties=["constraint"],
                               max_examples=20, seed=0)
    assert [f.property for f in report.failures] == ["nonnegative"] * 2
    assert report.failures[0].counterexample is not None


def test_without_right_inverse_round_trip_is_skipped_not_failed() -> None:
    class NoInverse(nn.Module):
        def forward(self, X: Tensor) -> Tensor:
            return X + X.mT

    report = paramcheck.verify(NoInverse, constraint="symmetric", **FAST)
    assert report.ok, str(report)
    skipped = {(r.property, r.status) for r in report.results if r.skipped}
    assert skipped == {("round_trip", "not applicable")}
    assert "has no right_inverse" in report.skipped[0].message


def test_batched_shape_means_batched_input() -> None:
    seen: list[tuple[int, ...]] = []

    class Spy(Skew):
        def forward(self, X: Tensor) -> Tensor:
            seen.append(tuple(X.shape))
            return super().forward(X)

    report = paramcheck.verify(Spy, constraint="skew", shape=(2, 3, 3), max_examples=3,
                               seed=0, properties=["constraint", "batch"])
    assert report.ok
    assert (2, 3, 3) in seen and (BATCH_SIZE, 2, 3, 3) in seen


# -------------------------------------------------------------- arguments and report


@pytest.mark.parametrize(
    ("kwargs", "error", "needle"),
    [
        ({"constraint": "orthogonl"}, UsageError, "known constraints"),
        ({"constraint": 3}, UsageError, "a constraint is a name"),
        ({"shape": (4, 0)}, UsageError, "shape"),
        ({"shape": "4 by 4"}, UsageError, "shape"),
        ({"dtypes": (torch.int64,)}, UsageError, "floating"),
        ({"dtypes": ()}, UsageError, "dtypes"),
        ({"device": "nonsense"}, UsageError, "device"),
        ({"max_examples": 0}, UsageError, "max_examples"),
        ({"inputs": [1, 2]}, UsageError, "strategy"),
        ({"properties": ["speed"]}, UsageError, "unknown properties"),
        ({"implementation": "jax"}, UsageError, "implementation"),
        ({"colour": "red"}, UsageError, "unknown option colour"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs: dict[str, Any], error: type, needle: str
                                          ) -> None:
    with pytest.raises(error, match=needle):
        paramcheck.verify(Skew, **kwargs)


def test_bad_parametrization_argument() -> None:
    with pytest.raises(UsageError, match=r"nn\.Module"):
        paramcheck.verify(42)
    with pytest.raises(UsageError, match="empty"):
        paramcheck.verify([])
    with pytest.raises(UsageError, match="element 1"):
        paramcheck.verify([Skew(), "Cayley"])


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error where CUDA is absent")
def test_cuda_where_there_is_none_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="cuda"):
        paramcheck.verify(Skew, device="cuda")


def test_report_table_and_frame() -> None:
    report = paramcheck.verify([Skew(), TutorialCayley(4)], constraint="orthogonal", **FAST)
    frame = report.to_frame()
    assert len(frame) == len(PROPERTIES) * 2
    assert set(frame["dtype"]) == {"float32", "float64"}
    failed = frame[frame["status"] == "failed"]
    assert list(failed["property"]) == ["round_trip", "round_trip"]
    assert all(text.startswith("torch.tensor(") for text in failed["counterexample"])
    text = str(report)
    assert "FAILED round_trip [float32]" in text and "FAILED round_trip [float64]" in text
    assert f"seed={FAST['seed']}" in text
    for failure in report.failures:
        assert failure.seed == FAST["seed"]
        assert failure.replay.startswith("paramcheck.properties.round_trip(")
        # the counterexample printed can be pasted back and replays the failure
        X = eval(
            text.split(f"counterexample X (shape (4, 4), {str(failure.dtype)[6:]}):\n")[1]
            .split("\n  replay")[0], {"torch": torch})
        assert torch.equal(X, failure.counterexample)
        with pytest.raises(AssertionError, match="differs from A"):
            paramcheck.properties.round_trip([Skew(), TutorialCayley(4)], X)


def test_same_seed_same_verdict_and_counterexample() -> None:
    runs = [paramcheck.verify([Skew(), TutorialCayley(4)], constraint="orthogonal",
                              properties=["round_trip"], seed=7) for _ in range(2)]
    a, b = (r.failures for r in runs)
    assert [f.dtype for f in a] == [f.dtype for f in b]
    for fa, fb in zip(a, b, strict=True):
        assert torch.equal(fa.counterexample, fb.counterexample)  # type: ignore[arg-type]


def test_settings_and_max_examples_override_the_profile() -> None:
    calls = {"n": 0}

    class Count(Skew):
        def forward(self, X: Tensor) -> Tensor:
            calls["n"] += 1
            return super().forward(X)

    paramcheck.verify(Count, constraint="skew", properties=["constraint"],
                      dtypes=(torch.float64,), max_examples=7, seed=0)
    assert calls["n"] == 7
    calls["n"] = 0
    paramcheck.verify(Count, constraint="skew", properties=["constraint"],
                      dtypes=(torch.float64,), settings=settings(max_examples=4,
                                                                 database=None), seed=0)
    assert calls["n"] == 4


def test_transform_spec_supplies_domain_and_constraint() -> None:
    from paramcheck.transforms import CayleyMap as ShippedCayley

    report = paramcheck.verify(ShippedCayley(), properties=["constraint"], max_examples=5,
                               seed=0)
    assert [r.property for r in report.results] == ["special_orthogonal"] * 2
    assert "domain 'skew'" in str(report)


def test_check_returns_the_report_when_everything_passes() -> None:
    report = paramcheck.check(Skew, constraint="skew", **FAST)
    assert report.ok and len(report.results) == len(PROPERTIES) * 2
    assert math.isfinite(report.seconds)


# ------------------------------------------------- every correct shipped transform


def _catalog() -> list[tuple[str, Any, dict[str, Any]]]:
    """The shared catalog at its default shape, plus the shapes only some entries take."""
    from paramcheck import transforms as T

    entries: list[tuple[str, Any, dict[str, Any]]] = [
        (entry.name, functools.partial(entry.build, (4, 4)), {}) for entry in T.catalog()
    ]
    entries += [
        ("Stiefel(5x3)", T.Stiefel, {"shape": (5, 3)}),
        ("Stiefel(3x5)", T.Stiefel, {"shape": (3, 5)}),
        ("TorchOrthogonal('householder', (5, 3))",
         lambda: T.TorchOrthogonal((5, 3), "householder"), {}),
    ]
    for kind in ("matrix_exp", "cayley", "householder"):
        entries.append((f"TorchOrthogonal('{kind}', use_trivialization=False)",
                        lambda kind=kind: T.TorchOrthogonal(
                            (4, 4), kind, use_trivialization=False), {}))
    return entries


def _seeds() -> list[int]:
    """Seeds from PARAMCHECK_SEEDS ("0-9" or "1,5,7"); seed 0 by default."""
    text = os.environ.get("PARAMCHECK_SEEDS", "0")
    if "-" in text:
        low, high = (int(part) for part in text.split("-"))
        return list(range(low, high + 1))
    return [int(part) for part in text.split(",")]


@pytest.mark.parametrize("seed", _seeds())
@pytest.mark.parametrize(
    ("name", "parametrization", "kwargs"),
    [pytest.param(*entry, id=entry[0]) for entry in _catalog()],
)
def test_no_property_fails_on_a_correct_shipped_transform(
        name: str, parametrization: Any, kwargs: dict[str, Any], seed: int) -> None:
    # verify end to end (plan, inputs, search, verdicts) on every correct transform. The
    # laws themselves get the profile's full budget on every case in the property suite
    # (properties/test_transforms.py, the same catalog), so the depth of the search is that
    # suite's job; here 10 examples per property and dtype exercise verify's plumbing on
    # every entry at a tenth of the ci profile's cost (CI's 20-minute budget). The thorough
    # profile runs the profile's own budget.
    budget = {} if profile_name() == "thorough" else {"max_examples": 10}
    report = paramcheck.verify(parametrization, seed=seed, **kwargs, **budget)
    assert report.ok, str(report)


class _RawMatrixExp(torch.nn.Module):
    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return torch.matrix_exp(X)


def test_verify_finds_the_matrix_exp_bug_in_torch() -> None:
    """torch.matrix_exp's degree-8 Taylor path for a lone matrix is inaccurate
    (pytorch/pytorch#196592): the batch property sees a matrix alone and the same matrix
    in a batch get different exponentials. transforms.MatrixExponential routes around it."""
    from paramcheck.transforms import MatrixExponential

    angle = st.floats(0.45, 0.55).map(
        lambda t: torch.tensor([[0.0, -t], [t, 0.0]], dtype=torch.float32))
    report = paramcheck.verify(_RawMatrixExp(), inputs=angle, shape=(2, 2),
                               dtypes=(torch.float32,), properties=["batch"],
                               max_examples=10, seed=0)
    # Found, and blamed on torch: the upstream verdict (paramcheck.upstream), not a failure.
    assert [r.status for r in report.results] == [paramcheck.Verdict.UPSTREAM], str(report)
    assert report.ok and "pytorch/pytorch#196592" in str(report)
    fixed = paramcheck.verify(MatrixExponential("skew"), inputs=angle, shape=(2, 2),
                              dtypes=(torch.float32,), properties=["batch"],
                              max_examples=10, seed=0)
    assert fixed.ok, str(fixed)


# ---------------------------------------------------------------------- the verdicts


def test_an_input_hypothesis_cannot_draw_is_could_not_test_never_a_failure() -> None:
    """A strategy Hypothesis refuses (every draw filtered out: a health check, or
    Unsatisfiable) says nothing about the parametrization: "could not test", with
    Hypothesis' reason, and the report stays ok."""
    never = strategies.matrices((4, 4)).filter(lambda X: False)
    report = paramcheck.verify(Skew, constraint="skew", inputs=never, properties=["round_trip"],
                               dtypes=(torch.float64,), max_examples=5, seed=0)
    (result,) = report.results
    assert result.status is paramcheck.Verdict.COULD_NOT_TEST, str(report)
    assert result.could_not_test and not result.failed and report.ok
    assert "Hypothesis" in result.message
    assert "could not test round_trip [float64]" in str(report)


def test_the_same_strategy_that_can_draw_gives_a_verdict() -> None:
    """The twin of the test above: a filter that lets inputs through is searched."""
    some = strategies.matrices((4, 4)).filter(lambda X: bool(X.abs().sum() >= 0))
    report = paramcheck.verify([Skew(), TutorialCayley(4)], constraint="orthogonal",
                               inputs=some, properties=["round_trip"],
                               dtypes=(torch.float64,), max_examples=20, seed=0)
    assert [r.status for r in report.results] == [paramcheck.Verdict.FAILED], str(report)


def test_upstream_verdict_counts_against_ok_only_when_strict() -> None:
    defect = paramcheck.Defect("torch.linalg.matrix_exp", "2.13", "pytorch/pytorch#196592",
                               "route lone matrices through a batch of one")
    upstream = paramcheck.Result("batch", torch.float32, paramcheck.Verdict.UPSTREAM,
                                 message="differs", defect=defect)
    lenient = paramcheck.Report("M", (upstream,))
    strict = paramcheck.Report("M", (upstream,), strict=True)
    assert lenient.ok and not strict.ok and not lenient.failures
    assert "UPSTREAM batch [float32]" in str(lenient)
    assert "pytorch/pytorch#196592" in str(lenient)


def test_failure_fields_are_structured_and_rendered_from_fields() -> None:
    report = paramcheck.verify([Skew(), TutorialCayley(4)], constraint="orthogonal",
                               properties=["round_trip"], dtypes=(torch.float32,), **FAST)
    (failure,) = report.failures
    f = failure.failure
    assert isinstance(f, paramcheck.errors.PropertyFailed) and f.law == "round_trip"
    assert f.gap is not None and f.tolerance is not None and f.gap > f.tolerance
    assert f.formula.startswith("64·n·eps·scale") and f.location.startswith("[")
    assert set(f.tensors) == {"A", "right_inverse(A)", "forward(right_inverse(A))"}
    frame = report.to_frame()
    assert frame.loc[0, "gap"] == f.gap and frame.loc[0, "tolerance"] == f.tolerance
    assert f"tolerance {f.tolerance:.3g} = {f.formula}" in str(report)


# ------------------------------------------------------- Hypothesis' files and profiles


def test_verify_leaves_no_hypothesis_folder_unless_given_a_database(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from hypothesis.database import DirectoryBasedExampleDatabase

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HYPOTHESIS_STORAGE_DIRECTORY", raising=False)
    paramcheck.verify(Skew, constraint="skew", properties=["constraint"], max_examples=3,
                      seed=0)
    assert not (tmp_path / ".hypothesis").exists()
    # the twin: a database the caller asked for is used, where they put it
    db = DirectoryBasedExampleDatabase(str(tmp_path / ".hypothesis" / "examples"))
    paramcheck.verify([Skew(), TutorialCayley(4)], constraint="orthogonal",
                      properties=["round_trip"], dtypes=(torch.float64,),
                      settings=settings(max_examples=5, database=db))
    assert (tmp_path / ".hypothesis" / "examples").is_dir()


def test_profiles_are_registered_under_paramcheck_names() -> None:
    from paramcheck import _profiles

    mine = settings(max_examples=3)
    settings.register_profile("ci", mine)  # a user's own profile of that name survives
    try:
        assert settings.get_profile("paramcheck-ci").derandomize
        assert settings.get_profile("paramcheck-thorough").max_examples == 1000
        assert _profiles.settings_for("ci") is settings.get_profile("paramcheck-ci")
        assert settings.get_profile("ci").max_examples == 3
    finally:
        settings._profiles.pop("ci", None)  # type: ignore[attr-defined]
