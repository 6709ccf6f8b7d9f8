"""Real models with parametrizations, built small with random weights (nothing downloaded).

Each factory takes no argument, so ``paramcheck verify --model scan_models:NAME`` can
build it. transformers and geotorch are optional (the ``models`` extra); the factories
that need them import them inside.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import orthogonal, spectral_norm

from paramcheck.known_bugs import TutorialCayleyMap
from paramcheck.transforms import CayleyMap, Skew


def wav2vec2(hidden: int = 32) -> nn.Module:
    """transformers' Wav2Vec2: its positional convolution carries torch's weight_norm."""
    from transformers import Wav2Vec2Config, Wav2Vec2Model

    config = Wav2Vec2Config(
        hidden_size=hidden, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37,
        conv_dim=(8, 8), conv_stride=(5, 4), conv_kernel=(10, 8),
        num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4,
    )
    torch.manual_seed(0)
    return Wav2Vec2Model(config).eval()


def wav2vec2_planted() -> nn.Module:
    """Wav2Vec2 whose 8 attention projections are orthogonal through [Skew, CayleyMap],
    except one, deep inside, through the tutorial's CayleyMap (wrong right_inverse)."""
    model = wav2vec2(hidden=32)
    for i, layer in enumerate(model.encoder.layers):
        for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
            buggy = i == 1 and name == "v_proj"
            proj = getattr(layer.attention, name)
            parametrize.register_parametrization(proj, "weight", Skew())
            parametrize.register_parametrization(
                proj, "weight", TutorialCayleyMap(32) if buggy else CayleyMap())
    return model


def lstm_orthogonal() -> nn.Module:
    """A two-layer LSTM whose recurrent weights are orthogonal (torch's orthogonal)."""
    torch.manual_seed(0)
    lstm = nn.LSTM(input_size=6, hidden_size=4, num_layers=2)
    for layer in range(2):
        orthogonal(lstm, f"weight_hh_l{layer}")
    return lstm


def sn_discriminator() -> nn.Module:
    """A small DCGAN-style discriminator with spectral_norm on every layer."""
    torch.manual_seed(0)
    return nn.Sequential(
        spectral_norm(nn.Conv2d(1, 4, 3, stride=2, padding=1)), nn.LeakyReLU(0.2),
        spectral_norm(nn.Conv2d(4, 8, 3, stride=2, padding=1)), nn.LeakyReLU(0.2),
        nn.Flatten(), spectral_norm(nn.Linear(8 * 2 * 2, 1)),
    )


def sparsified() -> nn.Module:
    """An MLP sparsified by torch.ao.pruning's WeightNormSparsifier (2 of 4 zero)."""
    from torch.ao.pruning import WeightNormSparsifier

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 4))
    sparsifier = WeightNormSparsifier(sparsity_level=1.0, sparse_block_shape=(1, 4),
                                      zeros_per_block=2)
    sparsifier.prepare(model, config=[{"tensor_fqn": "0.weight"}, {"tensor_fqn": "2.weight"}])
    sparsifier.step()
    return model


def geotorch_model() -> nn.Module:
    """A model constrained with geotorch: orthogonal, sphere, positive definite, low rank."""
    import geotorch

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 6), nn.Linear(6, 4), nn.Linear(4, 4), nn.Linear(4, 4))
    geotorch.orthogonal(model[0], "weight")
    geotorch.sphere(model[1], "bias")
    geotorch.positive_definite(model[2], "weight")
    geotorch.low_rank(model[3], "weight", 2)
    return model


def weight_norm_conv() -> nn.Module:
    """A convolution with torch's weight_norm (parametrization), as a checkpoint target."""
    from torch.nn.utils.parametrizations import weight_norm

    torch.manual_seed(0)
    return weight_norm(nn.Conv1d(2, 4, 3), dim=2)


not_a_model = 3
