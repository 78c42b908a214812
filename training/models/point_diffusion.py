"""A diffusion model on 2-D points, for the toy density page: the same idea as ddpm.py, small enough to look at.

Points are standardized (u = (x - shift) / scale), noised in T = 100 steps, and an MLP learns eps from
(u_t, t). Its noise prediction is also a score: grad_u log q(u_t) ~ -eps(u_t, t) / sqrt(1 - abar_t), the arrows
the page draws at a chosen noise level. It defines no density the page can evaluate in closed form: the map
is a kernel estimate of its samples, as for the GAN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from training.models.base import Method, Network


@dataclass
class PointDiffusionConfig:
    dim: int = 2
    hidden: int = 128
    layers: int = 3
    time_dim: int = 32
    timesteps: int = 100
    beta_start: float = 1e-4
    beta_end: float = 0.2  # with 100 steps, abar_T ~ 4e-5: x_T is noise
    shift: tuple[float, ...] = (0.0, 0.0)
    scale: tuple[float, ...] = (1.0, 1.0)


class PointDiffusion(nn.Module):
    Config = PointDiffusionConfig

    def __init__(self, config: PointDiffusionConfig):
        super().__init__()
        self.config = c = config
        layers: list[nn.Module] = []
        width = c.dim + c.time_dim
        for _ in range(c.layers):
            layers += [nn.Linear(width, c.hidden), nn.SiLU()]
            width = c.hidden
        self.net = nn.Sequential(*layers, nn.Linear(width, c.dim))
        abar = np.cumprod(1 - np.linspace(c.beta_start, c.beta_end, c.timesteps))
        self.register_buffer("sqrt_abar", torch.tensor(np.sqrt(abar), dtype=torch.float32), persistent=False)
        self.register_buffer("sqrt_1m_abar", torch.tensor(np.sqrt(1 - abar), dtype=torch.float32), persistent=False)
        self.register_buffer("shift", torch.tensor(c.shift, dtype=torch.float32), persistent=False)
        self.register_buffer("scale", torch.tensor(c.scale, dtype=torch.float32), persistent=False)

    def _embed(self, t: torch.Tensor) -> torch.Tensor:
        half = self.config.time_dim // 2
        freqs = torch.exp(-math.log(1000.0) * torch.arange(half, dtype=torch.float32) / half)
        angles = t[:, None] * freqs[None]
        return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)

    def eps(self, u: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Standardized noisy points (B, 2) and step indices (B,) as floats -> the predicted noise (B, 2)."""
        return self.net(torch.cat([u, self._embed(t)], dim=1))

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        u = (x - self.shift) / self.scale
        t = torch.randint(0, self.config.timesteps, (len(u),))
        noise = torch.randn_like(u)
        ut = self.sqrt_abar[t][:, None] * u + self.sqrt_1m_abar[t][:, None] * noise
        mse = F.mse_loss(self.eps(ut, t.float()), noise)
        return {"loss": mse, "mse": mse}

    def networks(self) -> dict[str, Network]:
        return {
            "eps": Network(Method(self, "eps"), (torch.zeros(2, self.config.dim), torch.zeros(2)), ["u", "t"], ["eps"])
        }
