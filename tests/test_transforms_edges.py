"""Edges of paramcheck.transforms that the mutation run (tests/mutate.py) found unexercised.

Each test here kills mutants that survived the rest of the tests and the property suite
(reports/mutation.md): boundaries of input checks (a determinant or an eigenvalue exactly
0), batch shapes of more than one leading dimension, invalid constructor arguments, and
the reprs users read in ``print(model)``.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from types import ModuleType

import pytest
import torch
import torch.nn.utils.parametrize as torch_parametrize
from torch import Tensor, nn

import paramcheck.parametrize as paramcheck_parametrize
from paramcheck.errors import TransformDtypeError, TransformShapeError
from paramcheck.transforms import (
    CayleyMap,
    MatrixExponential,
    Pruning,
    Spec,
    Sphere,
    Stiefel,
    Symmetric,
    TorchOrthogonal,
    TorchSpectralNorm,
    TorchWeightNorm,
    catalog,
    register_chain,
)
from paramcheck.transforms._exponential import matrix_exp, orthogonal_log, spd_log
from paramcheck.transforms._torch_builtins import orthogonal_spec

# float64 eps; the matrices below are at most 3×3 with entries ≤ 1, so a backward-stable
# exponential errs by a few eps (c·n·eps with c = 10, as in tests/test_transforms.py).
TOL = 10 * 3 * torch.finfo(torch.float64).eps


def test_cayley_map_of_fixed_size_takes_batches_of_any_depth() -> None:
    # The size check reads the last dimension: a (2, 5) batch of 3×3 matrices is 3×3.
    X = torch.zeros(2, 5, 3, 3, dtype=torch.float64)
    X[..., 0, 1], X[..., 1, 0] = 0.5, -0.5
    cayley = CayleyMap(3)
    Q = cayley(X)
    assert Q.shape == (2, 5, 3, 3)
    assert (cayley.right_inverse(Q) - X).abs().max() <= TOL
    with pytest.raises(TransformShapeError, match=r"CayleyMap\(3\)"):
        cayley(torch.zeros(3, 5, 5))


def test_cayley_map_repr_shows_n_only_when_given() -> None:
    assert repr(CayleyMap()) == "CayleyMap()"
    assert repr(CayleyMap(4)) == "CayleyMap(n=4)"


@pytest.mark.parametrize("dim", [0, 1, (), (-1, -1), (-2, 0), (-1, 2)])
def test_sphere_refuses_dimensions_that_are_not_distinct_and_negative(dim: object) -> None:
    with pytest.raises(ValueError, match="distinct negative dimensions"):
        Sphere(dim)  # type: ignore[arg-type]


@pytest.mark.parametrize("shape", [(3, 3), (1, 3, 3), (2, 3, 3), (1, 3, 1, 1), (2, 1, 2, 2)])
def test_matrix_exponential_helper_takes_every_batch_shape(shape: tuple[int, ...]) -> None:
    X = torch.linspace(-1, 1, torch.Size(shape).numel(), dtype=torch.float64).reshape(shape)
    expected = torch.stack([torch.matrix_exp(m) for m in X.reshape(-1, *shape[-2:])])
    Y = matrix_exp(X)
    assert Y.shape == X.shape
    assert (Y.reshape(expected.shape) - expected).abs().max() <= TOL


def test_orthogonal_log_and_spd_log_refuse_a_zero_determinant_or_eigenvalue() -> None:
    # det = 0 (a singular matrix) is as far outside SO(n) as det < 0: log 0 = -inf.
    singular = torch.diag(torch.tensor([1.0, 1.0, 0.0], dtype=torch.float64))
    with pytest.raises(ValueError, match="det <= 0"):
        orthogonal_log(singular)
    with pytest.raises(ValueError, match="det <= 0"):
        MatrixExponential("skew").right_inverse(singular)
    # An eigenvalue exactly 0: positive semi-definite, not positive definite.
    with pytest.raises(ValueError, match="<= 0"):
        spd_log(singular)
    with pytest.raises(ValueError, match="symmetric positive definite"):
        MatrixExponential("symmetric").right_inverse(singular)


@pytest.mark.parametrize("shape", [(3, 3), (5, 3), (3, 5), (2, 4, 2)])
def test_stiefel_flips_the_signs_of_negative_diagonal_entries_only(shape: tuple[int, ...]) -> None:
    # With no reflector entries, vᵢ = eᵢ and Hᵢ flips coordinate i: f(0) = -[I; 0].
    # The sign sᵢ is -1 only where Xᵢᵢ < 0 (docstring): a zero diagonal keeps -[I; 0],
    # a diagonal of -1 turns it into [I; 0].
    eye = torch.eye(*shape[-2:], dtype=torch.float64).expand(shape)
    zero = torch.zeros(shape, dtype=torch.float64)
    assert torch.equal(Stiefel()(zero), -eye)
    assert torch.equal(Stiefel()(-eye), eye)


def test_pruning_image_dimension_counts_the_kept_entries_of_every_batch_item() -> None:
    # The coverage law compares the Jacobian's rank with this dimension: kept entries
    # times the number of items in the batch.
    pruning = Pruning((3, 4), p_drop=0.5, seed=0)
    kept = int(pruning.mask.sum())
    assert 0 < kept < 12
    assert pruning.spec.dimension is not None
    assert pruning.spec.dimension((3, 4)) == kept
    assert pruning.spec.dimension((5, 3, 4)) == 5 * kept
    assert pruning.spec.dimension((2, 5, 3, 4)) == 10 * kept


def test_torch_orthogonal_spec_defaults_to_torchs_trivialization() -> None:
    # torch's orthogonal() uses use_trivialization=True unless told otherwise; so do the
    # spec helper (used by the model scan) and the adapter.
    for orthogonal_map in ("matrix_exp", "cayley", "householder"):
        adapter = TorchOrthogonal((4, 3), orthogonal_map)
        assert orthogonal_spec((4, 3), orthogonal_map) == adapter.spec
        assert orthogonal_spec((4, 3), orthogonal_map).stateful


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: TorchOrthogonal((5, 3)).right_inverse(torch.zeros(5, 3, dtype=torch.int64)),
         r"TorchOrthogonal.right_inverse.*torch.int64"),
        (lambda: TorchOrthogonal((5, 3)).right_inverse([[1.0]]),  # type: ignore[arg-type]
         r"TorchOrthogonal.right_inverse"),
        (lambda: TorchSpectralNorm((4,))(torch.ones(4, dtype=torch.int32)),
         r"TorchSpectralNorm.*torch.int32"),
        (lambda: TorchSpectralNorm((4, 3))([[1.0]]),
         r"TorchSpectralNorm"),
        (lambda: TorchWeightNorm()(torch.ones(4, 1, dtype=torch.int64), torch.ones(4, 3)),
         r"TorchWeightNorm \(g\).*torch.int64"),
        (lambda: TorchWeightNorm().right_inverse(torch.ones(4, 3, dtype=torch.int64)),
         r"TorchWeightNorm.right_inverse.*torch.int64"),
        (lambda: TorchWeightNorm().right_inverse(torch.tensor(1.0)),
         r"TorchWeightNorm.right_inverse"),
    ],
    ids=["orthogonal-inverse-int", "orthogonal-inverse-list", "spectral-1d-int",
         "spectral-list", "weight-norm-g-int", "weight-norm-inverse-int", "weight-norm-inverse-0d"],
)
def test_torch_adapters_refuse_bad_input_on_every_path(call: Callable[[], object],
                                                       message: str) -> None:
    with pytest.raises((TransformDtypeError, TransformShapeError), match=message):
        call()


def test_torch_adapters_default_to_torchs_own_defaults() -> None:
    # An adapter built without arguments must be the parametrization torch registers by
    # default: the same power iterations and eps, the same weight-norm dimension.
    spectral = inspect.signature(torch.nn.utils.parametrizations.spectral_norm).parameters
    adapter = TorchSpectralNorm((4, 3))
    assert adapter.eps == spectral["eps"].default
    assert adapter.n_power_iterations == spectral["n_power_iterations"].default
    weight_norm = inspect.signature(torch.nn.utils.parametrizations.weight_norm).parameters
    assert TorchWeightNorm().dim == weight_norm["dim"].default


def test_torch_spectral_norm_of_a_vector_is_its_direction() -> None:
    # A 1-D weight has no power-iteration state: f(w) = w / ‖w‖.
    w = torch.tensor([3.0, 0.0, 4.0], dtype=torch.float64)
    sn = TorchSpectralNorm((3,), dtype=torch.float64)
    assert (sn(w) - w / 5).abs().max() <= TOL


@pytest.mark.parametrize("dim", [0, None])
def test_torch_weight_norm_takes_a_vector(dim: int | None) -> None:
    # A 1-D weight (a bias, an embedding row) is a valid weight_norm input.
    w = torch.tensor([3.0, -4.0, 1.0], dtype=torch.float64)
    wn = TorchWeightNorm(dim)
    assert (wn(*wn.right_inverse(w)) - w).abs().max() <= TOL


def test_torch_orthogonal_of_a_batch_of_weights() -> None:
    # torch's orthogonal() takes a batch of matrices: its base is one n×n identity for
    # the trailing n×k (n = max of the last two sizes), however large the batch.
    orth = TorchOrthogonal((7, 4, 3), dtype=torch.float64)
    assert orth.base.shape == (4, 4)
    Q = orth(torch.linspace(-1, 1, 84, dtype=torch.float64).reshape(7, 4, 3))
    assert (Q.mT @ Q - torch.eye(3, dtype=torch.float64)).abs().max() <= TOL


class _FirstRows(nn.Module):
    """Changes the weight's shape: a registration must refuse it unless told ``unsafe``."""

    def forward(self, X: Tensor) -> Tensor:
        return X[:2]


@pytest.mark.parametrize("impl", [paramcheck_parametrize, torch_parametrize],
                         ids=["paramcheck", "torch"])
def test_register_chain_uses_the_given_implementation_and_is_safe_by_default(
        impl: ModuleType) -> None:
    layer = register_chain(nn.Linear(4, 4), "weight", [Symmetric()], impl)
    assert isinstance(layer.get_submodule("parametrizations.weight"), impl.ParametrizationList)
    with pytest.raises(ValueError, match="shape"):
        register_chain(nn.Linear(4, 4), "weight", [_FirstRows()], impl)
    assert register_chain(nn.Linear(4, 4), "weight", [_FirstRows()], impl,
                          unsafe=True).weight.shape == (2, 4)


def test_register_chain_defaults_to_paramchecks_parametrize() -> None:
    layer = register_chain(nn.Linear(4, 4), "weight", [Symmetric()])
    registered = layer.get_submodule("parametrizations.weight")
    assert isinstance(registered, paramcheck_parametrize.ParametrizationList)
    assert not isinstance(registered, torch_parametrize.ParametrizationList)


def test_a_spec_declares_the_common_case_by_default() -> None:
    # A user's Spec(constraint=...) with nothing else describes the common transform:
    # unit-scale matrices in, any floating dtype with linear algebra kernels, batched,
    # stateless, one original, an exact right inverse, the unit norm over the matrix.
    spec = Spec(constraint=None)
    assert (spec.inputs, spec.bound, spec.square, spec.min_ndim) == ("matrix", 1.0, False, 2)
    assert (spec.batched, spec.stateful, spec.originals, spec.inverse_exact) == (
        True, False, 1, True)
    assert spec.norm_dims == (-2, -1)
    assert spec.dtypes == (torch.float32, torch.float64)
    assert spec.shape is None and spec.dimension is None


def test_a_spec_is_frozen_and_validated() -> None:
    # Specs are shared class attributes (Stiefel.spec): one user's edit must not leak.
    with pytest.raises(dataclasses.FrozenInstanceError):
        Stiefel.spec.bound = 2.0  # type: ignore[misc]
    with pytest.raises(ValueError, match=r"Spec\.inputs must be one of"):
        Spec(constraint=None, inputs="tensor")
    for dims in [(0,), (-1, 0), (1,)]:
        with pytest.raises(ValueError, match="counts from the end"):
            Spec(constraint="unit_norm", norm_dims=dims)


@pytest.mark.parametrize("shape", [(5, 4), (3, 5, 4)])
def test_the_catalogs_pruning_masks_one_matrix_of_the_weight(shape: tuple[int, ...]) -> None:
    # Built for a weight (or a batch of weights): the mask covers one trailing matrix,
    # so a batch shares it.
    pruning = next(e for e in catalog() if e.name == "Pruning").build(shape)
    assert isinstance(pruning, Pruning)
    assert pruning.mask.shape == (5, 4)


def test_catalog_entries_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        catalog()[0].name = "renamed"  # type: ignore[misc]
