"""The VAE on the app side: encoder q(z|x), decoder p(x|z), prior N(0, I), ELBO and IWAE in numpy."""

from __future__ import annotations

import math

import numpy as np

from inference.base import OnnxModel, as_batch, bernoulli_log_prob, sigmoid

LOG_2PI = math.log(2 * math.pi)


class VAE(OnnxModel):
    has_prior = True
    sample_kind = "grayscale"  # decoded pixel probabilities

    @property
    def latent_dim(self) -> int:
        return int(self.card["config"]["z_dim"])

    def encode(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, H, W) images in [0, 1] -> mu, logvar of q(z|x), each (N, D)."""
        out = self.networks["encoder"](as_batch(x, self.image_size))
        return out["mu"], out["logvar"]

    def decode_logits(self, z: np.ndarray) -> np.ndarray:
        return self.networks["decoder"](np.asarray(z, np.float32))["logits"][:, 0]

    def decode(self, z: np.ndarray) -> np.ndarray:
        """(N, D) latents -> (N, H, W) Bernoulli means of p(x|z)."""
        return sigmoid(self.decode_logits(z))

    def reconstruct(self, x: np.ndarray) -> np.ndarray:
        """Decode the posterior mean: the most typical reconstruction."""
        mu, _ = self.encode(x)
        return self.decode(mu)

    def reconstruction_error(self, x: np.ndarray) -> np.ndarray:
        """Binary cross-entropy of the posterior-mean reconstruction, nats per image."""
        x = as_batch(x, self.image_size)[:, 0]
        mu, _ = self.encode(x)
        return -bernoulli_log_prob(self.decode_logits(mu), x)

    def random_latents(self, n: int, seed: int, temperature: float = 1.0) -> np.ndarray:
        """z ~ N(0, temperature^2 I): the prior, sharpened (< 1) or widened (> 1)."""
        eps = np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype(np.float32)
        return temperature * eps

    def sample(self, n: int, seed: int, temperature: float = 1.0) -> np.ndarray:
        return self.decode(self.random_latents(n, seed, temperature))

    def _log_weights(self, x: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """log p(x, z_i) - log q(z_i | x) for k posterior samples: (k, N), and the KL terms."""
        x = as_batch(x, self.image_size)
        mu, logvar = self.encode(x)  # (N, D)
        std = np.exp(0.5 * logvar)
        eps = rng.standard_normal((k, *mu.shape)).astype(np.float32)  # (k, N, D)
        z = mu + eps * std
        log_q = (-0.5 * (eps**2 + LOG_2PI) - 0.5 * logvar).sum(-1)
        log_p_z = (-0.5 * (z**2 + LOG_2PI)).sum(-1)
        logits = self.decode_logits(z.reshape(-1, mu.shape[1]))  # (k*N, H, W)
        x_rep = np.broadcast_to(x[:, 0], (k, *x.shape[:1], *x.shape[2:])).reshape(logits.shape)
        log_px_z = bernoulli_log_prob(logits, x_rep).reshape(k, -1)
        return log_px_z + log_p_z - log_q, log_px_z

    def elbo(self, x: np.ndarray, seed: int = 0) -> np.ndarray:
        """One-sample ELBO per image, nats (analytic KL, as in training)."""
        x = as_batch(x, self.image_size)
        mu, logvar = self.encode(x)
        eps = np.random.default_rng(seed).standard_normal(mu.shape).astype(np.float32)
        logits = self.decode_logits(mu + eps * np.exp(0.5 * logvar))
        kl = 0.5 * (mu**2 + np.exp(logvar) - 1 - logvar).sum(1)
        return bernoulli_log_prob(logits, x[:, 0]) - kl

    def log_likelihood(self, x: np.ndarray, k: int = 200, seed: int = 0, chunk: int = 50) -> np.ndarray:
        """IWAE estimate of log p(x) per image with k importance samples, nats (a lower bound)."""
        rng = np.random.default_rng(seed)
        log_w = np.concatenate([self._log_weights(x, min(chunk, k - s), rng)[0] for s in range(0, k, chunk)])
        top = log_w.max(0)
        return top + np.log(np.exp(log_w - top).sum(0)) - math.log(k)
