"""GANs on the app side: a generator to sample from, a discriminator to ask "real?"."""

from __future__ import annotations

import numpy as np

from inference.base import OnnxModel, as_batch, sigmoid


class GAN(OnnxModel):
    """No likelihood and no encoder: z ~ N(0, I) -> G(z [, y]) is all there is."""

    has_prior = True  # noise from N(0, I): temperature scales it like a latent model's prior
    sample_kind = "grayscale"

    @property
    def latent_dim(self) -> int:
        return int(self.card["config"]["z_dim"])

    @property
    def conditional(self) -> bool:
        return int(self.card["config"].get("num_classes", 0)) > 0

    def one_hot(self, labels, n: int) -> np.ndarray:
        k = int(self.card["config"]["num_classes"])
        labels = np.broadcast_to(np.asarray(labels), (n,)).astype(np.int64)
        if labels.min() < 0 or labels.max() >= k:
            raise ValueError(f"class labels must be in 0..{k - 1}")
        return np.eye(k, dtype=np.float32)[labels]

    def random_latents(self, n: int, seed: int, temperature: float = 1.0) -> np.ndarray:
        return (temperature * np.random.default_rng(seed).standard_normal((n, self.latent_dim))).astype(np.float32)

    def decode(self, z: np.ndarray, labels=None) -> np.ndarray:
        """(N, z_dim) noise [and classes] -> (N, H, W) grayscale images in [0, 1]."""
        z = np.asarray(z, np.float32)
        feeds: tuple = (z,)
        if self.conditional:
            if labels is None:
                raise ValueError("this GAN is class-conditional: pass labels")
            feeds = (z, self.one_hot(labels, len(z)))
        return self.networks["generator"](*feeds)["images"][:, 0]

    def sample(self, n: int, seed: int, temperature: float = 1.0, labels=None) -> np.ndarray:
        return self.decode(self.random_latents(n, seed, temperature), labels)

    def realness(self, x: np.ndarray, labels=None) -> np.ndarray:
        """D(x): the discriminator's probability that each image is real."""
        x = as_batch(x, self.image_size)
        feeds = (x, self.one_hot(labels, len(x))) if self.conditional else (x,)
        return sigmoid(self.networks["discriminator"](*feeds)["logit"])
