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


# -- what a checkpoint must hold (checked before anything is loaded) ---------------------
#: One stored entry of an optimiser's state: (shape, numpy dtype) of a tensor, or None for
#: a plain value kept in the JSON (SGD's ``momentum_buffer`` without momentum is None).
StateEntry = tuple[tuple[int, ...], np.dtype] | None


#: What an optimiser keeps: (parameters per group, parameter index -> name -> entry).
Layout = tuple[list[int], dict[int, dict[str, StateEntry]]]


def optimizer_layout(opt: torch.optim.Optimizer) -> Layout:
    """What :func:`optimizer_arrays` holds for ``opt`` once it has stepped.

    Call it on a throwaway optimiser over ``meta``-device parameters (the one
    ``configure_optimizers`` builds under ``torch.device("meta")``): it is stepped
    once with zero gradients, which allocates no memory and computes nothing, so
    the layout comes from torch itself for any optimiser and any version of torch.

    Returns
    -------
    group_sizes : the number of parameters in each parameter group.
    state : parameter index -> state name -> :data:`StateEntry`.
    """
    for group in opt.param_groups:
        # No fused or multi-tensor kernels exist for meta tensors; the state is the same.
        for key in ("fused", "foreach"):
            if group.get(key):
                group[key] = False
        for p in group["params"]:
            p.grad = torch.zeros_like(p)
    opt.step()
    sd = opt.state_dict()
    state = {int(idx): {name: (tuple(v.shape), _numpy_dtype(v.dtype)) if torch.is_tensor(v)
                        else None for name, v in st.items()}
             for idx, st in sd["state"].items()}
    return [len(g["params"]) for g in sd["param_groups"]], state


def optimizer_state_problem(name: str, arrays: dict[str, np.ndarray], meta: dict,
                            layout: Layout) -> str | None:
    """What is wrong with a stored optimiser state, in words, or None when it fits.

    Parameters
    ----------
    name : the optimiser's name (``model``, ``generator``), for the message.
    arrays : ``state/<index>/<name>`` -> array, as :func:`optimizer_arrays` wrote them.
    meta : the optimiser's JSON: ``param_groups`` and ``scalars``.
    layout : :func:`optimizer_layout` of the optimiser the model builds.

    A parameter may have no state at all (torch creates it at its first
    gradient); one that has state must have all of it: a missing array made
    torch's Adam raise KeyError mid-run, a 0-d one crashed its fused kernel.
    """
    sizes, expected = layout
    groups = meta.get("param_groups")
    stored_sizes = [len(g.get("params", ())) if isinstance(g, dict) else -1 for g in groups]
    if stored_sizes != sizes:
        return (f"the param_groups of optimiser '{name}' hold {stored_sizes} parameters, the "
                f"model's optimiser {sizes}")
    scalars = meta.get("scalars", {})
    found: dict[int, set[str]] = {}
    for key in list(arrays) + list(scalars):
        parts = key.split("/")
        if len(parts) != 3 or parts[0] != "state" or not parts[1].isdigit() \
                or int(parts[1]) >= sum(sizes):
            return f"the optimiser state {name}/{key} belongs to no parameter"
        index, entry = int(parts[1]), parts[2]
        if entry not in expected.get(index, {}):
            return (f"the optimiser state {name}/{key} is unexpected (this optimiser keeps "
                    f"{', '.join(sorted(expected.get(index, {}))) or 'nothing'} there)")
        found.setdefault(index, set()).add(entry)
        problem = _entry_problem(f"{name}/{key}", arrays.get(key, scalars.get(key)),
                                 key in arrays, expected[index][entry])
        if problem:
            return problem
    for index, entries in sorted(found.items()):
        missing = sorted(set(expected[index]) - entries)
        if missing:
            return (f"the optimiser state {name}/state/{index} is missing "
                    f"{', '.join(missing)}")
    return None


def _entry_problem(where: str, value, is_array: bool, want: StateEntry) -> str | None:
    if want is None:   # a plain value in the JSON (or None)
        ok = not is_array and (value is None or isinstance(value, (bool, int, float)))
        return None if ok else f"the optimiser state {where} should be a plain value"
    shape, dtype = want
    if not is_array:
        # Older torch kept Adam's step as a number; a finite number for a 0-d entry loads.
        ok = shape == () and isinstance(value, (int, float)) and not isinstance(value, bool) \
            and np.isfinite(value)
        return None if ok else f"the optimiser state {where} should be an array of shape {shape}"
    a = np.asarray(value)
    if a.shape != shape:
        return f"the optimiser state {where} has shape {a.shape}, its parameter needs {shape}"
    if a.dtype != dtype:
        return f"the optimiser state {where} has dtype {a.dtype}, the optimiser keeps {dtype}"
    if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        return f"the optimiser state {where} holds NaN or infinite values"
    return None


def array_kind_problem(where: str, a: np.ndarray, want: torch.dtype) -> str | None:
    """Whether a stored weight can stand for a tensor of dtype ``want`` (floats load as
    float32; integers and booleans as they are)."""
    kind = _numpy_dtype(want).kind
    ok = a.dtype.kind == "f" if kind == "f" else a.dtype.kind in ("iu" if kind in "iu" else kind)
    return None if ok else (f"the weight {where} has dtype {a.dtype}, the model keeps "
                            f"{'float' if kind == 'f' else _numpy_dtype(want)} values there")


def _numpy_dtype(dtype: torch.dtype) -> np.dtype:
    return torch.empty((), dtype=dtype).numpy().dtype
