"""Figures that compare models: per-image test likelihoods, and sample quality without a
likelihood (Frechet classifier distance and class accuracy).

The Frechet distance between two Gaussians fitted to feature sets (Heusel et al. 2017, the
"FID" with Inception features; here the shipped MNIST classifier's 128-d features):

    d^2 = |mu_1 - mu_2|^2 + tr(S_1 + S_2 - 2 (S_1 S_2)^(1/2))

Lower is better; the train split against the test split is the floor a perfect model of
the data could hope for with these sample sizes.
"""

from __future__ import annotations

import numpy as np


IWAE_K = 200  # a VAE's importance samples per image, as for the test NLL in its card


def nll_nats(model, binary_images: np.ndarray, seed: int = 0) -> np.ndarray:
    """-log p(x) of each binary image, nats: exact for an autoregressive model (the chain rule;
    the class summed out for a conditional one), the IWAE bound with IWAE_K samples for a VAE."""
    x = np.asarray(binary_images, np.float32)
    if hasattr(model, "log_likelihood"):
        return -model.log_likelihood(x, k=IWAE_K, seed=seed)
    return -model.log_prob(x)


def _sqrtm_psd(a: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((a + a.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(features_1: np.ndarray, features_2: np.ndarray) -> float:
    """Squared Frechet distance between Gaussians fitted to two (N, F) feature sets."""
    f1, f2 = np.asarray(features_1, np.float64), np.asarray(features_2, np.float64)
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    # tr((S1 S2)^(1/2)) = tr((S1^(1/2) S2 S1^(1/2))^(1/2)), a symmetric PSD matrix: eigh, no complex parts
    root1 = _sqrtm_psd(s1)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root1 @ s2 @ root1), 0, None)).sum()
    d2 = ((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * cross
    return float(max(d2, 0.0))  # a tiny negative value is round-off of a sum of large terms


def sample_images(model, n: int, seed: int, labels: np.ndarray | None = None, batch: int = 250) -> np.ndarray:
    """n images from any shipped model, in batches: (n, H, W) in [0, 1]."""
    out = []
    for start in range(0, n, batch):
        m = min(batch, n - start)
        kwargs = {} if labels is None else {"labels": labels[start : start + m]}
        out.append(model.sample(m, seed=seed + start, **kwargs))
    return np.concatenate(out)


def sample_quality(
    model, classifier, test_gray: np.ndarray, test_binary: np.ndarray, n: int = 1000, seed: int = 0
) -> dict:
    """FCD of n samples to the test split; for class-conditional models also the classifier's
    agreement with the asked-for class (classes 0-9 in turn).

    Binary samples (autoregressive models) are compared with the fixed binary test split,
    grayscale ones (GANs, decoded VAE means) with the grayscale test split: each against
    the data it models, so no model pays for the binarization itself.
    """
    labels = np.arange(n) % 10 if getattr(model, "conditional", False) else None
    images = sample_images(model, n, seed, labels)
    logits, features = classifier.run(images)
    binary = getattr(model, "sample_kind", "grayscale") == "binary"
    reference = test_binary if binary else test_gray
    result = {
        "fcd": frechet_distance(features, classifier.features(reference)),
        "fcd_reference": "fixed binary test split" if binary else "grayscale test split",
        "fcd_samples": n,
        "fcd_seed": seed,
    }
    if labels is not None:
        result["class_accuracy"] = float((logits.argmax(1) == labels).mean())
    return result
