"""Every context law of paramcheck.contexts catches a bug users really write, and passes
its clean twin.

Each planted bug is a pattern from the trackers (issue links next to it), written as
users write it; its twin differs only in the fix. The bugs live here, not in
paramcheck.known_bugs: they are wrong only in a context, and correct in eager mode.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from hypothesis import Phase, settings
from torch import Tensor, nn

from paramcheck import constraints, contexts
from paramcheck.transforms import CayleyMap, MatrixExponential, Skew, Symmetric

torch.set_num_threads(1)

ORTHOGONAL = constraints.orthogonal


def _gen() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def _W(n: int = 4) -> Tensor:
    return torch.randn(n, n, generator=_gen())


def _fails(law: Callable[[], None], pattern: str) -> str:
    with pytest.raises(AssertionError) as info:
        law()
    assert re.search(pattern, str(info.value)), str(info.value)
    return str(info.value)


# ------------------------------------------------------------------ compile: values


class AnnealedSigmoid(nn.Module):
    """A temperature annealed by a step counter kept as a buffer and advanced in forward.

    Correct in eager mode. Under torch.compile its gradient is silently wrong: the
    min-cut partitioner recomputes ``tau`` in the backward from the counter *after* the
    forward's in-place update (open fix: pull pytorch/pytorch#197039).
    """

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("calls", torch.zeros(()))

    def forward(self, X: Tensor) -> Tensor:
        self.calls += 1
        tau = torch.clamp(1.0 - 0.01 * self.calls, min=0.5)
        return torch.sigmoid(X / tau)


class AnnealedSigmoidOutside(AnnealedSigmoid):
    """The twin: the training loop advances the counter (``step()``), forward only reads it."""

    def forward(self, X: Tensor) -> Tensor:
        tau = torch.clamp(1.0 - 0.01 * self.calls, min=0.5)
        return torch.sigmoid(X / tau)


@pytest.mark.parametrize("implementation", ["torch", "paramcheck"])
def test_compiled_catches_a_counter_updated_in_forward(implementation: str) -> None:
    _fails(lambda: contexts.compiled(AnnealedSigmoid, _W(), implementation=implementation),
           r"compiled \(aot_eager\).*differs from .* in eager mode")
    contexts.compiled(AnnealedSigmoidOutside, _W(), implementation=implementation)


def test_compiled_shares_one_compiled_network_across_examples() -> None:
    artefacts: dict[object, object] = {}
    for seed in range(3):
        X = torch.randn(4, 4, generator=torch.Generator().manual_seed(seed))
        contexts.compiled(lambda: [Skew(), CayleyMap()], X, artefacts=artefacts)
    assert len(artefacts) == 1


# --------------------------------------------------------------------------- fullgraph


class GuardedSphere(nn.Module):
    """``X / ‖X‖`` with the zero check users add (``if norm == 0``): a data-dependent branch."""

    def forward(self, X: Tensor) -> Tensor:
        norm = X.norm()
        if norm == 0:
            return X
        return X / norm


class BranchlessSphere(nn.Module):
    def forward(self, X: Tensor) -> Tensor:
        return X / X.norm().clamp_min(torch.finfo(X.dtype).tiny)


def test_fullgraph_reports_dynamos_reason() -> None:
    _fails(lambda: contexts.fullgraph(GuardedSphere, _W()),
           r"fullgraph=True.*dynamo says: .*[Dd]ata-dependent")
    contexts.fullgraph(BranchlessSphere, _W())


# --------------------------------------------------------------------------- recompile


class CountingTemperature(nn.Module):
    """Annealing on a Python counter advanced in forward: dynamo guards on the int."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def forward(self, X: Tensor) -> Tensor:
        self.calls += 1
        return torch.sigmoid(X / max(0.5, 1.0 - 0.01 * self.calls))


class FixedTemperature(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.tau = 0.9

    def forward(self, X: Tensor) -> Tensor:
        return torch.sigmoid(X / self.tau)


def test_recompiles_catches_a_python_counter() -> None:
    _fails(lambda: contexts.recompiles(CountingTemperature, _W(), across_instances=False),
           # dynamo either recompiles at every step or, once it has made the int
           # dynamic, trips its own "Guard failed on the same frame" assertion.
           r"recompiled \d+ times over 8×3 optimizer steps|torch.compile.* raised")
    contexts.recompiles(FixedTemperature, _W(), across_instances=False)


@pytest.mark.parametrize("implementation", ["torch", "paramcheck"])
def test_each_fresh_parametrized_module_recompiles(implementation: str) -> None:
    """Both implementations give every parametrized module its own class, and dynamo guards
    on the type: 7 recompiles for 7 new instances (torch 2.13)."""
    counts = contexts.recompile_counts(Symmetric, _W(), implementation=implementation)
    assert counts.across_steps == 0
    assert counts.across_instances == contexts._compile.INSTANCES - 1
    assert counts.graph_breaks == 0


# ------------------------------------------------------------------------------ export


class TrivializedOrthogonal(nn.Module):
    """Dynamic trivialization (torch's and geotorch's design), but ``base`` is a plain
    attribute: export folds it into the program as a constant, and it is not saved."""

    def __init__(self) -> None:
        super().__init__()
        self.base = torch.eye(4)

    def forward(self, X: Tensor) -> Tensor:
        A = X.triu(1) - X.triu(1).mT
        return self.base @ torch.matrix_exp(A)

    def right_inverse(self, Q: Tensor) -> Tensor:
        self.base = Q.detach().clone()
        return torch.zeros_like(Q)


class TrivializedOrthogonalBuffer(TrivializedOrthogonal):
    def __init__(self) -> None:
        nn.Module.__init__(self)
        self.register_buffer("base", torch.eye(4))


def _orthogonal_point(seed: int) -> Tensor:
    Q, _ = torch.linalg.qr(torch.randn(4, 4, generator=torch.Generator().manual_seed(seed)))
    return Q


def test_exported_catches_state_folded_into_the_program() -> None:
    X, X2 = _orthogonal_point(0), _orthogonal_point(1)
    _fails(lambda: contexts.exported(TrivializedOrthogonal, X, X2),
           r"exported outside cached\(\), after loading the originals of X2")
    contexts.exported(TrivializedOrthogonalBuffer, X, X2)


# -------------------------------------------------------------------------- functional


class IndexedSymmetric(nn.Module):
    """Symmetric by writing the upper triangle into a new zero matrix, as often written."""

    def forward(self, X: Tensor) -> Tensor:
        n = X.shape[-1]
        i, j = torch.triu_indices(n, n, device=X.device)
        A = torch.zeros(n, n, dtype=X.dtype, device=X.device)
        A[i, j] = X[i, j]
        A[j, i] = X[i, j]
        return A


def test_functional_catches_writes_into_a_fresh_tensor_under_vmap() -> None:
    _fails(lambda: contexts.functional(IndexedSymmetric, _W(), _W() + 1),
           r"torch.func.vmap over stacked originals raised")
    contexts.functional(Symmetric, _W(), _W() + 1)


# ---------------------------------------------------------------------------- autocast


class PowerIteration(nn.Module):
    """Spectral normalisation with the power iteration's ``u`` reassigned in forward
    (the shape of pytorch#125544: state updated from a computation that autocast lowers)."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("u", F.normalize(torch.randn(4, generator=_gen()), dim=0))

    def forward(self, W: Tensor) -> Tensor:
        with torch.no_grad():
            v = F.normalize(W.mT @ self.u, dim=0)
            self.u = F.normalize(W @ v, dim=0)
        return W / (self.u @ W @ v)


class PowerIterationInPlace(PowerIteration):
    def forward(self, W: Tensor) -> Tensor:
        with torch.no_grad():
            v = F.normalize(W.mT @ self.u, dim=0)
            self.u.copy_(F.normalize(W @ v, dim=0))
        u = self.u.clone()
        return W / (u @ W @ v)


def test_autocast_catches_state_reassigned_from_a_lowered_result() -> None:
    _fails(lambda: contexts.autocast(PowerIteration, _W()),
           r"is torch.bfloat16 \(it was torch.float32\)")
    contexts.autocast(PowerIterationInPlace, _W())


def test_autocast_checks_the_constraint_at_bfloat16_tolerance() -> None:
    contexts.autocast(lambda: [Skew(), CayleyMap()], _W(), ORTHOGONAL)
    with pytest.raises(tg_not_applicable()):
        contexts.autocast(Symmetric, _W().double())


def tg_not_applicable() -> type[Exception]:
    from paramcheck._target import NotApplicable

    return NotApplicable


# -------------------------------------------------------------------------------- meta


class FixedBase(nn.Module):
    """Orthogonal as ``base @ cayley(S)`` with ``base`` drawn once in ``__init__`` and never
    reset by ``right_inverse`` (it takes coordinates relative to it): after ``to_empty``
    ``base`` is whatever memory held."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("base", torch.linalg.qr(torch.randn(4, 4, generator=_gen()))[0])
        self.cayley = CayleyMap()

    def forward(self, X: Tensor) -> Tensor:
        return self.base @ self.cayley(X.triu(1) - X.triu(1).mT)

    def right_inverse(self, Q: Tensor) -> Tensor:
        A: Tensor = self.cayley.right_inverse(self.base.mT @ Q)
        return A.triu(1)


def test_meta_init_catches_state_right_inverse_does_not_reset() -> None:
    _fails(lambda: contexts.meta_init(FixedBase, _orthogonal_point(0), ORTHOGONAL,
                                      exact=False),
           r"base still hold\(s\) uninitialised memory")
    contexts.meta_init(TrivializedOrthogonalBuffer, _orthogonal_point(0), ORTHOGONAL)


# -------------------------------------------------------------------------- conversion


class ScaledByConstant(nn.Module):
    """Fixed per-column scales kept as a plain tensor attribute: ``.to()`` and ``.half()``
    skip it, so the weight stays float32 (or mixes devices)."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = torch.linspace(1.0, 2.0, 4)

    def forward(self, X: Tensor) -> Tensor:
        return X * self.scale


class ScaledByBuffer(ScaledByConstant):
    def __init__(self) -> None:
        nn.Module.__init__(self)
        self.register_buffer("scale", torch.linspace(1.0, 2.0, 4))


def test_conversion_catches_a_plain_tensor_attribute() -> None:
    _fails(lambda: contexts.conversion(ScaledByConstant, _W()),
           r"after net\.half\(\) \(swap=False\)")
    contexts.conversion(ScaledByBuffer, _W())


# ------------------------------------------------------------------------------- train


class PowerIterationInGraph(PowerIteration):
    """``u`` updated in place and used in the graph (pytorch#66363: spectral norm used twice)."""

    def forward(self, W: Tensor) -> Tensor:
        with torch.no_grad():
            v = F.normalize(W.mT @ self.u, dim=0)
            self.u.copy_(F.normalize(W @ v, dim=0))
        return W / (self.u @ W @ v)


def test_train_catches_two_forwards_one_backward() -> None:
    _fails(lambda: contexts.train(PowerIterationInGraph, _W()),
           r"two forwards then one backward raised RuntimeError: .*inplace")
    contexts.train(PowerIterationInPlace, _W())


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_train_keeps_the_constraint(optimizer: str) -> None:
    contexts.train(lambda: [Skew(), CayleyMap()], _W(), ORTHOGONAL, optimizer=optimizer)


# ------------------------------------------------------------------------------ resume


class PowerIterationAttribute(PowerIterationInPlace):
    """``u`` kept as a plain attribute (no ``register_buffer``): not in the state_dict."""

    def __init__(self) -> None:
        nn.Module.__init__(self)
        self.u = F.normalize(torch.randn(4), dim=0)


def test_resume_catches_state_outside_the_state_dict() -> None:
    _fails(lambda: contexts.resume(PowerIterationAttribute, _W(), _W() + 1),
           r"after resuming")
    contexts.resume(PowerIterationInPlace, _W(), _W() + 1)


# ------------------------------------------------------------------------------ report


def test_report_inputs_are_reproducible() -> None:
    from paramcheck.contexts._report import draw_inputs
    from paramcheck.transforms import Spec

    spec = Spec(constraint="orthogonal", inputs="skew", bound=1.0, square=True)
    first = draw_inputs(spec, (4, 4), torch.float32)
    again = draw_inputs(spec, (4, 4), torch.float32)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not torch.equal(first[0], first[1])


def test_report_table_names_its_command_and_marks_each_cell() -> None:
    from paramcheck.contexts._report import markdown, run

    rows = run(inductor=False, only=["Symmetric"])
    text = markdown(rows, "python -m paramcheck.contexts --output X", inductor=False)
    assert "`python -m paramcheck.contexts --output X`" in text
    line = next(ln for ln in text.splitlines() if ln.startswith("| Symmetric |"))
    # compile, fullgraph, recompile: float32 only; autocast: float32 only (float64 is n/a).
    assert line.count("✓") >= 18, line
    assert "✗" not in line, text


@pytest.mark.parametrize("make", [CayleyMap, lambda: MatrixExponential("skew"),
                                  lambda: MatrixExponential("symmetric")],
                         ids=["cayley", "exp_skew", "exp_sym"])
def test_shipped_transforms_register_on_the_meta_device(make: Callable[[], nn.Module]) -> None:
    """Their right_inverse validates its input with data-dependent checks (a singular
    Q + I, det Q ≤ 0, a non-positive eigenvalue), which meta tensors cannot answer: they
    are skipped there, so a model can be built empty (found by the meta law)."""
    from torch.nn.utils import parametrize

    with torch.device("meta"):
        layer = nn.Linear(4, 4, bias=False)
        parametrize.register_parametrization(layer, "weight", make())
        assert layer.weight.is_meta


# ------------------------------------------------- the same bugs through verify's registry


#: context property -> (planted bug, its clean twin, verify keyword arguments). The laws'
#: own tests above show what each bug does; these show that verify finds it as exactly
#: that property, and nothing on the twin.
THROUGH_VERIFY: dict[str, tuple[Callable[[], object], Callable[[], object], dict[str, object]]] = {
    "compile": (AnnealedSigmoid, AnnealedSigmoidOutside, {}),
    "fullgraph": (GuardedSphere, BranchlessSphere, {}),
    "recompile": (CountingTemperature, FixedTemperature, {}),
    "export": (TrivializedOrthogonal, TrivializedOrthogonalBuffer, {}),
    "functional": (IndexedSymmetric, Symmetric, {}),
    # The power iteration divides by its estimate of σ, zero at a zero weight.
    "autocast": (PowerIteration, PowerIterationInPlace, {"inputs": "nonzero"}),
    "meta": (FixedBase, TrivializedOrthogonalBuffer,
             {"constraint": "orthogonal", "inputs": "image"}),
    "conversion": (ScaledByConstant, ScaledByBuffer, {}),
    "train": (PowerIterationInGraph, PowerIterationInPlace, {"inputs": "nonzero"}),
    "resume": (PowerIterationAttribute, PowerIterationInPlace, {"inputs": "nonzero"}),
}


@pytest.mark.parametrize("context", list(THROUGH_VERIFY))
def test_verify_reports_the_planted_bug_as_exactly_its_context(context: str) -> None:
    import paramcheck

    bug, twin, kwargs = THROUGH_VERIFY[context]
    # Two examples, not shrunk: every bug fails on its first drawn input or its second,
    # and shrinking would export or compile again for each attempt.
    quick = settings(max_examples=2, phases=(Phase.generate,), database=None, deadline=None)
    common: dict[str, object] = {"properties": [context], "dtypes": (torch.float32,),
                                 "settings": quick, "seed": 0, **kwargs}
    report = paramcheck.verify(bug, **common)  # type: ignore[arg-type]
    assert {f.property for f in report.failures} == {context}, str(report)
    clean = paramcheck.verify(twin, **common)  # type: ignore[arg-type]
    assert clean.ok and [r.property for r in clean.results] == [context], str(clean)
    assert all(r.status == paramcheck.Verdict.PASSED for r in clean.results), str(clean)


def test_contexts_are_opt_in_and_selected_by_group_or_name() -> None:
    from paramcheck import properties

    assert not any(p.group == "contexts" for p in properties.select(None))
    chosen = properties.select(["contexts"])
    assert tuple(p.name for p in chosen) == contexts.CONTEXTS
    assert all(not p.default and p.hosted for p in chosen)
    assert [p.name for p in properties.select(["autocast"])] == ["autocast"]


def test_the_command_runs_contexts_per_dtype_with_their_reasons(
        capsys: pytest.CaptureFixture[str]) -> None:
    from paramcheck._cli import main

    argv = ["verify", "paramcheck.transforms:Symmetric", "--properties", "autocast,conversion",
            "--max-examples", "1", "--seed", "0", "--quiet"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0].split()
    assert header[-2:] == ["autocast", "conversion"], out
    # float32 and float64 each: autocast of a float64 network is not applicable
    assert "4 checks: 3 passed, 0 failed, 1 not applicable" in out, out


def test_contexts_true_adds_them_after_the_chosen_properties() -> None:
    from paramcheck.engine._options import Options
    from paramcheck.engine._plan import make_plan
    from paramcheck.testing import make_tests

    plan = make_plan(Symmetric(), Options(contexts=True, properties=("constraint",)))
    assert [p.name for p in plan.properties] == ["constraint", *contexts.CONTEXTS]
    default = make_plan(Symmetric(), Options(contexts=True))
    names = [p.name for p in default.properties]
    assert names[-len(contexts.CONTEXTS):] == list(contexts.CONTEXTS)
    assert "cache" in names and "coverage" not in names
    assert not any(p.group == "contexts" for p in make_plan(Symmetric(), Options()).properties)
    tests = make_tests(Symmetric, contexts=True)
    assert all(hasattr(tests, f"test_{name}") for name in contexts.CONTEXTS)
    assert not hasattr(make_tests(Symmetric), "test_compile")
