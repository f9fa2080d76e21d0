"""The feature space sample quality is measured in for digits: a small CNN that ships with the app.

FID and precision/recall compare two sets of images through the features of
a classifier (Heusel et al. 2017 use Inception-v3's pool3 layer). Inception
cannot be downloaded at run time here, and it was trained on photographs,
not 28x28 digits; so Autoencoder Studio ships its own classifier of the
bundled digits, trained by ``scripts/train_digit_features.py``, and measures
in its penultimate layer. **These numbers do not compare with FID figures
computed with Inception features** (papers' "MNIST FID"): they compare runs
of this app with each other.

The network (about 48,000 weights, ``resources/data/digit_features.npz``,
float32, loaded with ``numpy.load(allow_pickle=False)``: no pickle)::

    x (B, 1, 28, 28) -> conv 3x3 stride 2, 16 -> ReLU      (14x14)
                     -> conv 3x3 stride 2, 32 -> ReLU      (7x7)
                     -> conv 3x3 stride 2, 32 -> ReLU      (4x4)
                     -> linear 512 -> 64 -> ReLU         = the features (B, 64)
                     -> linear 64 -> 10                  = digit logits

Strided convolutions rather than pooling: the features of 500 samples cost about a
third of a pooled network's (benchmarks/bench_sample_quality.py), every epoch.

The features are divided by one fixed scale (stored with the weights: the
root mean square of a feature over the training digits), so that FIDs are
numbers of order 1-100 rather than 10^4.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

WEIGHTS_FILE = "digit_features.npz"
FEATURES = 64
SIDE = 28


class DigitFeatureNet(nn.Module):
    """The classifier above; :meth:`features` is what sample quality measures in.

    Attributes
    ----------
    scale : (,) buffer, the features' fixed divisor (1 before training sets it).
    """

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, stride=2, padding=1)
        self.conv3 = nn.Conv2d(32, 32, 3, stride=2, padding=1)
        self.hidden = nn.Linear(32 * 4 * 4, FEATURES)
        self.head = nn.Linear(FEATURES, 10)
        self.register_buffer("scale", torch.ones(()))

    def raw_features(self, x: Tensor) -> Tensor:
        """x (B, 1, 28, 28) in [0, 1] -> (B, 64) penultimate activations, unscaled."""
        h = F.relu(self.conv1(x))                  # (B, 16, 14, 14)
        h = F.relu(self.conv2(h))                  # (B, 32, 7, 7)
        h = F.relu(self.conv3(h))                  # (B, 32, 4, 4)
        return F.relu(self.hidden(h.flatten(1)))

    def features(self, x: Tensor) -> Tensor:
        """x (B, C, H, W) in [0, 1] -> (B, 64) features; other sizes are resized to 28x28
        (area averaging) and colour is averaged to grey first."""
        if x.shape[1] != 1:
            x = x.mean(dim=1, keepdim=True)
        if tuple(x.shape[2:]) != (SIDE, SIDE):
            x = F.interpolate(x, size=(SIDE, SIDE), mode="area" if x.shape[2] > SIDE
                              else "bilinear", align_corners=None if x.shape[2] > SIDE
                              else False)
        return self.raw_features(x) / self.scale

    def forward(self, x: Tensor) -> Tensor:
        """x (B, 1, 28, 28) -> (B, 10) digit logits."""
        return self.head(self.raw_features(x))


def weights_path() -> Path:
    """Where the shipped weights are: beside the bundled digits."""
    from engine.data.mnist import bundled_mnist_path
    return bundled_mnist_path().parent / WEIGHTS_FILE


def save_weights(net: DigitFeatureNet, path: Path, meta: dict) -> None:
    """Write the weights and ``meta`` (accuracy, split, training) as plain arrays."""
    arrays = {k: v.detach().cpu().numpy().astype(np.float32)
              for k, v in net.state_dict().items()}
    arrays["meta_json"] = np.frombuffer(json.dumps(meta).encode("utf-8"), np.uint8)
    np.savez_compressed(path, **arrays)


def read_meta(path: Path | None = None) -> dict:
    """What the script recorded with the weights (test accuracy, split sizes, epochs)."""
    with np.load(path or weights_path(), allow_pickle=False) as f:
        return json.loads(bytes(f["meta_json"]).decode("utf-8"))


@lru_cache(maxsize=1)
def _cpu_state(path: str) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files if k != "meta_json"}


def load_feature_net(device: torch.device | str = "cpu", path: Path | None = None
                     ) -> DigitFeatureNet:
    """The shipped network, in eval mode on ``device``, its weights frozen.

    Raises
    ------
    FileNotFoundError
        When the weights file is missing (run ``scripts/train_digit_features.py``).
    """
    path = Path(path or weights_path())
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the digit classifier's weights are missing; "
                                "write them with python scripts/train_digit_features.py")
    net = DigitFeatureNet()
    net.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in
                         _cpu_state(str(path)).items()})
    for p in net.parameters():
        p.requires_grad_(False)
    return net.to(device).eval()
