"""Parametrizations of several originals, end to end: ``forward(g, v)``, ``right_inverse(W)
-> (g, v)``, as torch's weight_norm. A planted bug and its clean twin."""

from __future__ import annotations

import torch
from torch import Tensor, nn

import paramcheck


class RowNorm(nn.Module):
    """``W = g · v / ‖v‖`` row by row: weight norm over the input dimension (dim 0 kept)."""

    def forward(self, g: Tensor, v: Tensor) -> Tensor:
        return g * v / torch.linalg.vector_norm(v, dim=-1, keepdim=True)

    def right_inverse(self, W: Tensor) -> tuple[Tensor, Tensor]:
        return torch.linalg.vector_norm(W, dim=-1, keepdim=True), W


class WholeNorm(RowNorm):
    """The bug: ``v`` is normalised over the whole matrix, ``g`` stays per row."""

    def forward(self, g: Tensor, v: Tensor) -> Tensor:
        return g * v / torch.linalg.vector_norm(v)


def test_clean_multi_original_passes_every_property() -> None:
    report = paramcheck.verify(RowNorm(), shape=(4, 3), inputs=paramcheck.strategies.nonzero(
        (4, 3)), max_examples=10)
    assert report.ok, str(report)


def test_planted_bug_in_a_multi_original_forward_fails_round_trip() -> None:
    report = paramcheck.verify(WholeNorm(), shape=(4, 3), inputs=paramcheck.strategies.nonzero(
        (4, 3)), max_examples=10)
    failed = {r.property for r in report.failures}
    assert "round_trip" in failed, str(report)
    assert "forward(right_inverse(A)) differs from A" in next(
        r.message for r in report.failures if r.property == "round_trip")
