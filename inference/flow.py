"""A normalizing flow on the app side: an exact code for every image, decoded back exactly, and an exact density.

The encoder network maps a dequantized image y in (0, 1) to its code z and log |det dz/dy|; the decoder is
its inverse. On the 8-bit track an image is pixel values k / 255: its probability is bounded below by the
density of y = (k + u) / 256 (u uniform in [0, 1) per pixel) less D log 256 nats.
"""

from __future__ import annotations

import math

import numpy as np

from inference.base import OnnxModel, as_batch
from inference.numeric import diagonal_gaussian_log_prob


class Flow(OnnxModel):
    has_encoder = True
    has_prior = True
    has_latent = True
    image_kind = "grayscale"  # 8-bit pixel values, dequantized
    sample_kind = "grayscale"

    @classmethod
    def latent_size(cls, card) -> int:
        return int(card.config["image_size"]) ** 2  # the code is as large as the image

    def dequantize(self, x: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """Intensities k / 255 -> (k + u) / 256: u uniform from ``rng``, or 1/2 (each pixel's bin centre)."""
        k = np.round(as_batch(x, self.image_size) * 255)
        u = 0.5 if rng is None else rng.random(k.shape, dtype=np.float32)
        return ((k + u) / 256).astype(np.float32)

    def encode(self, x: np.ndarray) -> np.ndarray:
        """(N, H, W) intensities in [0, 1] -> (N, H*W) codes, each pixel at the centre of its 8-bit bin."""
        return self.networks["encoder"](self.dequantize(x))["z"]

    def decode(self, z: np.ndarray, labels=None) -> np.ndarray:
        """(N, H*W) codes -> (N, H, W) intensities in [0, 1]: the decoded y = (k + u) / 256 read back as k / 255
        with k + u at the centre of its bin, so that decode(encode(x)) is x."""
        self.class_labels(labels, len(z))
        y = self.networks["decoder"](np.asarray(z, np.float32))["x"][:, 0]
        return np.clip((256 * y - 0.5) / 255, 0.0, 1.0)

    def reconstruct(self, x: np.ndarray) -> np.ndarray:
        """Exact, up to the 8-bit bins: the flow is invertible."""
        return self.decode(self.encode(x))

    def reconstruction_error(self, x: np.ndarray) -> np.ndarray:
        """Squared error of the reconstruction in 8-bit levels, summed per image (0 up to round-off)."""
        x = as_batch(x, self.image_size)[:, 0]
        return ((np.round(self.reconstruct(x) * 255) - np.round(x * 255)) ** 2).reshape(len(x), -1).sum(1)

    def random_latents(self, n: int, seed: int, temperature: float = 1.0) -> np.ndarray:
        """z ~ N(0, temperature^2 I): below 1, the typical set's smoother, cleaner digits (Kingma and Dhariwal)."""
        eps = np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype(np.float32)
        return temperature * eps

    def sample(self, n: int, seed: int, *, temperature: float = 1.0, labels=None) -> np.ndarray:
        self.class_labels(labels, n)
        return self.decode(self.random_latents(n, seed, temperature))

    def log_prob(self, x: np.ndarray, *, seed: int = 0) -> np.ndarray:
        """log P(k) of 8-bit images, bounded below by one uniform dequantization (seeded): nats per image."""
        y = self.dequantize(x, np.random.default_rng(seed))
        out = self.networks["encoder"](y)
        dims = y[0].size
        return diagonal_gaussian_log_prob(out["z"].astype(np.float64), 0.0) + out["logdet"] - dims * math.log(256)
