"""Recording: every torch call of a computation, as the user wrote it, with its outputs.

:class:`torch.overrides.TorchFunctionMode` is torch's own hook for this: it sees
``torch.linalg.matrix_exp``, ``X.mT``, ``A @ B`` one level deep (the calls torch makes
inside an op run with the mode off), not the aten ops they decompose into. Each op is
kept with a clone of its outputs, the ops whose outputs it consumed, and the line of the
parametrization that called it. :mod:`paramcheck._blame` compares two recordings.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import torch
from torch import Tensor
from torch.overrides import TorchFunctionMode, resolve_name
from torch.utils._pytree import tree_leaves

__all__ = ["MEMORY_LIMIT", "Op", "Trace", "flag", "record", "untraced"]

#: Blame records each op's outputs (cloned: a later in-place op must not change them).
#: A recording that would hold more than this many bytes stops, and blame says it could
#: not locate the departure: a failing 4096-wide weight must not exhaust memory.
MEMORY_LIMIT = 512 * 2**20

_TORCH_DIR = os.path.dirname(torch.__file__) + os.sep
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
#: paramcheck's own code that the user wrote nothing in: its frames are skipped when
#: looking for the line that called an op. Transforms and known_bugs are parametrizations
#: (somebody's forward), so their lines are shown.
_USER_CODE_IN_PACKAGE = (os.path.join(_PACKAGE_DIR, "transforms") + os.sep,
                         os.path.join(_PACKAGE_DIR, "known_bugs.py"))



@dataclass
class Op:
    name: str
    location: str
    path: str
    outputs: list[Tensor]
    producers: list[int]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    @property
    def key(self) -> tuple[str, str]:
        return self.name, self.path


@dataclass
class Trace:
    ops: list[Op] = field(default_factory=list)
    producer: dict[int, int] = field(default_factory=dict)  # id(tensor) -> op index
    keep: list[Tensor] = field(default_factory=list)  # keeps ids unique while recording
    nbytes: int = 0
    truncated: bool = False
    result: list[Tensor] = field(default_factory=list)
    error: str = ""
    raised_at: str = ""

    def on_path(self) -> set[int]:
        """Indices of the ops the result depends on (through recorded tensors)."""
        todo = [self.producer[id(t)] for t in self.result if id(t) in self.producer]
        seen: set[int] = set()
        while todo:
            i = todo.pop()
            if i not in seen:
                seen.add(i)
                todo.extend(self.ops[i].producers)
        return seen


def _caller() -> tuple[str, str]:
    """``("file.py:41", "/full/path/file.py:41")`` of the innermost frame that is neither
    torch's nor paramcheck's engine: the line of the parametrization that called the op."""
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        path = frame.f_code.co_filename
        ours = path.startswith(_PACKAGE_DIR) and not path.startswith(_USER_CODE_IN_PACKAGE)
        if not path.startswith(_TORCH_DIR) and not ours:
            line = frame.f_lineno
            return f"{os.path.basename(path)}:{line}", f"{path}:{line}"
        frame = frame.f_back
    return "?", "?"


def _op_name(func: Callable[..., Any]) -> str:
    name = resolve_name(func) or str(getattr(func, "__qualname__", repr(func)))
    return name.removesuffix(".__get__")


#: Set while a run builds its modules: construction is not part of the computation.
_UNTRACED: contextvars.ContextVar[bool] = contextvars.ContextVar("paramcheck_untraced",
                                                                 default=False)


@contextmanager
def flag(var: contextvars.ContextVar[bool], value: bool) -> Iterator[None]:
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)


def untraced() -> contextlib.AbstractContextManager[None]:
    """Torch calls made inside the block are not recorded."""
    return flag(_UNTRACED, True)


class _Recorder(TorchFunctionMode):
    """Records every torch call made while active (the calls torch makes inside an op
    run with the mode switched off, so each op is seen once, as the user called it)."""

    def __init__(self, trace: Trace) -> None:
        super().__init__()
        self.trace = trace
        self.names: dict[Any, str] = {}

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (),
                           kwargs: dict[str, Any] | None = None) -> Any:
        kwargs = kwargs or {}
        trace = self.trace
        if _UNTRACED.get():
            return func(*args, **kwargs)
        try:
            out = func(*args, **kwargs)
        except Exception:
            if not trace.raised_at:
                trace.raised_at = f"{_op_name(func)} ({_caller()[0]})"
            raise
        if trace.truncated:
            return out
        produced = [t for t in tree_leaves(out) if isinstance(t, Tensor)]
        if out is None and args and isinstance(args[0], Tensor):
            produced = [args[0]]  # __setitem__ and friends: the target changed in place
        if not produced:
            return out  # .shape, .dim(), bool(...): no tensor to compare
        cost = sum(t.numel() * t.element_size() for t in produced)
        trace.nbytes += 2 * cost
        if trace.nbytes > MEMORY_LIMIT:
            trace.truncated = True
            return out
        name = self.names.get(func)
        if name is None:
            name = self.names[func] = _op_name(func)
        location, path = _caller()
        inputs = [t for t in tree_leaves((args, kwargs)) if isinstance(t, Tensor)]
        producers = sorted({trace.producer[id(t)] for t in inputs if id(t) in trace.producer})
        index = len(trace.ops)
        trace.ops.append(Op(name, location, path,
                             [t.detach().clone() for t in produced], producers, args, kwargs))
        for t in produced:
            trace.producer[id(t)] = index
            trace.keep.append(t)
        return out


def record(run: Callable[[], object]) -> Trace:
    trace = Trace()
    try:
        # The runs replay what the law already ran: its warnings were seen there.
        with warnings.catch_warnings(), _Recorder(trace):
            warnings.simplefilter("ignore")
            result = run()
    except Exception as exc:  # a run may raise (a batch the code cannot take...)
        where = f" at {trace.raised_at}" if trace.raised_at else ""
        trace.error = f"{type(exc).__name__}{where}: {str(exc).splitlines()[0]}"
        return trace
    trace.result = [t for t in tree_leaves(result) if isinstance(t, Tensor)]
    return trace


