"""Label budgets: which training images keep their labels.

A budget of 100 on MNIST keeps 10 labelled images per digit. Subsets are
class-balanced, a function of the seed alone, and *nested*: with the same
seed the 100-image subset lies inside the 1,000-image one, so a larger
budget only ever adds labels.
"""

from __future__ import annotations

import numpy as np

from engine.errors import ConfigError

ALL = "all"
_LABEL_STREAM = 0x1AB31  # its own random stream, as in engine.data.dataset


def parse_budgets(text: str) -> list[int | str]:
    """``"100,1000,all"`` -> ``[100, 1000, "all"]``.

    Raises
    ------
    ConfigError
        naming ``--labels`` for anything but positive integers and ``all``.
    """
    out: list[int | str] = []
    for part in (p.strip() for p in str(text).split(",")):
        if part.lower() == ALL:
            out.append(ALL)
            continue
        try:
            n = int(part)
        except ValueError:
            n = 0
        if n < 1:
            raise ConfigError(f"must be a comma-separated list of positive integers or 'all' "
                              f"(got {part!r})", "--labels")
        out.append(n)
    if not out:
        raise ConfigError("must name at least one label budget, e.g. 100,1000,all", "--labels")
    return out


def resolve_budget(budget: int | str, n_train: int) -> int:
    """The number of labelled images a budget means; ``all`` is every training image."""
    if budget == ALL:
        return n_train
    if not isinstance(budget, int) or budget < 1 or budget > n_train:
        raise ConfigError(f"is {budget!r} labelled images, which is not possible: the training "
                          f"split has {n_train} images (use at most that, or 'all')",
                          "classifier.labels")
    return budget


def labelled_subset(labels: np.ndarray, train_idx: np.ndarray, budget: int, seed: int,
                    n_classes: int | None = None) -> np.ndarray:
    """A class-balanced, seeded subset of the training images.

    Parameters
    ----------
    labels : (N,) int64 labels of every image in the data set.
    train_idx : (n_train,) int64 indices of the training split.
    budget : how many labelled images, 1..n_train.
    seed : the same seed gives the same subset; subsets of one seed are nested.
    n_classes : K; defaults to ``labels.max() + 1``.

    Returns
    -------
    (budget,) int64 sorted indices into the data set, a subset of ``train_idx``.
    Each class gets ``budget // K`` images, the ``budget % K`` left over go one
    each to classes in a seeded order; a class with too few images gives all
    it has and its shortfall goes to the others in the same way.
    """
    labels = np.asarray(labels)
    train_idx = np.asarray(train_idx, np.int64)
    if not 1 <= budget <= len(train_idx):
        raise ConfigError(f"must be from 1 to {len(train_idx)} (got {budget})",
                          "classifier.labels")
    k = int(n_classes if n_classes is not None else labels[train_idx].max() + 1)
    rng = np.random.default_rng([seed, _LABEL_STREAM])
    # Per class, one fixed random order; a budget takes a prefix of it (hence nesting).
    pools = [rng.permutation(train_idx[labels[train_idx] == c]) for c in range(k)]
    class_order = rng.permutation(k)
    quota = np.zeros(k, np.int64)
    left = budget
    while left > 0:
        open_classes = [c for c in class_order if quota[c] < len(pools[c])]
        share, extra = divmod(left, len(open_classes))
        for i, c in enumerate(open_classes):
            quota[c] += min(share + (1 if i < extra else 0), len(pools[c]) - quota[c])
        left = budget - int(quota.sum())
    return np.sort(np.concatenate([pools[c][:quota[c]] for c in range(k)])).astype(np.int64)
