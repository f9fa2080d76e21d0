"""Convolutional encoder and decoder (stride-2 4x4 convolutions, mirrored)."""

from __future__ import annotations

import math

from torch import Tensor, nn

from engine.models.layers import activation


def _down(size: int) -> int:
    # Conv2d(kernel=4, stride=2, padding=1) maps n -> floor(n / 2).
    return size // 2


class ConvEncoder(nn.Module):
    """x (B, C, H, W) -> convs with ``channels`` -> linear to ``out_features``."""

    def __init__(self, image_shape: tuple[int, int, int], channels: tuple[int, ...],
                 out_features: int, act: str):
        super().__init__()
        c, h, w = image_shape
        layers: list[nn.Module] = []
        sizes = [(h, w)]
        for ch in channels:
            if min(sizes[-1]) < 2:
                raise ValueError("image too small for this many conv layers")
            layers += [nn.Conv2d(c, ch, 4, 2, 1), activation(act)]
            c = ch
            sizes.append((_down(sizes[-1][0]), _down(sizes[-1][1])))
        self.sizes = sizes
        self.feature_shape = (c, *sizes[-1])
        self.body = nn.Sequential(*layers, nn.Flatten())
        self.head = nn.Linear(math.prod(self.feature_shape), out_features)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x))


class ConvDecoder(nn.Module):
    """z (B, D) -> linear -> transposed convs back to params (B, C * m, H, W)."""

    def __init__(self, image_shape: tuple[int, int, int], channels: tuple[int, ...],
                 latent_dim: int, act: str, params_per_channel: int):
        super().__init__()
        c, h, w = image_shape
        sizes = [(h, w)]
        for _ in channels:
            sizes.append((_down(sizes[-1][0]), _down(sizes[-1][1])))
        self.start_shape = (channels[-1], *sizes[-1])
        self.fc = nn.Linear(latent_dim, math.prod(self.start_shape))
        layers: list[nn.Module] = [activation(act)]
        outs = list(reversed(channels[:-1])) + [c * params_per_channel]
        in_ch = channels[-1]
        for i, out_ch in enumerate(outs):
            src, dst = sizes[-1 - i], sizes[-2 - i]
            # ConvTranspose2d(4, 2, 1) doubles the size; output_padding recovers odd sizes.
            pad = (dst[0] - 2 * src[0], dst[1] - 2 * src[1])
            layers.append(nn.ConvTranspose2d(in_ch, out_ch, 4, 2, 1, output_padding=pad))
            if i < len(outs) - 1:
                layers.append(activation(act))
            in_ch = out_ch
        self.body = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        return self.body(self.fc(z).view(z.shape[0], *self.start_shape))
