"""FID and precision / recall against independent computations (scipy's sqrtm, brute force)."""

import numpy as np
import pytest
import scipy.linalg

from engine.analysis.sample_quality import (K_NEAREST, fid, frechet_distance, gaussian_stats,
                                            inside_manifold, knn_radii, pairwise_distances,
                                            precision_recall, psd_sqrt)


def _random_cov(rng, d, rank=None):
    a = rng.standard_normal((d, rank or d))
    return a @ a.T / d


def _fid_by_sqrtm(mu1, c1, mu2, c2):
    """The textbook formula, as pytorch-fid computes it: scipy's general matrix square root of
    the (non-symmetric) product, its real part."""
    root = scipy.linalg.sqrtm(c1 @ c2)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(c1) + np.trace(c2)
                 - 2 * np.trace(np.real(root)))


# -- the Fréchet distance ---------------------------------------------------------------------

@pytest.mark.parametrize("d", [1, 2, 5, 16])
def test_frechet_distance_matches_scipy_sqrtm_of_the_covariance_product(d):
    rng = np.random.default_rng(d)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    c1, c2 = _random_cov(rng, d), _random_cov(rng, d)
    assert frechet_distance(mu1, c1, mu2, c2) == pytest.approx(_fid_by_sqrtm(mu1, c1, mu2, c2),
                                                              rel=1e-7, abs=1e-9)


def test_a_known_square_root_gives_the_same_distance_and_is_scipys():
    rng = np.random.default_rng(11)
    mu1, mu2 = rng.standard_normal(7), rng.standard_normal(7)
    c1, c2 = _random_cov(rng, 7), _random_cov(rng, 7)
    root = psd_sqrt(c1)
    np.testing.assert_allclose(root, np.real(scipy.linalg.sqrtm(c1)), atol=1e-9)
    assert frechet_distance(mu1, c1, mu2, c2, root1=root) == pytest.approx(
        frechet_distance(mu1, c1, mu2, c2), rel=1e-12)


def test_frechet_distance_of_singular_covariances_matches_scipy():
    """Low-rank covariances, as features with dead units give: no NaN, the same value."""
    rng = np.random.default_rng(3)
    mu1, mu2 = rng.standard_normal(8), rng.standard_normal(8)
    c1, c2 = _random_cov(rng, 8, rank=3), _random_cov(rng, 8, rank=5)
    got = frechet_distance(mu1, c1, mu2, c2)
    assert np.isfinite(got)
    assert got == pytest.approx(_fid_by_sqrtm(mu1, c1, mu2, c2), rel=1e-5, abs=1e-6)


def test_frechet_distance_of_diagonal_gaussians_is_the_closed_form():
    rng = np.random.default_rng(1)
    mu1, mu2 = rng.standard_normal(6), rng.standard_normal(6)
    s1, s2 = rng.uniform(0.1, 2, 6), rng.uniform(0.1, 2, 6)
    want = np.sum((mu1 - mu2) ** 2) + np.sum((s1 - s2) ** 2)
    assert frechet_distance(mu1, np.diag(s1 ** 2), mu2, np.diag(s2 ** 2)) == pytest.approx(want)


def test_fid_of_a_set_with_itself_is_zero_and_of_a_shifted_copy_the_squared_shift():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((500, 10)) @ rng.standard_normal((10, 10))
    shift = rng.standard_normal(10)
    assert fid(x, x) == pytest.approx(0.0, abs=1e-8 * np.trace(np.cov(x, rowvar=False)))
    assert fid(x, x + shift) == pytest.approx(float(shift @ shift), rel=1e-6)


def test_fid_of_two_samples_of_gaussians_approaches_the_distance_of_the_gaussians():
    """Monte Carlo: large samples of N(0, I) and N(m, 4I) in 3-D: d² = |m|² + 3·(2 − 1)²."""
    rng = np.random.default_rng(4)
    m = np.array([1.0, -2.0, 0.5])
    a = rng.standard_normal((200_000, 3))
    b = m + 2.0 * rng.standard_normal((200_000, 3))
    assert fid(a, b) == pytest.approx(m @ m + 3.0, rel=0.01)


def test_gaussian_stats_are_numpy_mean_and_unbiased_covariance():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((50, 4))
    mu, cov = gaussian_stats(x)
    np.testing.assert_allclose(mu, x.mean(0))
    np.testing.assert_allclose(cov, np.cov(x.T, ddof=1))
    with pytest.raises(ValueError):
        gaussian_stats(x[:1])


# -- precision and recall ---------------------------------------------------------------------

def _brute_radii(points, k):
    out = []
    for i, p in enumerate(points):
        d = sorted(float(np.sqrt(np.sum((p - q) ** 2))) for j, q in enumerate(points) if j != i)
        out.append(d[k - 1])
    return np.array(out)


def _brute_precision_recall(real, fake, k):
    rr, rf = _brute_radii(real, k), _brute_radii(fake, k)

    def covered(q, pts, radii):
        return any(np.sqrt(np.sum((q - p) ** 2)) <= r for p, r in zip(pts, radii))
    precision = np.mean([covered(f, real, rr) for f in fake])
    recall = np.mean([covered(r, fake, rf) for r in real])
    return precision, recall


@pytest.mark.parametrize("seed,k", [(0, 3), (1, 1), (2, 5)])
def test_precision_recall_match_brute_force(seed, k):
    rng = np.random.default_rng(seed)
    real = rng.standard_normal((40, 3))
    fake = rng.standard_normal((33, 3)) + [2.0, 0.0, 0.0]
    got = precision_recall(real, fake, k=k)
    want = _brute_precision_recall(real, fake, k)
    assert got == pytest.approx(want)
    assert 0 < got[0] < 1 and 0 < got[1] < 1   # a case that tells them apart


def test_knn_radii_and_distances_match_brute_force():
    rng = np.random.default_rng(6)
    pts = rng.standard_normal((30, 4))
    np.testing.assert_allclose(knn_radii(pts, 3), _brute_radii(pts, 3))
    other = rng.standard_normal((7, 4))
    np.testing.assert_allclose(pairwise_distances(other, pts),
                               scipy.spatial.distance.cdist(other, pts), atol=1e-12)


def test_identical_sets_score_one_and_one():
    x = np.random.default_rng(7).standard_normal((100, 5))
    assert precision_recall(x, x.copy()) == (1.0, 1.0)


def test_disjoint_far_sets_score_zero_and_zero():
    rng = np.random.default_rng(8)
    real = rng.standard_normal((80, 2))
    fake = rng.standard_normal((80, 2)) + 100.0
    assert precision_recall(real, fake) == (0.0, 0.0)


def test_a_subset_of_the_data_has_full_precision_and_less_recall():
    """Mode dropping: samples from two of four clusters are all realistic (precision 1) but
    cover about half of the data (recall well below 1)."""
    rng = np.random.default_rng(9)
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], float)
    real = np.concatenate([c + rng.standard_normal((60, 2)) for c in centres])
    fake = real[:120]                        # the first two clusters' points
    precision, recall = precision_recall(real, fake)
    assert precision == 1.0
    assert recall < 0.6
    assert recall == pytest.approx(_brute_precision_recall(real, fake, K_NEAREST)[1])


def test_inside_manifold_counts_the_ball_boundary_as_inside():
    pts = np.array([[0.0, 0.0], [4.0, 0.0]])
    radii = np.array([1.0, 0.5])
    q = np.array([[1.0, 0.0], [1.01, 0.0], [3.5, 0.0], [2.0, 2.0]])
    assert inside_manifold(q, pts, radii).tolist() == [True, False, True, False]


def test_a_manifold_needs_more_points_than_neighbours():
    with pytest.raises(ValueError, match="more than 3 points"):
        knn_radii(np.zeros((3, 2)), 3)
