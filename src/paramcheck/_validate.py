"""Validators shared by every entry point: one rule and one message per argument.

``verify``, ``check``, ``ParametrizationTests``, the ``paramcheck`` command and the
strategies validate their arguments here, so the same bad value gets the same message
wherever it is given. Every validator returns the normalised value or raises
:class:`~paramcheck.errors.UsageError` (only that), naming the argument, what was given,
and what to give instead. The command line hands its text over as is (``"4x4"``,
``"float32,float64"``, ``"0"`` parsed as an int), so its messages are these.

Imports torch and the standard library only (and the leaf :mod:`paramcheck.errors`).
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Sequence

import torch

from paramcheck.errors import UsageError

#: Floating dtypes by the names the command line accepts.
DTYPE_NAMES: dict[str, torch.dtype] = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
}

_SHAPE_TEXT = re.compile(r"^\s*\d+(\s*x\s*\d+)*\s*$")


def shape(value: object, *, min_ndim: int = 1, name: str = "shape") -> tuple[int, ...]:
    """A tuple of positive ints, from a sequence of ints or text such as ``"2x4x4"``."""
    if isinstance(value, str) and _SHAPE_TEXT.match(value):
        value = tuple(int(s) for s in value.split("x"))
    try:
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            raise TypeError
        if any(isinstance(d, bool) for d in value):
            raise TypeError
        dims = tuple(operator.index(d) for d in value)
    except TypeError:
        raise UsageError(
            f"{name} must be a tuple of positive ints such as (4, 4) (on the command line "
            f"4x4), got {value!r}") from None
    if len(dims) < min_ndim or any(d <= 0 for d in dims):
        raise UsageError(
            f"{name} must have at least {min_ndim} dimension{'s' * (min_ndim != 1)}, all "
            f"positive (leading ones are a batch), got {dims}")
    return dims


def dtype(value: object, *, name: str = "dtype") -> torch.dtype:
    """A floating torch dtype, from the dtype or its name (``"float32"``)."""
    if isinstance(value, str):
        found = DTYPE_NAMES.get(value.strip().removeprefix("torch."))
        if found is not None:
            return found
    if not isinstance(value, torch.dtype) or not value.is_floating_point:
        raise UsageError(
            f"{name} must be floating torch dtypes ({', '.join(DTYPE_NAMES)}), got "
            f"{value!r}: parametrized weights are floating point")
    return value


def dtypes(value: object) -> tuple[torch.dtype, ...]:
    """A non-empty tuple of floating dtypes, from dtypes, names, or ``"float32,float64"``."""
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    values = (value,) if isinstance(value, torch.dtype) else value
    if not isinstance(values, Sequence):
        raise UsageError(f"dtypes must be a tuple of floating torch dtypes such as "
                         f"(torch.float32, torch.float64), got {value!r}")
    if not values:
        raise UsageError("dtypes is empty; give at least one, e.g. (torch.float64,) "
                         "(on the command line float64)")
    return tuple(dict.fromkeys(dtype(d, name="dtypes") for d in values))


def device(value: object) -> torch.device:
    """A torch device that exists here and holds data: cpu, or an available cuda:N."""
    try:
        dev: torch.device = torch.device(value)  # type: ignore[call-overload]
    except (RuntimeError, TypeError, ValueError):
        raise UsageError(f"device {value!r} is not a torch device; use cpu, cuda or cuda:N"
                         ) from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise UsageError(f"device {str(dev)!r} asks for CUDA, but torch finds no CUDA "
                             f"device on this machine; use device cpu")
        if (dev.index or 0) >= torch.cuda.device_count():
            raise UsageError(f"device {str(dev)!r} does not exist: this machine has "
                             f"{torch.cuda.device_count()} CUDA device(s); use cuda:0 to "
                             f"cuda:{torch.cuda.device_count() - 1}")
    elif dev.type != "cpu":
        raise UsageError(f"device {str(dev)!r} is not supported; use cpu, cuda or cuda:N")
    return dev


def positive_int(value: object, *, name: str) -> int:
    """An int ≥ 1 (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"{name} must be a positive int, got {value!r}")
    return value


def integer(value: object, *, name: str) -> int:
    """Any int (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{name} must be an int, got {value!r}")
    return value


def positive_number(value: object, *, name: str = "bound") -> float:
    """A finite number > 0."""
    if isinstance(value, bool) or not (isinstance(value, int | float) and math.isfinite(value)
                                       and value > 0):
        raise UsageError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def as_number(text: str) -> float | str:
    """``"2.5"`` -> 2.5; anything else is left as text, for the validator to reject by name."""
    try:
        return float(text)
    except ValueError:
        return text


def as_int(text: str) -> int | str:
    """``"12"`` -> 12; anything else is left as text, for the validator to reject by name."""
    try:
        return int(text)
    except ValueError:
        return text
