"""Variational autoencoder (Kingma and Welling 2014).

Gaussian q(z|x) = N(mu(x), diag(exp(logvar(x)))), standard normal prior p(z), Bernoulli
p(x|z) with logits from the decoder. Trained by maximizing the ELBO,

    log p(x) >= E_q[log p(x|z)] - KL(q(z|x) || p(z)),

and evaluated with the importance-weighted bound of Burda et al. (2016), which tends to
log p(x) as k grows:  log p(x) >= E[log (1/k) sum_i p(x, z_i) / q(z_i|x)].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from inference.numeric import LOG_2PI
from training.layers import ConvDecoder, ConvEncoder
from training.models.base import Network, bernoulli_log_prob


@dataclass
class VAEConfig:
    image_size: int = 28
    z_dim: int = 16
    # Not tuned: the project's first choice, small enough to train in minutes on a CPU. Only the epoch
    # is chosen, on the validation split (the trainer keeps the epoch with the lowest validation loss).
    channels: tuple[int, int] = (16, 32)
    hidden: int = 256


class GaussianEncoder(nn.Module):
    """(B, 1, S, S) -> mu, logvar, each (B, z_dim)."""

    def __init__(self, c: VAEConfig):
        super().__init__()
        self.net = ConvEncoder(c.image_size, 2 * c.z_dim, tuple(c.channels), c.hidden)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.net(x).chunk(2, dim=1)
        return mu, logvar


class VAE(nn.Module):
    Config = VAEConfig

    def __init__(self, config: VAEConfig):
        super().__init__()
        self.config = config
        self.encoder = GaussianEncoder(config)
        self.decoder = ConvDecoder(config.image_size, config.z_dim, tuple(config.channels), config.hidden)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)  # Bernoulli logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction logits from the posterior mean."""
        mu, _ = self.encode(x)
        return self.decode(mu)

    def elbo_terms(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-image E_q[log p(x|z)] (one reparameterized sample) and KL(q || p), in nats."""
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        log_px_z = bernoulli_log_prob(self.decode(z), x)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)  # analytic, N(mu, s2) || N(0, 1)
        return log_px_z, kl

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        log_px_z, kl = self.elbo_terms(x)
        recon, kl = -log_px_z.mean(), kl.mean()
        return {"loss": recon + kl, "recon": recon, "kl": kl}

    def elbo(self, x: torch.Tensor) -> torch.Tensor:
        log_px_z, kl = self.elbo_terms(x)
        return log_px_z - kl

    def iwae_bound(self, x: torch.Tensor, k: int = 200, chunk: int = 50) -> torch.Tensor:
        """Per-image importance-weighted lower bound on log p(x) with k samples, in nats."""
        B = x.shape[0]
        mu, logvar = self.encode(x)  # (B, D)
        std = (0.5 * logvar).exp()
        log_w = []
        for start in range(0, k, chunk):
            n = min(chunk, k - start)
            eps = torch.randn(n, *mu.shape, device=x.device)  # (n, B, D)
            z = mu + eps * std
            log_q = (-0.5 * (eps.pow(2) + LOG_2PI) - 0.5 * logvar).sum(-1)  # (n, B)
            log_p_z = (-0.5 * (z.pow(2) + LOG_2PI)).sum(-1)
            logits = self.decode(z.reshape(n * B, -1))
            log_px_z = bernoulli_log_prob(logits, x.repeat(n, 1, 1, 1)).reshape(n, B)
            log_w.append(log_px_z + log_p_z - log_q)
        return torch.logsumexp(torch.cat(log_w), dim=0) - math.log(k)

    def networks(self) -> dict[str, Network]:
        c = self.config
        x = torch.zeros(2, 1, c.image_size, c.image_size)
        z = torch.zeros(2, c.z_dim)
        return {
            "encoder": Network(self.encoder, (x,), ["x"], ["mu", "logvar"]),
            "decoder": Network(self.decoder, (z,), ["z"], ["logits"]),
        }
