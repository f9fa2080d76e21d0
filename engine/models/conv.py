"""Convolutional encoder and decoder (stride-2 4x4 convolutions, mirrored).

With ``batch_norm`` they are the two networks of DCGAN (Radford et al., 2016):
strided convolutions instead of pooling, batch normalisation after every
layer but the encoder's first and the decoder's last, no bias before a batch
norm (it would be cancelled), and :func:`dcgan_init`'s N(0, 0.02) weights. The
decoder's first layer projects z to the smallest feature map (the paper's
"fully connected" projection, reshaped) and the encoder's last maps the
smallest map to its outputs (the paper's final convolution over the whole map).
"""

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
                 out_features: int, act: str, batch_norm: bool = False):
        super().__init__()
        c, h, w = image_shape
        layers: list[nn.Module] = []
        sizes = [(h, w)]
        for i, ch in enumerate(channels):
            if min(sizes[-1]) < 2:
                raise ValueError("image too small for this many conv layers")
            norm = batch_norm and i > 0  # DCGAN: none on the discriminator's input layer
            layers += [nn.Conv2d(c, ch, 4, 2, 1, bias=not norm)]
            layers += [nn.BatchNorm2d(ch)] if norm else []
            layers += [activation(act)]
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
                 latent_dim: int, act: str, params_per_channel: int, batch_norm: bool = False):
        super().__init__()
        c, h, w = image_shape
        sizes = [(h, w)]
        for _ in channels:
            sizes.append((_down(sizes[-1][0]), _down(sizes[-1][1])))
        self.start_shape = (channels[-1], *sizes[-1])
        self.fc = nn.Linear(latent_dim, math.prod(self.start_shape), bias=not batch_norm)
        layers: list[nn.Module] = [nn.BatchNorm2d(channels[-1])] if batch_norm else []
        layers.append(activation(act))
        outs = list(reversed(channels[:-1])) + [c * params_per_channel]
        in_ch = channels[-1]
        for i, out_ch in enumerate(outs):
            src, dst = sizes[-1 - i], sizes[-2 - i]
            hidden = i < len(outs) - 1
            # ConvTranspose2d(4, 2, 1) doubles the size; output_padding recovers odd sizes.
            pad = (dst[0] - 2 * src[0], dst[1] - 2 * src[1])
            layers.append(nn.ConvTranspose2d(in_ch, out_ch, 4, 2, 1, output_padding=pad,
                                             bias=not (batch_norm and hidden)))
            if hidden:
                layers += [nn.BatchNorm2d(out_ch)] if batch_norm else []
                layers.append(activation(act))
            in_ch = out_ch
        self.body = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        return self.body(self.fc(z).view(z.shape[0], *self.start_shape))


def dcgan_init(module: nn.Module) -> None:
    """DCGAN's initial weights, in place: convolutions and linear maps N(0, 0.02), batch
    norms' scales N(1, 0.02) and shifts 0 (draws from torch's global generator, which the
    trainer seeds around model building)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
