"""About how many bytes a new run's session will take, before it is written.

The window warns when a new run would take the session folder past the user's
budget (``gui/session_folder.py``); it needs a figure as the run starts. A session
holds (``docs/session-format.md``): the checkpoint (the model and its optimiser
state, float32), the interactive weights at a bounded set of epochs
(``weights.py``), and per epoch the probe images as 8-bit levels (gzip: about
half) and the codes of the map as float16. This adds those up for a config;
it is within about a third of the files measured by ``benchmarks/bench_session_size.py``.
"""

from __future__ import annotations

import torch

from engine.config import RunConfig
from engine.models import build_model
from engine.session.weights import slots_for

MAP_POINTS = 500          # codes of the latent map per epoch (mean and log-variance)
OPTIMIZER_COPIES = 2      # Adam's two moments beside the weights
EPOCH_OVERHEAD = 8_000    # table rows, chunk indices, small arrays


def estimate_session_bytes(config: RunConfig, image_shape: tuple[int, int, int],
                           n_probe: int, epochs: int, weights_budget: int) -> int:
    """Bytes a session of ``epochs`` epochs of ``config`` will take, roughly.

    Parameters
    ----------
    image_shape : (C, H, W) of the data.
    n_probe : probe images shown at every epoch.
    weights_budget : bytes of interactive weights the session may keep.
    """
    with torch.device("meta"):   # shapes only: no memory, no draws from the global RNG
        model = build_model(config, tuple(image_shape))
    state = model.state_dict()
    params = sum(v.numel() for v in state.values())
    interactive = sum(v.numel() for k, v in state.items()
                      if k.split(".", 1)[0] in model.interactive_parts)
    checkpoint = 4 * params * (1 + OPTIMIZER_COPIES)
    one_set = 2 * interactive
    pool = min(slots_for(weights_budget, one_set), max(1, epochs)) * one_set if one_set else 0
    c, h, w = image_shape
    per_epoch = int(1.2 * n_probe * c * h * w) + 4 * MAP_POINTS * config.model.latent_dim \
        + EPOCH_OVERHEAD
    return checkpoint + pool + max(1, epochs) * per_epoch
