"""A VAE on 2-D points: an approximate density, estimated by importance sampling.

Encoder q(z | x) and decoder p(x | z) are Gaussian MLPs with a 2-d latent and a N(0, I)
prior. Like the image VAE it trains on the ELBO, and its density is only available as an
estimate: log p(x) ~= log (1/k) sum_i p(x, z_i) / q(z_i | x), z_i ~ q(z | x), which the app
computes through the exported encoder and decoder. Points are standardized first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from inference.numeric import LOG_2PI
from training.models.base import Network


@dataclass
class PointVAEConfig:
    z_dim: int = 2
    hidden: int = 128
    max_decoder_std: float = 0.1
    shift: tuple[float, float] = (0.0, 0.0)
    scale: tuple[float, float] = (1.0, 1.0)


def mlp(i: int, h: int, o: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(i, h), nn.SiLU(), nn.Linear(h, h), nn.SiLU(), nn.Linear(h, o))


class PointVAE(nn.Module):
    Config = PointVAEConfig

    def __init__(self, config: PointVAEConfig):
        super().__init__()
        self.config = c = config
        self.encoder = _Gaussian(mlp(2, c.hidden, 2 * c.z_dim))
        # The decoder's noise may not exceed max_decoder_std (standardized units): a decoder that
        # could explain every point as one broad Gaussian would ignore z (posterior collapse).
        self.decoder = _Gaussian(mlp(c.z_dim, c.hidden, 4), max_logvar=2 * math.log(c.max_decoder_std))
        self.register_buffer("shift", torch.tensor(c.shift, dtype=torch.float32))
        self.register_buffer("scale", torch.tensor(c.scale, dtype=torch.float32))
        self.beta = 1.0  # weight of the KL term; the trainer warms it up from 0 against posterior collapse

    def standardize(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.shift) / self.scale

    def log_weights(self, x: torch.Tensor, k: int, beta: float = 1.0) -> torch.Tensor:
        """log p(x | z_i) + beta (log p(z_i) - log q(z_i | x)) for k posterior samples, (k, N), in the
        data's units; beta = 1 gives the importance weights of log p(x)."""
        u = self.standardize(x)
        mu, logvar = self.encoder(u)
        eps = torch.randn(k, *mu.shape)
        z = mu + eps * (0.5 * logvar).exp()
        log_q = (-0.5 * (eps**2 + LOG_2PI) - 0.5 * logvar).sum(-1)
        log_pz = (-0.5 * (z**2 + LOG_2PI)).sum(-1)
        m, lv = self.decoder(z.reshape(-1, z.shape[-1]))
        m, lv = m.reshape(k, -1, 2), lv.reshape(k, -1, 2)
        log_px = (-0.5 * ((u - m) ** 2 / lv.exp() + lv + LOG_2PI)).sum(-1)
        return log_px + beta * (log_pz - log_q) - torch.log(self.scale).sum()

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        objective = self.log_weights(x, 1, self.beta)[0].mean()
        return {"loss": -objective, "neg_elbo": -objective}

    def log_prob(self, x: torch.Tensor, k: int = 500) -> torch.Tensor:
        """Importance-sampled estimate of log p(x) (the IWAE bound), nats."""
        return torch.logsumexp(self.log_weights(x, k), 0) - math.log(k)

    def networks(self) -> dict[str, Network]:
        return {
            "encoder": Network(self.encoder, (torch.zeros(2, 2),), ["u"], ["mu", "logvar"]),
            "decoder": Network(self.decoder, (torch.zeros(2, self.config.z_dim),), ["z"], ["mean", "logvar"]),
        }


class _Gaussian(nn.Module):
    """An MLP whose output is split into a mean and a log-variance, the latter kept in range."""

    def __init__(self, net: nn.Module, max_logvar: float = 5.0):
        super().__init__()
        self.net = net
        self.max_logvar = max_logvar

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, logvar = self.net(x).chunk(2, dim=-1)
        return mean, logvar.clamp(min=-10.0, max=float(self.max_logvar))
