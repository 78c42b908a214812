"""The small numerical pieces every model family and estimator shares, each written once (numpy only)."""

from __future__ import annotations

import math

import numpy as np

LOG_2PI = math.log(2 * math.pi)


def sigmoid(logits: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * logits))  # overflow-free form of 1 / (1 + exp(-x))


def logsumexp(a: np.ndarray, axis: int = -1) -> np.ndarray:
    """log sum exp along ``axis`` (removed), shifted by the maximum so that nothing overflows."""
    a = np.asarray(a)
    top = np.max(a, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)  # all -inf: the answer is -inf, not NaN
    return np.squeeze(top, axis) + np.log(np.sum(np.exp(a - top), axis=axis))


def log_mean_exp(a: np.ndarray, axis: int = 0) -> np.ndarray:
    """log (1/n) sum exp: an importance-weighted average of likelihoods, in log space."""
    return logsumexp(a, axis) - math.log(np.shape(a)[axis])


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    logits = np.asarray(logits, np.float64)
    e = np.exp(logits - logits.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def one_hot(labels, num_classes: int, n: int | None = None) -> np.ndarray:
    """(n, num_classes) float32 rows for class labels (a scalar is repeated n times); a label out of
    range is a ValueError that names the range."""
    labels = np.asarray(labels)
    labels = (np.broadcast_to(labels, (n,)) if n is not None else labels.reshape(-1)).astype(np.int64)
    if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"class labels must be in 0..{num_classes - 1}")
    return np.eye(num_classes, dtype=np.float32)[labels]


def bernoulli_log_prob(logits: np.ndarray, x: np.ndarray) -> np.ndarray:
    """log p(x | logits), summed over all but the first axis: nats per image."""
    # log sigmoid(l) = -softplus(-l); x log s + (1 - x) log (1 - s) = x l - softplus(l)
    log_p = x * logits - np.logaddexp(0.0, logits)
    return log_p.reshape(len(log_p), -1).sum(1)


def diagonal_gaussian_log_prob(x: np.ndarray, mean: np.ndarray, logvar: np.ndarray | float = 0.0) -> np.ndarray:
    """log N(x; mean, diag(exp(logvar))) summed over the last axis, nats."""
    return (-0.5 * ((x - mean) ** 2 * np.exp(-logvar) + logvar + LOG_2PI)).sum(-1)


def bits_per_dim(nats: float | np.ndarray, num_pixels: int = 784) -> float | np.ndarray:
    """A negative log-likelihood in nats per image as bits per pixel: nats / (D ln 2)."""
    return nats / (num_pixels * math.log(2))


def kmeans_plus_plus(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k starting centres by k-means++ (Arthur and Vassilvitskii 2007): each next centre is a data point
    drawn with probability proportional to its squared distance from the nearest centre so far. Where every
    point already sits on a centre (duplicates), the next is drawn uniformly."""
    x = np.asarray(x, np.float64).reshape(len(x), -1)
    centers = [x[rng.integers(len(x))]]
    d2 = ((x - centers[0]) ** 2).sum(1)
    for _ in range(1, k):
        total = d2.sum()
        centers.append(x[rng.choice(len(x), p=d2 / total) if total > 0 else rng.integers(len(x))])
        d2 = np.minimum(d2, ((x - centers[-1]) ** 2).sum(1))
    return np.array(centers)
