"""Disentanglement on known factors: MIG and the FactorVAE score, on codes and their factors.

A code is *disentangled* when each ground-truth factor of the data (a
sprite's shape, scale, rotation, x, y) is carried by one latent dimension
and each dimension carries one factor. Three scores measure it; this module
holds two and the discrete information they share, :mod:`.dci` the third.

- **MIG**, the mutual information gap (Chen, Li, Grosse & Duvenaud 2018): for
  each factor k, the difference between the two largest I(z_d; v_k) over the
  dimensions, divided by H(v_k), averaged over factors. 1: each factor is in
  one dimension alone; 0: its two best dimensions know as much.
- **FactorVAE score** (Kim & Mnih 2018): fix one factor, take a batch of
  images that share its value, normalise each dimension by its spread over
  all images, and vote for the dimension whose variance fell most; the score
  is the accuracy of the majority-vote classifier from that dimension back to
  the factor, on votes it was not fitted on. 1: every factor has a dimension
  of its own; 1/F is chance.

Both need discrete variables. A factor with at most :data:`MAX_CLASSES`
distinct integer values (shape) is kept as its classes; others (scale,
position) and the codes are cut into equal-count bins — mutual information
does not change under a monotone map, and equal counts keep a few outlying
codes from emptying the other bins (disentanglement_lib uses 20 equal-width
bins). Everything here is on a fixed set of images — the latent map's
validation images, whose factors the session keeps — so "images that share a
factor's value" are those of the set in one bin of it.

**Few images.** The plug-in mutual information of a histogram is biased
upwards: two independent variables cut into B_a and B_b bins show about
(B_a - 1)(B_b - 1) / (2N) nats, and more when the N images are few against
the B_a B_b cells (20 × 20 bins on 30 images: 0.8 of a factor's entropy for a
code that knows nothing of it). Two things keep the matrix honest at the
sizes the app sees (30 to 1,000 images): the bins follow N
(:func:`bins_for`: about :data:`CELL_COUNT` images per cell of a joint
table, from 2 to :data:`BINS`), and what the matrix holds is the
information *above chance*: the plug-in estimate minus its exact expectation
when one variable is shuffled against the other (the expected mutual
information of Vinh, Epps & Bailey 2010, the correction of the adjusted
mutual information), floored at 0. A code independent of the factors then
scores about 0 at any N; a code equal to them about 1 (less the chance level,
a few hundredths). What remains on few images is noise, not bias: below
:data:`RELIABLE_IMAGES` the views and ``info`` say the scores are rough.
"""

from __future__ import annotations

import numpy as np

#: The most bins of a continuous variable (disentanglement_lib's default for MIG).
BINS = 20
#: Images per cell of a joint table of two binned variables that :func:`bins_for` aims at.
CELL_COUNT = 5
#: A factor with at most this many distinct integer values is categorical.
MAX_CLASSES = 20
#: Bins per factor when fixing a factor's value for the FactorVAE score.
FACTOR_BINS = 10
#: Images per FactorVAE vote (Kim & Mnih: 64; fewer when a bin has fewer).
VOTE_BATCH = 64
#: Votes fitted and votes scored (Kim & Mnih: 800 / 800).
TRAIN_VOTES, EVAL_VOTES = 500, 300
#: A dimension whose variance over the images is below this carries nothing and
#: cannot vote (the app's active-unit threshold, Burda et al. 2016).
ACTIVE_VARIANCE = 0.01


def is_categorical(values: np.ndarray, max_classes: int = MAX_CLASSES) -> bool:
    """Whether a factor column holds a few integer classes (shape), not a continuum."""
    v = np.asarray(values, np.float64)
    return bool(np.all(v == np.rint(v)) and len(np.unique(v)) <= max_classes)


def discretize(values: np.ndarray, bins: int = BINS) -> np.ndarray:
    """(N,) values -> (N,) int64 bin indices 0..bins-1 of (about) equal counts.

    Equal values always share a bin, so a constant column is one bin (no
    information) however the images are ordered.
    """
    v = np.asarray(values, np.float64).ravel()
    if len(v) == 0:
        return np.zeros(0, np.int64)
    edges = np.quantile(v, np.linspace(0.0, 1.0, bins + 1)[1:-1])
    return np.searchsorted(edges, v, side="right").astype(np.int64)


def factor_classes(factor: np.ndarray, bins: int = BINS) -> np.ndarray:
    """A factor column as classes 0..K-1: its own values when categorical, else bins."""
    f = np.asarray(factor, np.float64).ravel()
    if is_categorical(f):
        return np.unique(f, return_inverse=True)[1].astype(np.int64)
    return discretize(f, bins)


def entropy(labels: np.ndarray) -> float:
    """H of a discrete variable's empirical distribution, in nats."""
    counts = np.bincount(np.asarray(labels, np.int64))
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def discrete_mutual_information(a: np.ndarray, b: np.ndarray) -> float:
    """I(a; b) of two discrete variables from their joint counts, in nats.

    Parameters
    ----------
    a, b : (N,) int64 classes (non-negative).
    """
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    nb = int(b.max()) + 1 if len(b) else 1
    joint = np.bincount(a * nb + b, minlength=(int(a.max()) + 1) * nb).reshape(-1, nb)
    p = joint / joint.sum()
    pa = p.sum(1, keepdims=True)
    pb = p.sum(0, keepdims=True)
    nz = p > 0
    return float((p[nz] * np.log(p[nz] / (pa @ pb)[nz])).sum())


def bins_for(n: int) -> int:
    """Equal-count bins of a continuous variable on ``n`` images: sqrt(n / CELL_COUNT),
    so a joint table of two of them has about CELL_COUNT images a cell, from 2 to BINS
    (30 images: 2, 100: 4, 600: 10, 1,000: 14, 2,000 and more: 20)."""
    return int(np.clip(np.floor(np.sqrt(max(n, 0) / CELL_COUNT)), 2, BINS))


def _log_factorials(n: int) -> np.ndarray:
    """(n + 1,) log k! for k = 0..n."""
    return np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, n + 1, dtype=np.float64)))])


def expected_mutual_information(a_counts: np.ndarray, b_counts: np.ndarray) -> float:
    """E[I(a; b)] of the plug-in estimate when b's labels are shuffled against a's.

    With the marginal counts fixed, a cell's count n_ij is hypergeometric, so
    (Vinh, Epps & Bailey 2010, eq. 24a)::

        E[I] = Σ_ij Σ_n (n / N) log(N n / (a_i b_j)) · C(a_i, n) C(N - a_i, b_j - n) / C(N, b_j)

    over n from max(1, a_i + b_j - N) to min(a_i, b_j): the plug-in estimate's
    chance level at these marginals, in nats.

    Parameters
    ----------
    a_counts, b_counts : (R,), (C,) non-negative integer counts with the same sum N.
    """
    a = np.asarray(a_counts, np.int64)
    b = np.asarray(b_counts, np.int64)
    a, b = a[a > 0], b[b > 0]
    n = int(a.sum())
    if n != int(b.sum()):
        raise ValueError(f"the counts must have one total, got {n} and {int(b.sum())}")
    if len(a) < 2 or len(b) < 2:
        return 0.0
    lf = _log_factorials(n)
    ai, bj = a[:, None, None], b[None, :, None]
    k = np.arange(1, min(a.max(), b.max()) + 1)[None, None, :]             # (1, 1, K)
    valid = (k >= ai + bj - n) & (k <= np.minimum(ai, bj))                 # (R, C, K)
    idx = lambda m: lf[np.clip(m, 0, n)]                                   # noqa: E731
    log_p = (idx(ai) + idx(bj) + idx(n - ai) + idx(n - bj) - lf[n] - idx(k) - idx(ai - k)
             - idx(bj - k) - idx(n - ai - bj + k))
    term = k / n * np.log(n * k / (ai * bj).astype(np.float64))
    return float(np.sum(np.where(valid, term * np.exp(np.where(valid, log_p, 0.0)), 0.0)))


def information_above_chance(a: np.ndarray, b: np.ndarray) -> float:
    """I(a; b) of two discrete variables less its chance level, floored at 0, in nats.

    The plug-in :func:`discrete_mutual_information` minus
    :func:`expected_mutual_information` at the same marginal counts: about 0 for
    independent variables at any N, where the plug-in estimate is biased upwards.
    """
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    chance = expected_mutual_information(np.bincount(a), np.bincount(b))
    return max(discrete_mutual_information(a, b) - chance, 0.0)


def factor_code_information(codes: np.ndarray, factors: np.ndarray,
                            bins: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """I(z_d; v_k) above chance for every factor and dimension, and each factor's entropy.

    Parameters
    ----------
    codes : (N, D) mean codes.
    factors : (N, F) their ground-truth factors.
    bins : equal-count bins of a continuous variable; None: :func:`bins_for` N.

    Returns
    -------
    mi : (F, D) float64 nats, each the plug-in estimate less its chance level, >= 0.
    h : (F,) float64 H(v_k) in nats.
    """
    codes = np.asarray(codes, np.float64)
    factors = np.asarray(factors, np.float64)
    bins = bins_for(len(codes)) if bins is None else bins
    z = [discretize(codes[:, d], bins) for d in range(codes.shape[1])]
    v = [factor_classes(factors[:, k], bins) for k in range(factors.shape[1])]
    chance: dict[tuple[bytes, bytes], float] = {}    # equal-count bins share their marginals

    def above_chance(vk: np.ndarray, zd: np.ndarray) -> float:
        ca, cb = np.bincount(vk), np.bincount(zd)
        key = (ca.tobytes(), cb.tobytes())
        if key not in chance:
            chance[key] = expected_mutual_information(ca, cb)
        return max(discrete_mutual_information(vk, zd) - chance[key], 0.0)

    mi = np.array([[above_chance(vk, zd) for zd in z] for vk in v])
    return mi.reshape(len(v), len(z)), np.array([entropy(vk) for vk in v])


def mig(codes: np.ndarray, factors: np.ndarray, bins: int | None = None
        ) -> tuple[float, np.ndarray]:
    """The mutual information gap and the normalised information matrix.

    Parameters
    ----------
    codes : (N, D) mean codes; factors : (N, F).
    bins : as :func:`factor_code_information` (None: from N).

    Returns
    -------
    score : float in [0, 1] (NaN with fewer than 2 dimensions; a factor with one
        value, H = 0, is left out).
    normalised : (F, D) I(z_d; v_k) / H(v_k), the information above chance — the
        factor × dimension matrix the view shows (0 for a constant factor).
    """
    mi, h = factor_code_information(codes, factors, bins)
    normalised = np.divide(mi, h[:, None], out=np.zeros_like(mi), where=h[:, None] > 0)
    if mi.shape[1] < 2 or not np.any(h > 0):
        return float("nan"), normalised
    top = np.sort(normalised[h > 0], axis=1)[:, ::-1]
    return float(np.mean(top[:, 0] - top[:, 1])), normalised


def factor_vae_score(codes: np.ndarray, factors: np.ndarray, seed: int = 0,
                     batch: int = VOTE_BATCH, train_votes: int = TRAIN_VOTES,
                     eval_votes: int = EVAL_VOTES) -> float:
    """Kim & Mnih's score on a fixed set of images (see the module docstring).

    Parameters
    ----------
    codes : (N, D) mean codes; factors : (N, F).
    seed : draws the votes; the same seed draws the same votes, so epochs compare.

    Returns
    -------
    Accuracy of the majority-vote classifier on the evaluation votes, in [0, 1];
    0 when no dimension is active (nothing can vote), NaN with no factor that varies.
    """
    codes = np.asarray(codes, np.float64)
    factors = np.asarray(factors, np.float64)
    var = codes.var(axis=0)
    active = var > ACTIVE_VARIANCE
    classes = [factor_classes(factors[:, k], FACTOR_BINS) for k in range(factors.shape[1])]
    # Each factor's groups of images sharing its value (a bin), those with 2 images or more.
    groups = [[np.nonzero(c == v)[0] for v in np.unique(c)] for c in classes]
    groups = [[g for g in gs if len(g) >= 2] for gs in groups]
    usable = [k for k, gs in enumerate(groups) if len(gs) > 1 or (
        len(gs) == 1 and len(gs[0]) < len(codes))]
    if not usable:
        return float("nan")
    if not active.any():
        return 0.0
    scaled = codes[:, active] / np.sqrt(var[active])
    rng = np.random.default_rng(seed)
    # Every usable group in one flat index, so all votes are drawn in a few array operations.
    chosen = [(k, g) for k in usable for g in groups[k]]
    flat = np.concatenate([g for _, g in chosen])
    sizes = np.array([len(g) for _, g in chosen])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    owner = np.array([k for k, _ in chosen])
    first = {k: i for i, (k, _) in reversed(list(enumerate(chosen)))}
    per_factor = {k: len(groups[k]) for k in usable}

    def votes(n: int) -> np.ndarray:
        """(active dims, F) counts: the dimension of least variance for each fixed factor."""
        ks = np.asarray(usable)[rng.integers(len(usable), size=n)]
        group = np.array([first[k] for k in ks]) + (
            rng.random(n) * np.array([per_factor[k] for k in ks])).astype(np.int64)
        # A batch of the group's images, drawn with replacement (Kim & Mnih draw fresh ones).
        pos = (rng.random((n, batch)) * sizes[group][:, None]).astype(np.int64)
        picked = scaled[flat[starts[group][:, None] + pos]]            # (n, batch, dims)
        counts = np.zeros((scaled.shape[1], factors.shape[1]), np.int64)
        np.add.at(counts, (picked.var(axis=1).argmin(axis=1), owner[group]), 1)
        return counts

    fitted, scored = votes(train_votes), votes(eval_votes)
    guess = fitted.argmax(axis=1)              # each dimension's majority factor
    return float(scored[np.arange(len(guess)), guess].sum() / max(scored.sum(), 1))
