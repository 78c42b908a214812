"""The autoencoder on the app side: encode, decode, reconstruct, and decode random codes."""

from __future__ import annotations

import numpy as np

from inference.base import OnnxModel, as_batch, bernoulli_log_prob, sigmoid


class Autoencoder(OnnxModel):
    """A deterministic code z = f(x); no prior, so "sampling" means decoding codes we pick."""

    has_prior = False
    sample_kind = "grayscale"  # decoded pixel probabilities

    @property
    def latent_dim(self) -> int:
        return int(self.card["config"]["z_dim"])

    def encode(self, x: np.ndarray) -> np.ndarray:
        """(N, H, W) images in [0, 1] -> (N, D) codes."""
        return self.networks["encoder"](as_batch(x, self.image_size))["z"]

    def decode_logits(self, z: np.ndarray) -> np.ndarray:
        return self.networks["decoder"](np.asarray(z, np.float32))["logits"][:, 0]

    def decode(self, z: np.ndarray) -> np.ndarray:
        """(N, D) codes -> (N, H, W) pixel probabilities."""
        return sigmoid(self.decode_logits(z))

    def reconstruct(self, x: np.ndarray) -> np.ndarray:
        return self.decode(self.encode(x))

    def reconstruction_error(self, x: np.ndarray) -> np.ndarray:
        """Binary cross-entropy of the reconstruction, nats per image (the training loss)."""
        x = as_batch(x, self.image_size)[:, 0]
        return -bernoulli_log_prob(self.decode_logits(self.encode(x)), x)

    def random_latents(self, n: int, seed: int, temperature: float = 1.0) -> np.ndarray:
        """Codes from a diagonal Gaussian fitted to the training codes (mean, temperature x std).

        The autoencoder has no prior; this is its best chance. Codes it never produced
        still land in holes between the training codes and decode to non-digits.
        """
        metrics = self.card["metrics"]
        mean = np.asarray(metrics["code_mean"], np.float32)
        std = np.asarray(metrics["code_std"], np.float32)
        eps = np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype(np.float32)
        return mean + temperature * std * eps

    def sample(self, n: int, seed: int, temperature: float = 1.0) -> np.ndarray:
        return self.decode(self.random_latents(n, seed, temperature))
