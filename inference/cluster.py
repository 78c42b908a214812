"""Unsupervised structure in codes and pixels (numpy only): PCA, K-means, adjusted Rand index."""

from __future__ import annotations

from math import comb

import numpy as np

from inference.numeric import kmeans_plus_plus


def pca(x: np.ndarray, components: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Project (N, D) data on its top principal components: (N, components) scores and the
    fraction of variance each explains."""
    x = np.asarray(x, np.float64)
    centered = x - x.mean(0)
    _, s, vt = np.linalg.svd(centered, full_matrices=False)
    explained = s**2 / (s**2).sum()
    return centered @ vt[:components].T, explained[:components]


def kmeans(x: np.ndarray, k: int, seed: int = 0, n_init: int = 10, iters: int = 100) -> tuple[np.ndarray, float]:
    """Lloyd's K-means with k-means++ starts, best of n_init by inertia: (labels, inertia)."""
    x = np.asarray(x, np.float64)
    rng = np.random.default_rng(seed)
    norms = (x**2).sum(1)
    best_labels, best_inertia = None, np.inf
    for _ in range(n_init):
        centers = kmeans_plus_plus(x, k, rng)
        labels = None
        for _ in range(iters):
            dist = norms[:, None] - 2 * x @ centers.T + (centers**2).sum(1)[None]
            new = dist.argmin(1)
            if labels is not None and (new == labels).all():
                break
            labels = new
            for j in range(k):
                members = x[labels == j]
                centers[j] = members.mean(0) if len(members) else x[rng.integers(len(x))]
        inertia = float(((x - centers[labels]) ** 2).sum())
        if inertia < best_inertia:
            best_labels, best_inertia = labels, inertia
    return best_labels, best_inertia


def adjusted_rand_index(a: np.ndarray, b: np.ndarray) -> float:
    """Agreement of two partitions, 0 for chance and 1 for identical (Hubert and Arabie 1985)."""
    a, b = np.asarray(a), np.asarray(b)
    _, ai = np.unique(a, return_inverse=True)
    _, bi = np.unique(b, return_inverse=True)
    table = np.zeros((ai.max() + 1, bi.max() + 1), np.int64)
    np.add.at(table, (ai, bi), 1)
    pairs = sum(comb(int(n), 2) for n in table.ravel())
    rows = sum(comb(int(n), 2) for n in table.sum(1))
    cols = sum(comb(int(n), 2) for n in table.sum(0))
    total = comb(len(a), 2)
    if total == 0:  # one point: any two partitions of it are the same
        return 1.0
    expected = rows * cols / total
    top = (rows + cols) / 2
    return 1.0 if top == expected else float((pairs - expected) / (top - expected))
