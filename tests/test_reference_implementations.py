"""The app's own numpy estimators against scikit-learn and scipy, on seeded random data.

The app ships its own PCA, K-means and adjusted Rand index (inference/cluster.py) and its own
histogram, Gaussian KDE and EM-fitted Gaussian mixture (inference/density.py) instead of
depending on scikit-learn, which would add ~200 MB to requirements.txt and ~1.5 s to the app's
import. The price is code of our own for textbook algorithms; these tests hold it to the
reference implementations. scikit-learn and scipy are dev-only (requirements-dev.txt), so the
file is skipped where they are missing; the app itself never imports them (test_no_torch.py).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from inference.cluster import adjusted_rand_index, kmeans, pca
from inference.density import fit_gmm, histogram_log_density, kde_log_density, scott_bandwidth

sklearn = pytest.importorskip("sklearn")
scipy_stats = pytest.importorskip("scipy.stats")
scipy_special = pytest.importorskip("scipy.special")
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.datasets import make_blobs  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.metrics import adjusted_rand_score  # noqa: E402
from sklearn.mixture import GaussianMixture  # noqa: E402
from sklearn.neighbors import KernelDensity  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402  (a dependency of scikit-learn)


@pytest.fixture(autouse=True)
def one_thread():
    # The inputs are small: OpenMP and BLAS threads only contend, here KMeans took 5 s instead of
    # 0.05 s while other jobs held the two cores.
    with threadpool_limits(1):
        yield


def correlated(n: int, d: int, seed: int) -> np.ndarray:
    """(n, d) Gaussian data with distinct variances along random axes, so every principal
    direction is well defined (equal eigenvalues would leave the components free to rotate)."""
    rng = np.random.default_rng(seed)
    rotation, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return rng.normal(size=(n, d)) * np.geomspace(5.0, 0.2, d) @ rotation.T + rng.normal(size=d)


# ---- PCA ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n,d,components", [(300, 6, 3), (200, 10, 2), (20, 50, 5)])
def test_pca_matches_sklearn_up_to_sign(n, d, components):
    x = correlated(n, d, seed=n + d)
    scores, explained = pca(x, components)
    reference = PCA(n_components=components, svd_solver="full").fit(x)
    expected = reference.transform(x)
    assert scores.shape == expected.shape == (n, components)
    signs = np.sign((scores * expected).sum(0))  # each component's direction is defined up to sign
    np.testing.assert_allclose(scores * signs, expected, atol=1e-8 * np.abs(expected).max())
    np.testing.assert_allclose(explained, reference.explained_variance_ratio_, rtol=1e-10)


# ---- K-means ------------------------------------------------------------------------------------


@pytest.mark.parametrize("k,dims,seed", [(3, 2, 0), (5, 2, 1), (8, 10, 2)])
def test_kmeans_matches_sklearn_on_separated_blobs(k, dims, seed):
    x, truth = make_blobs(
        n_samples=600, centers=k, n_features=dims, cluster_std=0.6, center_box=(-20, 20), random_state=seed
    )
    labels, inertia = kmeans(x, k, seed=seed)
    reference = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(x)
    assert inertia == pytest.approx(reference.inertia_, rel=0.01)
    assert inertia == pytest.approx(((x - np.array([x[labels == j].mean(0) for j in range(k)])[labels]) ** 2).sum())
    assert adjusted_rand_score(reference.labels_, labels) == 1.0  # the same partition, up to names
    assert adjusted_rand_score(truth, labels) == 1.0


@pytest.mark.parametrize("seed", range(3))
def test_kmeans_near_sklearn_without_structure(seed):
    # No clusters to find: both land in local minima of Lloyd's algorithm, best of 10 starts
    # each; seeded runs of ours came within 1.3% of sklearn's inertia (either side).
    x = np.random.default_rng(seed).normal(size=(400, 5))
    _, inertia = kmeans(x, 6, seed=seed)
    reference = KMeans(n_clusters=6, n_init=10, random_state=seed).fit(x)
    assert inertia == pytest.approx(reference.inertia_, rel=0.03)


# ---- adjusted Rand index ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n,ka,kb,seed", [(2, 2, 2, 0), (10, 3, 4, 1), (100, 10, 10, 2), (500, 2, 7, 3), (1000, 30, 5, 4)]
)
def test_ari_matches_sklearn_on_random_labelings(n, ka, kb, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.integers(ka, size=n), rng.integers(kb, size=n)
    assert adjusted_rand_index(a, b) == pytest.approx(adjusted_rand_score(a, b), abs=1e-12)
    # partly agreeing labelings, where the index is far from 0
    c = np.where(rng.random(n) < 0.7, a, rng.integers(ka, size=n))
    assert adjusted_rand_index(a, c) == pytest.approx(adjusted_rand_score(a, c), abs=1e-12)


@pytest.mark.parametrize(
    "a,b",
    [
        pytest.param(np.arange(12) % 3, (np.arange(12) % 3 + 1) % 3, id="identical-renamed"),
        pytest.param(np.array(list("aabbbc")), np.array([7, 7, 1, 1, 1, 0]), id="identical-other-dtype"),
        pytest.param(np.zeros(10, int), np.zeros(10, int), id="one-cluster"),
        pytest.param(np.arange(10), np.arange(10)[::-1], id="all-singletons"),
        pytest.param(np.zeros(10, int), np.arange(10), id="one-cluster-vs-singletons"),
        pytest.param(np.array([0, 1]), np.array([0, 0]), id="two-points"),
    ],
)
def test_ari_edge_cases_match_sklearn(a, b):
    assert adjusted_rand_index(a, b) == pytest.approx(adjusted_rand_score(a, b), abs=1e-12)
    assert adjusted_rand_index(b, a) == pytest.approx(adjusted_rand_score(a, b), abs=1e-12)


# ---- kernel density estimate -----------------------------------------------------------------


def test_kde_1d_matches_scipy_and_sklearn():
    rng = np.random.default_rng(0)
    train = np.concatenate([rng.normal(-2, 0.5, 150), rng.normal(1, 1.5, 250)])
    x = np.linspace(-8, 9, 301)  # into the far tails, where the log densities are very negative
    h = 0.4
    ours = kde_log_density(train, x, h)
    # scipy's bandwidth is a factor times the data's standard deviation (ddof=1)
    scipy_kde = scipy_stats.gaussian_kde(train, bw_method=h / train.std(ddof=1))
    np.testing.assert_allclose(ours, scipy_kde.logpdf(x), rtol=1e-9)
    sk = KernelDensity(bandwidth=h, kernel="gaussian").fit(train[:, None])
    np.testing.assert_allclose(ours, sk.score_samples(x[:, None]), rtol=1e-9)


def test_kde_2d_matches_scipy_and_sklearn():
    rng = np.random.default_rng(1)
    train = rng.normal(size=(400, 2)) @ np.array([[1.0, 0.6], [0.0, 0.8]]) + [0.5, -1.0]
    x = rng.uniform(-6, 6, size=(500, 2))
    h = 0.3
    ours = kde_log_density(train, x, h)
    squared = ((x[:, None] - train[None]) ** 2).sum(-1)  # brute force, (500, 400)
    exact = scipy_special.logsumexp(-squared / (2 * h**2), axis=1) - math.log(len(train) * 2 * math.pi * h**2)
    np.testing.assert_allclose(ours, exact, rtol=1e-9)
    # sklearn's bandwidth is the isotropic kernel width itself. Its tree-based sum is off in the far
    # tails (here by up to 25 nats below about -29 nats; ours and scipy agree with the brute force
    # there), so it is compared where the density is above e^-20.
    sk = KernelDensity(bandwidth=h, kernel="gaussian").fit(train)
    bulk = exact > -20
    assert bulk.sum() > 150
    np.testing.assert_allclose(ours[bulk], sk.score_samples(x[bulk]), rtol=1e-9)
    # scipy's kernel covariance is the data covariance times factor**2, isotropic only when the
    # data covariance is: whitened data (sample covariance exactly I) makes the factor the width
    centered = train - train.mean(0)
    white = centered @ np.linalg.inv(np.linalg.cholesky(np.cov(centered, rowvar=False))).T
    scipy_kde = scipy_stats.gaussian_kde(white.T, bw_method=h)
    np.testing.assert_allclose(scipy_kde.covariance, h**2 * np.eye(2), atol=1e-12)
    np.testing.assert_allclose(kde_log_density(white, x, h), scipy_kde.logpdf(x.T), rtol=1e-9)


@pytest.mark.parametrize("d", [1, 2])
def test_scott_bandwidth_is_scipys_rule(d):
    # scipy: width = n^(-1/(d+4)) times the std with ddof=1; ours uses ddof=0 (the sqrt((n-1)/n) below)
    n = 300
    train = np.random.default_rng(d).normal(scale=2.0, size=(n, d))
    factor = scipy_stats.gaussian_kde(train.T, bw_method="scott").factor
    assert factor == pytest.approx(n ** (-1 / (d + 4)))
    expected = factor * train.std(0, ddof=1).mean() * math.sqrt((n - 1) / n)
    assert scott_bandwidth(train[:, 0] if d == 1 else train) == pytest.approx(expected, rel=1e-12)


# ---- Gaussian mixture by EM ---------------------------------------------------------------------


def separated_mixture(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    parts = [
        rng.multivariate_normal([-6, 0], [[1.0, 0.5], [0.5, 0.8]], 250),
        rng.multivariate_normal([5, 4], [[0.4, 0.0], [0.0, 2.0]], 200),
        rng.multivariate_normal([4, -6], [[1.5, -0.7], [-0.7, 0.6]], 150),
    ]
    return np.concatenate(parts)


@pytest.mark.parametrize("seed", [0, 1])
def test_gmm_matches_sklearn_on_separated_data(seed):
    x = separated_mixture(seed)
    fit = fit_gmm(x, 3, iters=300, seed=seed, tol=1e-8)
    reference = GaussianMixture(
        3, covariance_type="full", reg_covar=1e-6, tol=1e-8, max_iter=300, random_state=seed
    ).fit(x)
    assert fit.history[-1] == pytest.approx(fit.log_density(x).mean(), abs=1e-12)
    assert fit.history[-1] == pytest.approx(reference.score(x), abs=1e-4)
    np.testing.assert_allclose(fit.log_density(x), reference.score_samples(x), atol=1e-3)
    order = np.argsort(fit.means[:, 0])  # components in the same order as sklearn's
    ref_order = np.argsort(reference.means_[:, 0])
    np.testing.assert_allclose(fit.weights[order], reference.weights_[ref_order], atol=1e-4)
    np.testing.assert_allclose(fit.means[order], reference.means_[ref_order], atol=1e-3)


@pytest.mark.parametrize("d,k,seed", [(1, 5, 0), (1, 8, 1), (2, 6, 2), (2, 10, 3)])
def test_gmm_history_never_decreases(d, k, seed):
    # EM's guarantee: no step lowers the likelihood. Overlapping data and more components than
    # clusters make EM crawl for many iterations, where a wrong M step would show. The 1e-6
    # ridge on the covariances perturbs the exact M step, hence the tiny slack.
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.normal(0, 1, (300, d)), rng.normal(1.5, 0.5, (200, d))])
    fit = fit_gmm(x, k, iters=200, seed=seed, tol=0)
    assert len(fit.history) > 50
    assert np.diff(fit.history).min() >= -1e-9


# ---- histogram ----------------------------------------------------------------------------------


@pytest.mark.parametrize("bins", [1, 7, 40])
def test_histogram_matches_numpy_histogram(bins):
    rng = np.random.default_rng(bins)
    train = np.concatenate([rng.normal(0, 1, 300), rng.normal(6, 0.3, 50)])  # a gap: empty bins
    density, edges = np.histogram(train, bins=bins, density=True)
    centers = (edges[:-1] + edges[1:]) / 2
    floor = 1e-6
    np.testing.assert_allclose(histogram_log_density(train, centers, bins, floor), np.log(np.maximum(density, floor)))
    # anywhere, against scipy's histogram distribution (pdf 0 outside the range -> the floor)
    x = rng.uniform(train.min() - 3, train.max() + 3, 1000)
    pdf = scipy_stats.rv_histogram((density, edges), density=True).pdf(x)
    np.testing.assert_allclose(histogram_log_density(train, x, bins, floor), np.log(np.maximum(pdf, floor)))
    # a point on an inner edge goes to the bin on its right, as in np.histogram
    inner = edges[1:-1]
    numpy_bins = [np.histogram([e], bins=edges)[0].argmax() for e in inner]
    np.testing.assert_allclose(
        histogram_log_density(train, inner, bins, floor), np.log(np.maximum(density[numpy_bins], floor))
    )
    # both ends of the range are inside, in the first and last bins, as in np.histogram
    np.testing.assert_allclose(
        histogram_log_density(train, edges[[0, -1]], bins, floor), np.log(np.maximum(density[[0, -1]], floor))
    )
    assert (density * np.diff(edges)).sum() == pytest.approx(1.0)
