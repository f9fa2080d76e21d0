"""Turning model and optimiser state into plain arrays and back (no pickle)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import torch
from torch import nn


def module_arrays(module: nn.Module) -> dict[str, np.ndarray]:
    """A module's state dict as independent numpy copies (safe to keep while training goes on)."""
    return {k: v.detach().to("cpu", copy=True).numpy() for k, v in module.state_dict().items()}


def load_module_arrays(module: nn.Module, arrays: dict[str, np.ndarray],
                       assign: bool = False, partial: bool = False) -> None:
    """Load arrays saved by :func:`module_arrays`; mismatches raise ValueError.

    ``assign=True`` replaces the module's tensors instead of copying into them
    (needed for a module built on the ``meta`` device). ``partial=True``
    loads a subset of the state (e.g. only ``encoder.*``) and keeps the rest.
    """
    state = module.state_dict()
    missing = set() if partial else set(state) - set(arrays)
    extra = set(arrays) - set(state)
    if missing or extra:
        raise ValueError(f"weights do not match the model: missing {sorted(missing)}, "
                         f"unexpected {sorted(extra)}")
    for k, v in state.items():
        if k in arrays and tuple(arrays[k].shape) != tuple(v.shape):
            raise ValueError(f"weight '{k}' has shape {tuple(arrays[k].shape)}, "
                             f"the model expects {tuple(v.shape)}")
    module.load_state_dict({k: torch.as_tensor(np.array(a, dtype=np.float32 if
                                                         np.asarray(a).dtype.kind == "f" else None))
                            for k, a in arrays.items()}, assign=assign, strict=not partial)


def optimizer_arrays(opt: torch.optim.Optimizer) -> tuple[dict[str, np.ndarray], str]:
    """(tensors by ``state/<index>/<name>``, JSON of everything else)."""
    sd = opt.state_dict()
    arrays: dict[str, np.ndarray] = {}
    scalars: dict[str, Any] = {}
    for idx, st in sd["state"].items():
        for name, val in st.items():
            key = f"state/{idx}/{name}"
            if torch.is_tensor(val):
                arrays[key] = val.detach().to("cpu", copy=True).numpy()
            else:
                scalars[key] = val
    meta = {"param_groups": sd["param_groups"], "scalars": scalars}
    return arrays, json.dumps(meta)


def load_optimizer_arrays(opt: torch.optim.Optimizer, arrays: dict[str, np.ndarray],
                          meta_json: str) -> None:
    """Inverse of :func:`optimizer_arrays`."""
    meta = json.loads(meta_json)
    state: dict[int, dict[str, Any]] = {}
    for key, arr in arrays.items():
        _, idx, name = key.split("/", 2)
        state.setdefault(int(idx), {})[name] = torch.as_tensor(np.asarray(arr))
    for key, val in meta["scalars"].items():
        _, idx, name = key.split("/", 2)
        state.setdefault(int(idx), {})[name] = val
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
