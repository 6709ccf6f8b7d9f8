"""Input validation shared by the transforms.

A parametrized read calls ``forward`` every time, so these checks look only at
metadata (type, dtype, ``ndim``, shape): no reduction, no device synchronisation.
Messages name the transform, what it got and what it needs.
"""

from __future__ import annotations

import torch

from paramcheck.errors import TransformDtypeError, TransformShapeError


def _names(dtypes: tuple[torch.dtype, ...]) -> str:
    return ", ".join(str(d).removeprefix("torch.") for d in dtypes)


def check_input(
    transform: str,
    X: object,
    *,
    dtypes: tuple[torch.dtype, ...],
    min_ndim: int = 2,
    square: bool = False,
    needs: str | None = None,
) -> None:
    """Raise a clear error unless ``X`` is a tensor ``transform`` can take.

    Raises:
        TransformDtypeError: ``X`` is not a tensor, or its dtype is not in ``dtypes``
            (integer, bool, complex, or a half precision the kernels lack).
        TransformShapeError: ``X`` has fewer than ``min_ndim`` dimensions (``needs``
            says what it needs instead, when given), or its last two differ while
            ``square`` is asked.
    """
    if not isinstance(X, torch.Tensor):
        raise TransformDtypeError(
            f"{transform} needs a torch.Tensor; got {type(X).__name__}. "
            "Wrap the value with torch.as_tensor(...)."
        )
    if X.dtype not in dtypes:
        if X.is_floating_point():
            hint = f"{X.dtype} has no kernel for the linear algebra it uses; use float32 or float64"
        else:
            hint = "convert it with .float() or .double()"
        raise TransformDtypeError(
            f"{transform} needs a real floating tensor of dtype {_names(dtypes)}; "
            f"got dtype {X.dtype}: {hint}."
        )
    if X.ndim < min_ndim:
        what = needs or (
            "a matrix or a batch of matrices (..., m, n)"
            if min_ndim == 2
            else f"a tensor with at least {min_ndim} dimensions"
        )
        raise TransformShapeError(
            f"{transform} needs {what}; got a {X.ndim}-D tensor of shape {tuple(X.shape)}."
        )
    if square and X.shape[-1] != X.shape[-2]:
        raise TransformShapeError(
            f"{transform} needs square matrices (..., n, n); got shape {tuple(X.shape)} "
            f"whose last two dimensions are {X.shape[-2]} x {X.shape[-1]}."
        )
