"""Fully connected encoder and decoder."""

from __future__ import annotations

import math

from torch import Tensor, nn

from engine.models.layers import activation


class MLPEncoder(nn.Module):
    """x (B, C, H, W) -> hidden layers -> ``out_features`` (code, or mean and log-variance).

    With no hidden layers this is a single affine map, the one-layer
    encoder of the lecture notes (and of each greedy pretraining stage).
    """

    def __init__(self, image_shape: tuple[int, int, int], hidden: tuple[int, ...],
                 out_features: int, act: str):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = math.prod(image_shape)
        for h in hidden:
            layers += [nn.Linear(width, h), activation(act)]
            width = h
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, out_features)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x))


class MLPDecoder(nn.Module):
    """z (B, D) -> mirrored hidden layers -> params (B, C * m, H, W)."""

    def __init__(self, image_shape: tuple[int, int, int], hidden: tuple[int, ...],
                 latent_dim: int, act: str, params_per_channel: int):
        super().__init__()
        c, h, w = image_shape
        self.out_shape = (c * params_per_channel, h, w)
        layers: list[nn.Module] = []
        width = latent_dim
        for units in reversed(hidden):
            layers += [nn.Linear(width, units), activation(act)]
            width = units
        layers.append(nn.Linear(width, math.prod(self.out_shape)))
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z).view(z.shape[0], *self.out_shape)
