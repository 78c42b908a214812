"""A normalizing flow for low-dimensional data: rational-quadratic spline couplings (Durkan et al. 2019).

A flow is an invertible map f from data x to a standard normal z, so the density is exact:

    log p(x) = log N(f(x); 0, I) + log |det df/dx|.

Each coupling layer leaves one coordinate alone and passes the other through a monotone
rational-quadratic spline on [-B, B] (identity outside) whose knots an MLP computes from
the untouched coordinate; layers alternate which coordinate moves. Splines bend far more
than the affine maps of RealNVP, which is what the sharp modes of the toy sets need. The
data are standardized by a fixed affine map first (part of the flow, so log-dets count it).

In 1-D there is nothing to condition on: each layer's spline parameters are free
parameters, and a few stacked splines make a flexible monotone map of the line.

Exported networks: ``log_prob`` (x -> log p(x), the density the app draws) and ``sample``
(z -> x, the inverse, for samples).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from training.models.base import Method, Network

MIN_BIN = 1e-3
MIN_DERIVATIVE = 1e-3


@dataclass
class SplineFlowConfig:
    dim: int = 2
    layers: int = 8
    bins: int = 16
    bound: float = 5.0  # the splines act on [-B, B] of standardized data; identity outside
    hidden: int = 64
    shift: tuple[float, ...] = (0.0, 0.0)  # standardization: (x - shift) / scale, set from data
    scale: tuple[float, ...] = (1.0, 1.0)


def _knots(raw: torch.Tensor, bound: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Unnormalized widths (..., K) -> bin sizes and left knots on [-B, B], each (..., K)."""
    K = raw.shape[-1]
    size = MIN_BIN + (1 - MIN_BIN * K) * F.softmax(raw, dim=-1)
    size = 2 * bound * size
    left = -bound + torch.cumsum(size, dim=-1) - size
    return size, left


def _pick(values: torch.Tensor, onehot: torch.Tensor) -> torch.Tensor:
    return (values * onehot).sum(-1)


def rq_spline(x: torch.Tensor, params: torch.Tensor, bound: float, inverse: bool = False):
    """Monotone rational-quadratic spline, elementwise. x (N,), params (N, 3K-1) -> y (N,), log|dy/dx| (N,).

    Written with comparisons and one-hot sums instead of searchsorted/gather, so it exports
    to plain ONNX operators.
    """
    K = (params.shape[-1] + 1) // 3
    widths, left_x = _knots(params[..., :K], bound)
    heights, left_y = _knots(params[..., K : 2 * K], bound)
    inner = MIN_DERIVATIVE + F.softplus(params[..., 2 * K :])  # derivatives at the K-1 inner knots
    ones = torch.ones_like(inner[..., :1])  # slope 1 at +-B: the spline meets the identity tails smoothly
    d = torch.cat([ones, inner, ones], dim=-1)  # (N, K+1)

    inside = (x > -bound) & (x < bound)
    xc = x.clamp(-bound + 1e-6, bound - 1e-6)
    knots = left_y if inverse else left_x
    bin_idx = (xc[..., None] >= knots[..., 1:]).sum(-1)  # (N,) in 0..K-1
    onehot = F.one_hot(bin_idx, K).to(x.dtype)
    w, h = _pick(widths, onehot), _pick(heights, onehot)
    x0, y0 = _pick(left_x, onehot), _pick(left_y, onehot)
    d0, d1 = _pick(d[..., :-1], onehot), _pick(d[..., 1:], onehot)
    s = h / w

    if not inverse:
        xi = (xc - x0) / w
        t = xi * (1 - xi)
        denom = s + (d1 + d0 - 2 * s) * t
        y = y0 + h * (s * xi**2 + d0 * t) / denom
        deriv = s**2 * (d1 * xi**2 + 2 * s * t + d0 * (1 - xi) ** 2) / denom**2
    else:
        dy = xc - y0
        a = h * (s - d0) + dy * (d1 + d0 - 2 * s)
        b = h * d0 - dy * (d1 + d0 - 2 * s)
        c = -s * dy
        disc = (b**2 - 4 * a * c).clamp_min(0)
        xi = (2 * c) / (-b - torch.sqrt(disc))
        y = x0 + xi * w
        t = xi * (1 - xi)
        denom = s + (d1 + d0 - 2 * s) * t
        deriv = 1 / (s**2 * (d1 * xi**2 + 2 * s * t + d0 * (1 - xi) ** 2) / denom**2)
    y = torch.where(inside, y, x)
    log_det = torch.where(inside, torch.log(deriv), torch.zeros_like(x))
    return y, log_det


class Coupling(nn.Module):
    """Moves coordinate ``moved``; its spline's knots come from the other coordinates (or are free in 1-D)."""

    def __init__(self, dim: int, moved: int, bins: int, hidden: int):
        super().__init__()
        self.moved, self.dim = moved, dim
        n_params = 3 * bins - 1
        if dim == 1:
            self.free = nn.Parameter(torch.zeros(n_params))
            self.net = None
        else:
            self.net = nn.Sequential(
                nn.Linear(dim - 1, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, n_params)
            )
            nn.init.zeros_(self.net[-1].weight)  # start as the identity map
            nn.init.zeros_(self.net[-1].bias)

    def params(self, x: torch.Tensor) -> torch.Tensor:
        if self.net is None:
            return self.free.expand(x.shape[0], -1)  # x.shape[0], not len(x): keeps the batch dynamic in export
        keep = torch.cat([x[:, : self.moved], x[:, self.moved + 1 :]], dim=1)
        return self.net(keep)

    def forward(self, x: torch.Tensor, bound: float, inverse: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        y, log_det = rq_spline(x[:, self.moved], self.params(x), bound, inverse)
        out = torch.cat([x[:, : self.moved], y[:, None], x[:, self.moved + 1 :]], dim=1)
        return out, log_det


class SplineFlow(nn.Module):
    Config = SplineFlowConfig

    def __init__(self, config: SplineFlowConfig):
        super().__init__()
        self.config = c = config
        self.couplings = nn.ModuleList(Coupling(c.dim, i % c.dim, c.bins, c.hidden) for i in range(c.layers))
        self.register_buffer("shift", torch.tensor(c.shift[: c.dim], dtype=torch.float32))
        self.register_buffer("scale", torch.tensor(c.scale[: c.dim], dtype=torch.float32))

    def to_latent(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (N, D) -> z (N, D) and log|det dz/dx| (N,)."""
        z = (x - self.shift) / self.scale
        log_det = x.new_zeros(x.shape[0]) - torch.log(self.scale).sum()
        for layer in self.couplings:
            z, ld = layer(z, self.config.bound)
            log_det = log_det + ld
        return z, log_det

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log p(x), nats, (N,)."""
        z, log_det = self.to_latent(x)
        return -0.5 * (z**2).sum(1) - 0.5 * self.config.dim * math.log(2 * math.pi) + log_det

    def sample_from(self, z: torch.Tensor) -> torch.Tensor:
        """The inverse map: base samples z (N, D) -> data x (N, D)."""
        x = z
        for layer in reversed(self.couplings):
            x, _ = layer(x, self.config.bound, inverse=True)
        return x * self.scale + self.shift

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        nll = -self.log_prob(x).mean()
        return {"loss": nll, "nll": nll}

    def networks(self) -> dict[str, Network]:
        x = torch.zeros(2, self.config.dim)
        return {
            "log_prob": Network(Method(self, "log_prob"), (x,), ["x"], ["log_prob"]),
            "sample": Network(Method(self, "sample_from"), (x,), ["z"], ["x"]),
        }
