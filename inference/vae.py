"""The VAE on the app side: encoder q(z|x), decoder p(x|z), prior N(0, I), ELBO and IWAE in numpy."""

from __future__ import annotations

import numpy as np

from inference.autoencoder import Autoencoder
from inference.base import as_batch
from inference.numeric import bernoulli_log_prob, diagonal_gaussian_log_prob, log_mean_exp

DEFAULT_IWAE_K = 200  # where a card does not say which k its figures use


class VAE(Autoencoder):
    has_prior = True

    @property
    def iwae_k(self) -> int:
        """The importance samples of the card's likelihood figures, so live figures match the card's."""
        return int(self.card.metrics.iwae_k or DEFAULT_IWAE_K)

    def posterior(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, H, W) images in [0, 1] -> mu, logvar of q(z|x), each (N, D)."""
        out = self.networks["encoder"](as_batch(x, self.image_size))
        return out["mu"], out["logvar"]

    def encode(self, x: np.ndarray) -> np.ndarray:
        """The posterior mean: the most typical code of an image."""
        return self.posterior(x)[0]

    def random_latents(self, n: int, seed: int, temperature: float = 1.0) -> np.ndarray:
        """z ~ N(0, temperature^2 I): the prior, sharpened (< 1) or widened (> 1)."""
        eps = np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype(np.float32)
        return temperature * eps

    def _log_weights(self, x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
        """log p(x, z_i) - log q(z_i | x) for k posterior samples: (k, N)."""
        x = as_batch(x, self.image_size)
        mu, logvar = self.posterior(x)  # (N, D)
        eps = rng.standard_normal((k, *mu.shape)).astype(np.float32)  # (k, N, D)
        z = mu + eps * np.exp(0.5 * logvar)
        log_q = diagonal_gaussian_log_prob(eps, 0.0) - 0.5 * logvar.sum(-1)  # z = mu + std * eps
        log_p_z = diagonal_gaussian_log_prob(z, 0.0)
        logits = self.decode_logits(z.reshape(-1, mu.shape[1]))  # (k*N, H, W)
        x_rep = np.broadcast_to(x[:, 0], (k, *x.shape[:1], *x.shape[2:])).reshape(logits.shape)
        log_px_z = bernoulli_log_prob(logits, x_rep).reshape(k, -1)
        return log_px_z + log_p_z - log_q

    def elbo_terms(self, x: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """One-sample E_q[log p(x|z)] and the analytic KL(q(z|x) || p(z)) per image, nats (as in training)."""
        x = as_batch(x, self.image_size)
        mu, logvar = self.posterior(x)
        eps = np.random.default_rng(seed).standard_normal(mu.shape).astype(np.float32)
        logits = self.decode_logits(mu + eps * np.exp(0.5 * logvar))
        kl = 0.5 * (mu**2 + np.exp(logvar) - 1 - logvar).sum(1)
        return bernoulli_log_prob(logits, x[:, 0]), kl

    def elbo(self, x: np.ndarray, seed: int = 0) -> np.ndarray:
        """One-sample ELBO per image, nats."""
        log_px_z, kl = self.elbo_terms(x, seed)
        return log_px_z - kl

    def log_prob(self, x: np.ndarray, *, k: int | None = None, seed: int = 0, chunk: int = 50) -> np.ndarray:
        """IWAE estimate of log p(x) per image with k importance samples (default: the card's), nats: a lower
        bound that tightens as k grows (Burda et al. 2016)."""
        k = self.iwae_k if k is None else int(k)
        rng = np.random.default_rng(seed)
        log_w = np.concatenate([self._log_weights(x, min(chunk, k - s), rng) for s in range(0, k, chunk)])
        return log_mean_exp(log_w, axis=0)
