"""GANs on the app side: a generator to sample from, a discriminator to ask "real?"."""

from __future__ import annotations

import numpy as np

from inference.base import OnnxModel, as_batch
from inference.numeric import sigmoid


class GAN(OnnxModel):
    """No likelihood and no encoder: z ~ N(0, I) -> G(z [, y]) is all there is."""

    has_prior = True  # noise from N(0, I): temperature scales it like a latent model's prior
    has_latent = True
    image_kind = "grayscale"  # trained on intensities / 255, not binarized
    sample_kind = "grayscale"

    def random_latents(self, n: int, seed: int, temperature: float = 1.0) -> np.ndarray:
        return (temperature * np.random.default_rng(seed).standard_normal((n, self.latent_dim))).astype(np.float32)

    def _feeds(self, first: np.ndarray, labels) -> tuple[np.ndarray, ...]:
        labels = self.class_labels(labels, len(first))
        return (first,) if labels is None else (first, self.one_hot(labels, len(first)))

    def decode(self, z: np.ndarray, labels=None) -> np.ndarray:
        """(N, z_dim) noise [and classes] -> (N, H, W) grayscale images in [0, 1]."""
        return self.networks["generator"](*self._feeds(np.asarray(z, np.float32), labels))["images"][:, 0]

    def sample(self, n: int, seed: int, *, temperature: float = 1.0, labels=None) -> np.ndarray:
        return self.decode(self.random_latents(n, seed, temperature), labels)

    def realness(self, x: np.ndarray, labels=None) -> np.ndarray:
        """D(x): the discriminator's probability that each image is real. With its minibatch-stddev
        feature, D scores an image partly by the rest of its batch: score a fixed-size batch."""
        return sigmoid(self.networks["discriminator"](*self._feeds(as_batch(x, self.image_size), labels))["logit"])
