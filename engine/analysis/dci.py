"""DCI: disentanglement, completeness and informativeness (Eastwood & Williams 2018).

Predict each factor v_k from the code z with a regressor that says how much
it used each dimension: the importance matrix R (D, F), each column summing
to 1. Then

- **disentanglement** of dimension d: 1 - H_F(R[d] / Σ_k R[d, k]) (entropy in
  base F: one factor per dimension scores 1), averaged with weights
  ρ_d = Σ_k R[d, k] / Σ R so that unused dimensions do not count;
- **completeness** of factor k: 1 - H_D(R[:, k]) (base D: one dimension per
  factor scores 1), averaged over factors;
- **informativeness**: how well the factors are predicted on images the
  regressor did not see — R² for a continuous factor, Cohen's κ against the
  majority class for a categorical one (both 0 for no information, 1 for
  perfect), averaged over factors. (Eastwood & Williams report the error;
  disentanglement_lib the accuracy; this scale makes "1 is best, 0 is
  nothing" hold for all three numbers.)

The regressor is :class:`BoostedStumps`: least-squares gradient boosting of
depth-1 trees on inputs cut into quantile bins (as histogram GBMs do); a
dimension's importance is the squared error its splits removed, as in
scikit-learn's ``feature_importances_`` (disentanglement_lib's DCI uses
scikit-learn's GradientBoostingClassifier). It fits every target at once with
one matrix product per round, so a whole DCI on 1,000 codes takes tens of
milliseconds — scikit-learn is not a dependency of the app (docs/benchmarks.md,
*Research measures*, says why).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.analysis.disentanglement import is_categorical

#: Boosting rounds, shrinkage and input bins of the regressor DCI uses.
ROUNDS, LEARNING_RATE, INPUT_BINS = 80, 0.3, 32
#: Share of the images the regressor is fitted on; the rest score informativeness.
TRAIN_FRACTION = 0.8


class BoostedStumps:
    """Least-squares gradient boosting of stumps, several targets at once.

    Parameters
    ----------
    rounds : stumps per target; learning_rate : the shrinkage of each.
    bins : inputs are cut at (at most) ``bins - 1`` quantiles of the training inputs.

    Attributes (after :meth:`fit`)
    ------------------------------
    importance : (D, T) squared error removed by the splits on each input, per target.
    """

    def __init__(self, rounds: int = ROUNDS, learning_rate: float = LEARNING_RATE,
                 bins: int = INPUT_BINS):
        self.rounds, self.learning_rate, self.bins = rounds, learning_rate, bins

    def _binned(self, x: np.ndarray) -> np.ndarray:
        return np.stack([np.searchsorted(e, x[:, d], side="right")
                         for d, e in enumerate(self.edges)], axis=1).astype(np.int64)

    def fit(self, x: np.ndarray, y: np.ndarray) -> "BoostedStumps":
        """x (N, D) inputs, y (N, T) targets."""
        x = np.asarray(x, np.float64)
        y = np.asarray(y, np.float64).reshape(len(x), -1)
        n, d = x.shape
        t = y.shape[1]
        qs = np.linspace(0.0, 1.0, self.bins + 1)[1:-1]
        self.edges = [np.unique(np.quantile(x[:, j], qs)) for j in range(d)]
        xb = self._binned(x)
        nb = self.bins
        # Each (image, input, target) adds its residual to the (input, bin, target) cell: one
        # bincount per round (a BLAS product does the same sums slower on a busy machine).
        cell = ((xb + nb * np.arange(d)[None]) * t)[:, :, None] + np.arange(t)[None, None]
        cell = cell.ravel()
        counts = np.bincount((xb + nb * np.arange(d)[None]).ravel(), minlength=d * nb)
        counts_left = np.cumsum(counts.reshape(d, nb), axis=1)[:, :, None]     # (D, nb, 1)
        counts_right = n - counts_left
        valid = (counts_left > 0) & (counts_right > 0)
        self.base = y.mean(0)
        pred = np.repeat(self.base[None], n, axis=0)
        self.importance = np.zeros((d, t))
        self.stumps = np.zeros((self.rounds, 4, t))       # dim, bin, left, right
        cols = np.arange(t)
        for r in range(self.rounds):
            resid = y - pred
            total = resid.sum(0)                                           # (T,)
            sums = np.bincount(cell, weights=np.broadcast_to(resid[:, None, :], (n, d, t)).ravel(),
                               minlength=d * nb * t)
            left = np.cumsum(sums.reshape(d, nb, t), axis=1)                   # (D, nb, T)
            right = total[None, None] - left
            with np.errstate(divide="ignore", invalid="ignore"):
                gain = left ** 2 / counts_left + right ** 2 / counts_right - total ** 2 / n
            gain = np.where(valid, gain, -np.inf).reshape(d * nb, t)
            best = gain.argmax(0)                                          # (T,)
            if not np.all(np.isfinite(gain[best, cols])):   # an input with one value only
                self.stumps = self.stumps[:r]
                break
            bd, bb = np.divmod(best, nb)
            lv = left[bd, bb, cols] / counts_left[bd, bb, 0]
            rv = right[bd, bb, cols] / counts_right[bd, bb, 0]
            self.stumps[r] = np.stack([bd, bb, lv, rv])
            go_left = xb[:, bd] <= bb[None]
            pred += self.learning_rate * np.where(go_left, lv[None], rv[None])
            np.add.at(self.importance, (bd, cols), np.maximum(gain[best, cols], 0.0))
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """x (N, D) -> (N, T) predictions."""
        xb = self._binned(np.asarray(x, np.float64))
        pred = np.repeat(self.base[None], len(xb), axis=0)
        for bd, bb, lv, rv in self.stumps:
            go_left = xb[:, bd.astype(np.int64)] <= bb[None]
            pred += self.learning_rate * np.where(go_left, lv[None], rv[None])
        return pred


@dataclass(frozen=True)
class DciScores:
    """disentanglement, completeness, informativeness in [0, 1]; importance (D, F)
    with each factor's column summing to 1 (0 for a factor that never varies)."""

    disentanglement: float
    completeness: float
    informativeness: float
    importance: np.ndarray


def _targets(factors: np.ndarray, train: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Regression targets: a continuous factor standardised, a categorical one as
    indicator columns; and for each factor the target columns it owns."""
    cols, owners = [], []
    for k in range(factors.shape[1]):
        f = factors[:, k]
        if is_categorical(f):
            classes = np.unique(f)
            block = (f[:, None] == classes[None]).astype(np.float64)
        else:
            sd = f[train].std()
            block = ((f - f[train].mean()) / (sd if sd > 0 else 1.0))[:, None]
        owners.append(np.arange(block.shape[1]) + sum(c.shape[1] for c in cols))
        cols.append(block)
    return np.concatenate(cols, axis=1), owners


def _score(truth: np.ndarray, guess: np.ndarray, categorical: bool) -> float:
    """R² (continuous: truth, guess (N, 1)) or κ (categorical: indicators (N, K))."""
    if categorical:
        t, g = truth.argmax(1), guess.argmax(1)
        major = np.bincount(t).max() / len(t)
        return 0.0 if major >= 1 else float(((t == g).mean() - major) / (1 - major))
    sst = float(((truth - truth.mean()) ** 2).sum())
    return 0.0 if sst == 0 else 1.0 - float(((truth - guess) ** 2).sum()) / sst


def normalised_entropy(p: np.ndarray, base: int) -> np.ndarray:
    """Entropy of each row of ``p`` (rows sum to 1) in base ``base``."""
    p = np.asarray(p, np.float64)
    logs = np.log(p, out=np.zeros_like(p), where=p > 0)
    return -(p * logs).sum(-1) / np.log(base)


def dci_from_importance(importance: np.ndarray) -> tuple[float, float]:
    """(disentanglement, completeness) of an importance matrix R (D, F), as defined above;
    NaN where it is undefined (fewer than 2 factors, or 2 dimensions; no importance)."""
    r = np.asarray(importance, np.float64)
    d, f = r.shape
    if r.sum() <= 0:
        return float("nan"), float("nan")
    per_dim = r.sum(1)
    dis = float("nan")
    if f >= 2:
        used = per_dim > 0
        p = r[used] / per_dim[used, None]
        dis = float(((1 - normalised_entropy(p, f)) * per_dim[used] / per_dim.sum()).sum())
    comp = float("nan")
    per_factor = r.sum(0)
    if d >= 2 and np.any(per_factor > 0):
        p = (r[:, per_factor > 0] / per_factor[per_factor > 0]).T
        comp = float(np.mean(1 - normalised_entropy(p, d)))
    return dis, comp


def dci(codes: np.ndarray, factors: np.ndarray, seed: int = 0,
        train_fraction: float = TRAIN_FRACTION) -> DciScores:
    """DCI of codes (N, D) against factors (N, F) (see the module docstring).

    The images are split at random (``seed``) into the regressor's training and
    scoring parts; the same seed gives the same split, so epochs compare.
    """
    codes = np.asarray(codes, np.float64)
    factors = np.asarray(factors, np.float64)
    n = len(codes)
    order = np.random.default_rng(seed).permutation(n)
    cut = min(max(int(round(n * train_fraction)), 2), n - 1)
    train, test = order[:cut], order[cut:]
    y, owners = _targets(factors, train)
    model = BoostedStumps().fit(codes[train], y[train])
    guess = model.predict(codes[test])
    importance = np.zeros((codes.shape[1], factors.shape[1]))
    info = []
    for k, own in enumerate(owners):
        col = model.importance[:, own].sum(1)
        if col.sum() > 0:
            importance[:, k] = col / col.sum()
        info.append(min(max(_score(y[test][:, own], guess[:, own],
                                   is_categorical(factors[:, k])), 0.0), 1.0))
    dis, comp = dci_from_importance(importance)
    return DciScores(dis, comp, float(np.mean(info)), importance)
