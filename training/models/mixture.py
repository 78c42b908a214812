"""Gaussian mixture densities: the classic explicit model, fitted by EM (Dempster et al. 1977).

p(x) = sum_k pi_k N(x; mu_k, Sigma_k). The parameters are fitted with scikit-learn's EM at
training time and frozen into this module, which computes the exact log p(x) with the
log-sum-exp trick and draws samples from noise inputs, both exported to ONNX.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from training.models.base import Method, Network


@dataclass
class MixtureConfig:
    dim: int = 2
    components: int = 16
    weights: list = field(default_factory=list)  # filled in by fit()
    means: list = field(default_factory=list)
    cholesky: list = field(default_factory=list)  # lower-triangular factors of the covariances


class GaussianMixture(nn.Module):
    Config = MixtureConfig

    def __init__(self, config: MixtureConfig):
        super().__init__()
        self.config = c = config
        K, D = c.components, c.dim
        w = torch.tensor(c.weights, dtype=torch.float32) if c.weights else torch.full((K,), 1.0 / K)
        mu = torch.tensor(c.means, dtype=torch.float32) if c.means else torch.zeros(K, D)
        L = torch.tensor(c.cholesky, dtype=torch.float32) if c.cholesky else torch.eye(D).repeat(K, 1, 1)
        self.register_buffer("log_weights", torch.log(w))
        self.register_buffer("means", mu)
        self.register_buffer("chol", L)
        self.register_buffer("chol_inv", torch.linalg.inv(L))
        self.register_buffer("log_det", torch.log(torch.diagonal(L, dim1=-2, dim2=-1)).sum(-1))  # log|L| = log|S|/2

    @classmethod
    def fit(cls, data: np.ndarray, components: int, seed: int = 0) -> GaussianMixture:
        from sklearn.mixture import GaussianMixture as SkGMM

        gm = SkGMM(components, covariance_type="full", random_state=seed, max_iter=500, n_init=2).fit(data)
        chol = np.linalg.cholesky(gm.covariances_)
        return cls(MixtureConfig(data.shape[1], components, gm.weights_.tolist(), gm.means_.tolist(), chol.tolist()))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        D = self.config.dim
        diff = x[:, None, :] - self.means[None]  # (N, K, D)
        white = torch.einsum("kij,nkj->nki", self.chol_inv, diff)
        log_n = -0.5 * (white**2).sum(-1) - self.log_det - 0.5 * D * math.log(2 * math.pi)
        return torch.logsumexp(log_n + self.log_weights, dim=1)

    def sample_from(self, noise: torch.Tensor) -> torch.Tensor:
        """noise (N, 1 + D): a uniform that picks the component, then standard normals."""
        cdf = torch.cumsum(self.log_weights.exp(), 0)
        k = (noise[:, :1] > cdf[None, :-1]).sum(1)  # comparisons, not searchsorted: plain ONNX
        onehot = nn.functional.one_hot(k, self.config.components).to(noise.dtype)
        mu = onehot @ self.means
        L = torch.einsum("nk,kij->nij", onehot, self.chol)
        return mu + torch.einsum("nij,nj->ni", L, noise[:, 1:])

    def networks(self) -> dict[str, Network]:
        D = self.config.dim
        return {
            "log_prob": Network(Method(self, "log_prob"), (torch.zeros(2, D),), ["x"], ["log_prob"]),
            "sample": Network(Method(self, "sample_from"), (torch.zeros(2, 1 + D),), ["noise"], ["x"]),
        }
