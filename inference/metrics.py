"""Figures that compare models: per-image test likelihoods, and sample quality without a
likelihood (Frechet classifier distance and class accuracy).

The Frechet distance between two Gaussians fitted to feature sets (Heusel et al. 2017, the
"FID" with Inception features; here a shipped MNIST classifier's 128-d features):

    d^2 = |mu_1 - mu_2|^2 + tr(S_1 + S_2 - 2 (S_1 S_2)^(1/2))

Lower is better; real train digits against the test split, as many as the samples, are the
floor a perfect model of the data could hope for.
"""

from __future__ import annotations

import numpy as np


def nll_nats(model, binary_images: np.ndarray) -> np.ndarray:
    """-log p(x) of each binary image, nats, through the model's own ``log_prob``: exact for an
    autoregressive model (the chain rule; the class summed out for a conditional one), the IWAE bound
    at the card's k for a VAE."""
    return -model.log_prob(np.asarray(binary_images, np.float32))


def _sqrtm_psd(a: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((a + a.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(features_1: np.ndarray, features_2: np.ndarray) -> float:
    """Squared Frechet distance between Gaussians fitted to two (N, F) feature sets."""
    f1, f2 = np.asarray(features_1, np.float64), np.asarray(features_2, np.float64)
    return frechet_from_stats(f1.mean(0), np.cov(f1, rowvar=False), f2.mean(0), np.cov(f2, rowvar=False))


def frechet_from_stats(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray) -> float:
    """The same distance from the two Gaussians' means and covariances (a bootstrap reuses the samples' own)."""
    # tr((S1 S2)^(1/2)) = tr((S1^(1/2) S2 S1^(1/2))^(1/2)), a symmetric PSD matrix: eigh, no complex parts
    root1 = _sqrtm_psd(s1)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root1 @ s2 @ root1), 0, None)).sum()
    d2 = ((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * cross
    return float(max(d2, 0.0))  # a tiny negative value is round-off of a sum of large terms


def sample_images(model, n: int, seed: int, labels: np.ndarray | None = None, batch: int = 250) -> np.ndarray:
    """n images from any generative model, in batches (batch b drawn with seed + its first index):
    (n, H, W) in [0, 1]."""
    out = []
    for start in range(0, n, batch):
        m = min(batch, n - start)
        out.append(model.sample(m, seed + start, labels=None if labels is None else labels[start : start + m]))
    return np.concatenate(out)


def reference_kind(model) -> str:
    """What a model's samples are compared with: binary samples with the fixed binary test split, the
    others (pixel probabilities, intensities) with the grayscale split. Each against the data it models,
    so no model pays for the binarization itself."""
    return "fixed binary test split" if model.capabilities.sample_kind == "binary" else "grayscale test split"


# ---- comparing models: rank two only where their intervals separate them ---------------------------


def fcd_order(a, b) -> int:
    """-1 if a's samples are closer to the test digits than b's, 1 if farther, 0 if their 95% intervals overlap
    (tied). ``a``, ``b``: inference.cards.SampleQuality from the same judge."""
    lo_a, hi_a = a.fcd_interval or (a.fcd, a.fcd)
    lo_b, hi_b = b.fcd_interval or (b.fcd, b.fcd)
    return -1 if hi_a < lo_b else 1 if hi_b < lo_a else 0


def nll_difference(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Mean and 95% half-width of -log p(x) under a minus under b, paired over the same test images (nats):
    the two models' per-image figures, so the digits' own spread cancels."""
    d = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    return float(d.mean()), float(1.96 * d.std(ddof=1) / np.sqrt(len(d)))


def chain(items: list[tuple[str, float, int]], fmt: str = ",.1f") -> str:
    """Models sorted by a figure, lower first, joined by '<' where the next one is separated from it and by
    '≈' (tied) where not: items are (title, figure, order against the next: -1 separated, 0 tied)."""
    text = ""
    for i, (title, value, order) in enumerate(items):
        text += f"{title} ({value:{fmt}})"
        if i < len(items) - 1:
            text += " < " if order < 0 else " ≈ "
    return text


def fcd_ranking(qualities: dict[str, object]) -> str:
    """{title: SampleQuality} -> the chain by FCD, lower first (see :func:`chain`), then the pairs inside a run of
    ties that the intervals do separate (A ≈ B ≈ C may still have A < C)."""
    ranked = sorted(qualities.items(), key=lambda kv: kv[1].fcd)
    orders = [fcd_order(q, ranked[i + 1][1]) if i + 1 < len(ranked) else 0 for i, (_, q) in enumerate(ranked)]
    text = chain([(t, q.fcd, o) for (t, q), o in zip(ranked, orders, strict=True)])
    hidden = [
        f"{ranked[i][0]} < {ranked[j][0]}"
        for i in range(len(ranked))
        for j in range(i + 2, len(ranked))
        if not any(orders[i:j]) and fcd_order(ranked[i][1], ranked[j][1]) < 0
    ]
    return text + (f"; across the ties, {', '.join(hidden)}" if hidden else "")


def judges_disagree(by_judge: dict[str, dict[str, object]]) -> list[str]:
    """Pairs of models two judges order oppositely, each with its intervals separating them: {judge: {title:
    SampleQuality}} -> sentences. Pairs one judge separates and the other ties are not disagreements."""
    judges = list(by_judge)
    out = []
    for i, j1 in enumerate(judges):
        for j2 in judges[i + 1 :]:
            common = sorted(set(by_judge[j1]) & set(by_judge[j2]))
            for k, a in enumerate(common):
                for b in common[k + 1 :]:
                    o1 = fcd_order(by_judge[j1][a], by_judge[j1][b])
                    o2 = fcd_order(by_judge[j2][a], by_judge[j2][b])
                    if o1 * o2 < 0:
                        first, second = (a, b) if o1 < 0 else (b, a)
                        out.append(f"{j1} puts {first} ahead of {second}, {j2} the reverse")
    return out
