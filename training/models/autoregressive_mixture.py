"""A 2-D autoregressive density: p(x1, x2) = p(x1) p(x2 | x1), each a mixture of Gaussians.

The chain rule again, as in PixelCNN, on two coordinates: p(x1) is a mixture with free
parameters and p(x2 | x1) a mixture density network (Bishop 1994) whose weights, means and
widths an MLP computes from x1. Exact log p(x); samples by drawing x1, then x2 given x1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from training.models.base import Method, Network


@dataclass
class ARMixtureConfig:
    components: int = 20
    hidden: int = 128
    shift: tuple[float, float] = (0.0, 0.0)  # standardization, set from the data
    scale: tuple[float, float] = (1.0, 1.0)


def mixture_log_prob(
    x: torch.Tensor, logits: torch.Tensor, means: torch.Tensor, log_stds: torch.Tensor
) -> torch.Tensor:
    """log sum_k pi_k N(x; m_k, s_k^2) for 1-D x (N,) and per-row mixtures (N, K)."""
    z = (x[:, None] - means) / log_stds.exp()
    log_n = -0.5 * z**2 - log_stds - 0.5 * math.log(2 * math.pi)
    return torch.logsumexp(F.log_softmax(logits, dim=1) + log_n, dim=1)


class ARMixture(nn.Module):
    Config = ARMixtureConfig

    def __init__(self, config: ARMixtureConfig):
        super().__init__()
        self.config = c = config
        K = c.components
        self.x1_logits = nn.Parameter(torch.zeros(K))
        self.x1_means = nn.Parameter(torch.linspace(-2, 2, K))
        self.x1_log_stds = nn.Parameter(torch.full((K,), -1.0))
        self.mdn = nn.Sequential(
            nn.Linear(1, c.hidden), nn.Tanh(), nn.Linear(c.hidden, c.hidden), nn.Tanh(), nn.Linear(c.hidden, 3 * K)
        )
        self.register_buffer("shift", torch.tensor(c.shift, dtype=torch.float32))
        self.register_buffer("scale", torch.tensor(c.scale, dtype=torch.float32))

    def x2_params(self, x1: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        logits, means, log_stds = self.mdn(x1[:, None]).chunk(3, dim=1)
        return logits, means, log_stds.clamp(-7, 3)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        u = (x - self.shift) / self.scale  # standardized; the log-det of the scaling counts
        N = u.shape[0]  # not len(u): keeps the batch dynamic in export
        lp1 = mixture_log_prob(
            u[:, 0],
            self.x1_logits.expand(N, -1),
            self.x1_means.expand(N, -1),
            self.x1_log_stds.clamp(-7, 3).expand(N, -1),
        )
        lp2 = mixture_log_prob(u[:, 1], *self.x2_params(u[:, 0]))
        return lp1 + lp2 - torch.log(self.scale).sum()

    def _draw(self, logits, means, log_stds, u, e):
        cdf = torch.cumsum(F.softmax(logits, dim=1), dim=1)
        k = (u[:, None] > cdf[:, :-1]).sum(1)
        onehot = F.one_hot(k, self.config.components).to(u.dtype)
        return (onehot * means).sum(1) + (onehot * log_stds.exp()).sum(1) * e

    def sample_from(self, noise: torch.Tensor) -> torch.Tensor:
        """noise (N, 4): uniform and normal for x1, then uniform and normal for x2."""
        N = noise.shape[0]
        x1 = self._draw(
            self.x1_logits.expand(N, -1),
            self.x1_means.expand(N, -1),
            self.x1_log_stds.clamp(-7, 3).expand(N, -1),
            noise[:, 0],
            noise[:, 1],
        )
        x2 = self._draw(*self.x2_params(x1), noise[:, 2], noise[:, 3])
        return torch.stack([x1, x2], 1) * self.scale + self.shift

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        nll = -self.log_prob(x).mean()
        return {"loss": nll, "nll": nll}

    def networks(self) -> dict[str, Network]:
        return {
            "log_prob": Network(Method(self, "log_prob"), (torch.zeros(2, 2),), ["x"], ["log_prob"]),
            "sample": Network(Method(self, "sample_from"), (torch.zeros(2, 4),), ["noise"], ["x"]),
        }
