"""MIG, DCI and the FactorVAE score against independent computations and known answers.

Synthetic codes with known answers: a code equal to the factors scores about 1;
a rotation that mixes every factor into every dimension equally (a Hadamard
matrix) scores low on disentanglement but keeps the information; codes
shuffled across images know nothing of the factors. The discrete mutual
information is checked against enumeration, its chance level against every
shuffle of a small sample and Monte Carlo shuffles of a large one, the DCI
entropies against scipy, and the boosted stumps against a brute-force search
of every split. A code independent of the factors scores about 0 on 30, 100
and 1,000 images, where the plug-in histogram estimate alone does not.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.stats import entropy as scipy_entropy

from engine.analysis.dci import BoostedStumps, dci, dci_from_importance
from engine.analysis.disentanglement import (bins_for, discrete_mutual_information,
                                             discretize, expected_mutual_information,
                                             factor_classes, factor_vae_score,
                                             information_above_chance, is_categorical, mig)

N = 1000
HADAMARD = np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]]) / 2.0


def sprite_like_factors(n: int = N, seed: int = 0) -> np.ndarray:
    """(n, 5): a categorical shape and four continuous factors, as the sprites have."""
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, 3, n), rng.uniform(0.5, 1, n),
                     rng.uniform(0, 2 * np.pi, n), rng.uniform(0, 1, n),
                     rng.uniform(0, 1, n)], axis=1)


def standardised(a: np.ndarray) -> np.ndarray:
    return (a - a.mean(0)) / a.std(0)


@pytest.fixture(scope="module")
def factors():
    return sprite_like_factors()


# -- the discrete information -------------------------------------------------------------

def test_discrete_mutual_information_equals_enumeration():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 4, 500)
    b = (a + rng.integers(0, 3, 500)) % 5        # dependent on a, not a function of it
    n = len(a)
    brute = 0.0
    for i, j in itertools.product(range(4), range(5)):
        pij = np.sum((a == i) & (b == j)) / n
        if pij > 0:
            brute += pij * math.log(pij / (np.mean(a == i) * np.mean(b == j)))
    assert discrete_mutual_information(a, b) == pytest.approx(brute, rel=1e-12)
    # and H(a) + H(b) - H(a, b) with scipy's entropy
    joint = np.histogram2d(a, b, bins=(4, 5))[0].ravel()
    h = scipy_entropy(np.bincount(a)) + scipy_entropy(np.bincount(b)) - scipy_entropy(joint)
    assert discrete_mutual_information(a, b) == pytest.approx(h, rel=1e-10)
    assert discrete_mutual_information(a, rng.permutation(a)) < 0.03


def test_discretize_gives_equal_counts_and_keeps_ties_together():
    rng = np.random.default_rng(2)
    bins = discretize(rng.standard_normal(2000), 20)
    counts = np.bincount(bins, minlength=20)
    assert counts.min() >= 95 and counts.max() <= 105
    assert len(np.unique(discretize(np.full(300, 0.7)))) == 1     # a constant: one bin
    shapes = np.array([0, 1, 2, 2, 1, 0] * 10, np.float32)
    assert is_categorical(shapes) and not is_categorical(rng.uniform(size=100))
    assert set(factor_classes(shapes)) == {0, 1, 2}


# -- MIG ------------------------------------------------------------------------------------

def test_mig_of_the_factors_themselves_is_about_one(factors):
    score, matrix = mig(standardised(factors), factors)
    assert score > 0.85
    assert matrix.shape == (5, 5)
    assert np.all(matrix.argmax(1) == np.arange(5))            # each factor's own dimension
    # a monotone map of each dimension changes nothing: MI is invariant to it
    warped = np.exp(standardised(factors)) ** 3
    assert mig(warped, factors)[0] == pytest.approx(score, abs=1e-9)


def test_mig_of_a_rotation_and_of_shuffled_codes_is_low(factors):
    f4 = factors[:, 1:]
    assert mig(standardised(f4) @ HADAMARD, f4)[0] < 0.1
    shuffled = standardised(factors)[np.random.default_rng(3).permutation(N)]
    assert mig(shuffled, factors)[0] < 0.05


def test_mig_matrix_equals_an_independent_histogram_computation(factors):
    """At 20 bins: scipy's entropies of np.histogram2d's table, less the chance level
    (checked against shuffles below), floored at 0."""
    codes = standardised(factors) @ np.random.default_rng(4).standard_normal((5, 3))
    _, matrix = mig(codes, factors, bins=20)
    for k, d in itertools.product(range(5), range(3)):
        v = factor_classes(factors[:, k])
        z = np.argsort(np.argsort(codes[:, d], kind="stable"), kind="stable") * 20 // N
        joint = np.histogram2d(v, z, bins=(v.max() + 1, 20))[0]
        mi = (scipy_entropy(joint.sum(1)) + scipy_entropy(joint.sum(0))
              - scipy_entropy(joint.ravel()))
        mi = max(mi - expected_mutual_information(joint.sum(1), joint.sum(0)), 0.0)
        assert matrix[k, d] == pytest.approx(mi / scipy_entropy(np.bincount(v)), abs=1e-9)
    # by default the bins follow the number of images: 14 for 1,000
    assert bins_for(N) == 14 and (bins_for(30), bins_for(100), bins_for(10**5)) == (2, 4, 20)
    assert np.array_equal(mig(codes, factors)[1], mig(codes, factors, bins=14)[1])


# -- the chance level, and a code that knows nothing -----------------------------------------

def test_expected_mutual_information_equals_every_shuffle_and_monte_carlo():
    a = np.array([0, 0, 0, 1, 1, 2, 2])
    b = np.array([0, 1, 1, 1, 0, 0, 1])
    every = [discrete_mutual_information(a, b[list(p)])
             for p in itertools.permutations(range(7))]                 # all 5,040 shuffles
    assert expected_mutual_information(np.bincount(a), np.bincount(b)) == pytest.approx(
        np.mean(every), rel=1e-10)
    rng = np.random.default_rng(10)
    a, b = rng.integers(0, 3, 200), discretize(rng.standard_normal(200), 6)
    shuffles = np.array([discrete_mutual_information(a, rng.permutation(b))
                         for _ in range(4000)])
    expected = expected_mutual_information(np.bincount(a), np.bincount(b))
    assert expected == pytest.approx(shuffles.mean(), abs=4 * shuffles.std() / np.sqrt(4000))
    # the textbook first-order bias (R - 1)(C - 1) / 2N is close when cells are full
    assert expected == pytest.approx(2 * 5 / 400, rel=0.15)
    # counts in any order and with empty classes give the same, and mismatched totals fail
    assert expected_mutual_information([0, 3, 4], [2, 5, 0]) == pytest.approx(
        expected_mutual_information([4, 3], [5, 2]))
    with pytest.raises(ValueError, match="one total"):
        expected_mutual_information([3, 4], [3, 3])
    assert expected_mutual_information([7], [3, 4]) == 0.0


@pytest.mark.parametrize("n, mig_at_most", [(30, 0.10), (100, 0.04), (1000, 0.01)])
def test_a_code_independent_of_the_factors_scores_about_zero(n, mig_at_most):
    """Over 10 draws: the matrix's mean about 0 (within 0.03) and MIG within the stated
    tolerance, where the plug-in estimate at the old fixed 20 bins sees 0.05 to 0.8."""
    migs, means, plug_in = [], [], []
    for seed in range(10):
        rng = np.random.default_rng(100 + seed)
        f = sprite_like_factors(n, seed)
        z = rng.standard_normal((n, 6))
        score, matrix = mig(z, f)
        migs.append(score)
        means.append(matrix.mean())
        v, zb = factor_classes(f[:, 3], 20), discretize(z[:, 0], 20)
        plug_in.append(discrete_mutual_information(v, zb) / scipy_entropy(np.bincount(v)))
    assert max(migs) < mig_at_most
    assert np.mean(means) < 0.03 and np.all(np.array(means) >= 0)
    assert np.mean(plug_in) > 0.04                  # what the uncorrected histogram says
    assert information_above_chance(v, zb) < 0.5 * discrete_mutual_information(v, zb)


@pytest.mark.parametrize("n, same_above, turned_below", [(30, 0.7, 0.25), (100, 0.9, 0.1),
                                                         (1000, 0.95, 0.02)])
def test_known_answers_hold_on_few_images(n, same_above, turned_below):
    f = sprite_like_factors(n, seed=n)
    assert mig(standardised(f), f)[0] > same_above
    assert mig(standardised(f[:, 1:]) @ HADAMARD, f[:, 1:])[0] < turned_below


# -- DCI ------------------------------------------------------------------------------------

def test_dci_entropies_against_scipy():
    assert dci_from_importance(np.eye(4)) == pytest.approx((1.0, 1.0))
    assert dci_from_importance(np.full((4, 4), 0.25)) == pytest.approx((0.0, 0.0), abs=1e-12)
    r = np.array([[0.7, 0.1], [0.2, 0.3], [0.1, 0.6]])      # (D=3, F=2), columns sum to 1
    rows = r.sum(1)
    dis = sum((1 - scipy_entropy(row, base=2)) * w for row, w in zip(r, rows / rows.sum()))
    comp = np.mean([1 - scipy_entropy(col, base=3) for col in r.T])
    assert dci_from_importance(r) == pytest.approx((dis, comp), rel=1e-12)


def test_a_stump_finds_the_split_a_brute_force_search_finds():
    rng = np.random.default_rng(5)
    x = rng.uniform(size=(200, 3))
    y = np.where(x[:, 1] > 0.37, 2.0, -1.0) + 0.1 * rng.standard_normal(200)
    model = BoostedStumps(rounds=1, learning_rate=1.0, bins=200).fit(x, y[:, None])
    best = (-1.0, None)
    for d in range(3):
        for cut in np.unique(x[:, d])[:-1]:
            left = x[:, d] <= cut
            gain = (y.var() * 200 - y[left].var() * left.sum()
                    - y[~left].var() * (~left).sum())
            best = max(best, (gain, d), key=lambda b: b[0])
    assert int(model.stumps[0, 0, 0]) == best[1] == 1
    assert model.importance[1, 0] == pytest.approx(best[0], rel=1e-6)
    assert model.importance[[0, 2], 0].sum() == 0


def test_boosted_stumps_fit_an_additive_function_and_credit_its_inputs():
    rng = np.random.default_rng(6)
    x = rng.uniform(-1, 1, size=(800, 4))
    y = np.stack([np.sin(3 * x[:, 0]) + x[:, 2] ** 2, x[:, 3]], axis=1)
    model = BoostedStumps(rounds=150).fit(x[:600], y[:600])
    pred = model.predict(x[600:])
    r2 = 1 - ((pred - y[600:]) ** 2).sum(0) / ((y[600:] - y[600:].mean(0)) ** 2).sum(0)
    assert np.all(r2 > 0.85)
    share = model.importance / model.importance.sum(0)
    assert share[[0, 2], 0].sum() > 0.95 and share[3, 1] > 0.95


def test_dci_of_the_factors_rotation_and_shuffle(factors):
    same = dci(standardised(factors), factors)
    assert min(same.disentanglement, same.completeness, same.informativeness) > 0.9
    assert np.all(same.importance.argmax(0) == np.arange(5))
    f4 = factors[:, 1:]
    turned = dci(standardised(f4) @ HADAMARD, f4)
    assert turned.disentanglement < 0.2 and turned.completeness < 0.2
    assert turned.informativeness > 0.9                     # the information is all there
    shuffled = dci(standardised(factors)[np.random.default_rng(7).permutation(N)], factors)
    assert shuffled.informativeness < 0.1
    assert shuffled.disentanglement < 0.3


# -- the FactorVAE score -----------------------------------------------------------------------

def test_factor_vae_score_known_answers(factors):
    codes = standardised(factors)
    assert factor_vae_score(codes, factors) > 0.95
    f4 = factors[:, 1:]
    assert factor_vae_score(standardised(f4) @ HADAMARD, f4) < 0.5      # chance is 0.25
    shuffled = codes[np.random.default_rng(8).permutation(N)]
    assert factor_vae_score(shuffled, factors) < 0.4                     # chance is 0.2
    # collapsed dimensions (no variance) neither vote nor spoil the score
    padded = np.concatenate([codes, 1e-3 * np.random.default_rng(9).standard_normal((N, 5))], 1)
    assert factor_vae_score(padded, factors) > 0.95
    assert factor_vae_score(np.zeros((N, 3)), factors) == 0.0
    assert factor_vae_score(codes, factors, seed=1) == pytest.approx(
        factor_vae_score(codes, factors, seed=1))
