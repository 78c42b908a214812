"""What every model family on the app side shares: its card, its networks, its name."""

from __future__ import annotations

import math

import numpy as np

from inference.runtime import Network


def sigmoid(logits: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * logits))  # overflow-free form of 1 / (1 + exp(-x))


def bernoulli_log_prob(logits: np.ndarray, x: np.ndarray) -> np.ndarray:
    """log p(x | logits), summed over all but the first axis: nats per image."""
    # log sigmoid(l) = -softplus(-l); x log s + (1 - x) log (1 - s) = x l - softplus(l)
    log_p = x * logits - np.logaddexp(0.0, logits)
    return log_p.reshape(len(log_p), -1).sum(1)


def bits_per_dim(nats: float | np.ndarray, num_pixels: int = 784) -> float | np.ndarray:
    return nats / (num_pixels * math.log(2))


def as_batch(x: np.ndarray, image_size: int) -> np.ndarray:
    """(H, W), (N, H, W) or (N, 1, H, W) images -> (N, 1, H, W) float32."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 2:
        x = x[None]
    if x.ndim == 3:
        x = x[:, None]
    if x.shape[1:] != (1, image_size, image_size):
        raise ValueError(f"expected images of {image_size} x {image_size}, got shape {x.shape}")
    return x


class OnnxModel:
    """A model as the app sees it: a model card and its ONNX networks by role."""

    def __init__(self, card: dict, networks: dict[str, Network]):
        self.card = card
        self.networks = networks

    @property
    def name(self) -> str:
        return self.card["name"]

    @property
    def title(self) -> str:
        return self.card.get("title", self.name)

    @property
    def image_size(self) -> int:
        return int(self.card["config"]["image_size"])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"
