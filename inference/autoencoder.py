"""The autoencoder on the app side: encode, decode, reconstruct, and decode random codes."""

from __future__ import annotations

import numpy as np

from inference.base import OnnxModel, as_batch
from inference.numeric import bernoulli_log_prob, sigmoid


class Autoencoder(OnnxModel):
    """A deterministic code z = f(x); no prior, so "sampling" means decoding codes we pick.

    The VAE (inference/vae.py) is this with a Gaussian encoder and a prior over codes.
    """

    has_encoder = True
    has_latent = True
    image_kind = "binary"  # trained on binarized digits, with a Bernoulli reconstruction loss
    sample_kind = "probabilities"  # decoded pixel probabilities

    def encode(self, x: np.ndarray) -> np.ndarray:
        """(N, H, W) images in [0, 1] -> (N, D) codes."""
        return self.networks["encoder"](as_batch(x, self.image_size))["z"]

    def decode_logits(self, z: np.ndarray) -> np.ndarray:
        return self.networks["decoder"](np.asarray(z, np.float32))["logits"][:, 0]

    def decode(self, z: np.ndarray, labels=None) -> np.ndarray:
        """(N, D) codes -> (N, H, W) pixel probabilities."""
        self.class_labels(labels, len(z))
        return sigmoid(self.decode_logits(z))

    def reconstruct(self, x: np.ndarray) -> np.ndarray:
        return self.decode(self.encode(x))

    def reconstruction_error(self, x: np.ndarray) -> np.ndarray:
        """Bernoulli cross-entropy of the reconstruction, nats per image (the training loss)."""
        x = as_batch(x, self.image_size)[:, 0]
        return -bernoulli_log_prob(self.decode_logits(self.encode(x)), x)

    def random_latents(self, n: int, seed: int, temperature: float = 1.0) -> np.ndarray:
        """Codes from a diagonal Gaussian fitted to the training codes (mean, temperature x std).

        The autoencoder has no prior; this is its best chance. Codes it never produced
        still land in holes between the training codes and decode to non-digits.
        """
        mean = np.asarray(self.card.metrics.code_mean, np.float32)
        std = np.asarray(self.card.metrics.code_std, np.float32)
        eps = np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype(np.float32)
        return mean + temperature * std * eps

    def sample(self, n: int, seed: int, *, temperature: float = 1.0, labels=None) -> np.ndarray:
        self.class_labels(labels, n)
        return self.decode(self.random_latents(n, seed, temperature))
