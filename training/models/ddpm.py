"""DDPM (Ho, Jain and Abbeel 2020): a diffusion model on 8-bit grayscale digits, class-conditional with
classifier-free guidance (Ho and Salimans 2022).

The forward process adds Gaussian noise in T = 1000 small steps, q(x_t | x_{t-1}) = N(sqrt(1 - b_t) x_{t-1},
b_t I), so that in closed form

    x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps,    eps ~ N(0, I),    abar_t = prod_{s <= t} (1 - b_s),

and x_T is (almost) pure noise. A U-Net learns to predict eps from (x_t, t, class); the reverse process runs
it from noise back to a digit, one step per call (ancestral DDPM: 1,000 steps; DDIM, Song et al. 2021: any
subset of the steps, deterministically). Trained on ||eps - eps_theta(x_t, t, y)||^2, the simplified ELBO;
the variational bound itself (Ho et al.'s L_vlb, with a discretized Gaussian decoder at t = 1) gives an
upper bound on -log p(x) in bits/dim on the 8-bit test split.

Classifier-free guidance: the class is replaced by a null class for 10% of training examples, so one network
learns p(x | y) and p(x); sampling mixes them, eps = eps(x, null) + s (eps(x, y) - eps(x, null)), s > 1
trading variety for how clearly the digit is the one asked for. s is chosen on the validation split.

Pixels: intensities / 255 scaled to [-1, 1]. The exported denoiser takes the class one-hot over 11 columns
(the 10 digits and the null class) and the timestep as a float, so one ONNX call is one step.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from training.models.base import Network


@dataclass
class DDPMConfig:
    image_size: int = 28
    channels: tuple[int, int, int] = (32, 64, 128)  # at 28 x 28, 14 x 14 and 7 x 7
    time_dim: int = 128
    num_classes: int = 10  # the null class is one more
    class_dropout: float = 0.1  # how often a training example is shown with the null class
    dropout: float = 0.1
    timesteps: int = 1000
    beta_start: float = 1e-4  # Ho et al.'s linear schedule
    beta_end: float = 0.02
    ema_decay: float = 0.999  # the exported denoiser is an average of the weights over ~1,000 steps
    grad_clip: float = 1.0
    guidance: float = 1.0  # classifier-free guidance scale for sampling; chosen on validation after training


def betas(config: DDPMConfig) -> np.ndarray:
    """The noise schedule b_1..b_T (float64): linear, as in Ho et al."""
    return np.linspace(config.beta_start, config.beta_end, config.timesteps, dtype=np.float64)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features of the (float) timestep, as for positions in a Transformer: (B,) -> (B, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10_000) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    angles = t[:, None].float() * freqs[None]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


class ResBlock(nn.Module):
    """GroupNorm -> SiLU -> 3x3 conv, plus the step-and-class embedding, twice; a 1x1 skip if channels change."""

    def __init__(self, c_in: int, c_out: int, emb_dim: int, dropout: float):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(8, c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(emb_dim, c_out)
        self.norm2, self.conv2 = nn.GroupNorm(8, c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.dropout = nn.Dropout(dropout)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.emb(emb)[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return self.skip(x) + h


class UNet(nn.Module):
    """eps_theta(x_t, t, y): (B, 1, S, S), (B,), (B, K + 1) one-hot -> (B, 1, S, S). Two downsamplings
    (28 -> 14 -> 7), one residual block per level on the way down and up, skip connections between them."""

    def __init__(self, c: DDPMConfig):
        super().__init__()
        c0, c1, c2 = c.channels
        e = c.time_dim
        self.time_dim = e
        self.time_mlp = nn.Sequential(nn.Linear(e, e), nn.SiLU(), nn.Linear(e, e))
        self.class_emb = nn.Linear(c.num_classes + 1, e, bias=False)  # one row per class, the last for null
        self.conv_in = nn.Conv2d(1, c0, 3, padding=1)
        self.down0 = ResBlock(c0, c0, e, c.dropout)
        self.pool0 = nn.Conv2d(c0, c0, 3, stride=2, padding=1)  # S -> S/2
        self.down1 = ResBlock(c0, c1, e, c.dropout)
        self.pool1 = nn.Conv2d(c1, c1, 3, stride=2, padding=1)  # S/2 -> S/4
        self.mid = ResBlock(c1, c2, e, c.dropout)
        self.mid2 = ResBlock(c2, c2, e, c.dropout)
        self.up1 = nn.Conv2d(c2, c2, 3, padding=1)
        self.dec1 = ResBlock(c2 + c1, c1, e, c.dropout)
        self.up0 = nn.Conv2d(c1, c1, 3, padding=1)
        self.dec0 = ResBlock(c1 + c0, c0, e, c.dropout)
        self.norm_out = nn.GroupNorm(8, c0)
        self.conv_out = nn.Conv2d(c0, 1, 3, padding=1)

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        emb = self.time_mlp(timestep_embedding(t, self.time_dim)) + self.class_emb(y)
        h0 = self.down0(self.conv_in(x), emb)  # (B, c0, S, S)
        h1 = self.down1(self.pool0(h0), emb)  # (B, c1, S/2, S/2)
        h = self.mid2(self.mid(self.pool1(h1), emb), emb)  # (B, c2, S/4, S/4)
        h = self.up1(F.interpolate(h, scale_factor=2.0, mode="nearest"))
        h = self.dec1(torch.cat([h, h1], 1), emb)
        h = self.up0(F.interpolate(h, scale_factor=2.0, mode="nearest"))
        h = self.dec0(torch.cat([h, h0], 1), emb)
        return self.conv_out(F.silu(self.norm_out(h)))


class DDPM(nn.Module):
    Config = DDPMConfig
    uses_labels = True
    optimizer_name = "Adam, gradients clipped to norm 1, an exponential moving average of the weights exported"

    def __init__(self, config: DDPMConfig):
        super().__init__()
        self.config = config
        self.denoiser = UNet(config)
        self.denoiser_ema = copy.deepcopy(self.denoiser).requires_grad_(False)
        abar = np.cumprod(1.0 - betas(config))
        self.register_buffer("sqrt_abar", torch.tensor(np.sqrt(abar), dtype=torch.float32), persistent=False)
        self.register_buffer("sqrt_1m_abar", torch.tensor(np.sqrt(1.0 - abar), dtype=torch.float32), persistent=False)

    @property
    def null_class(self) -> int:
        return self.config.num_classes

    def one_hot(self, labels: torch.Tensor) -> torch.Tensor:
        return F.one_hot(labels.long(), self.config.num_classes + 1).float()

    @staticmethod
    def scale(x: torch.Tensor) -> torch.Tensor:
        """Intensities in [0, 1] (multiples of 1/255) -> the model's [-1, 1]."""
        return x * 2.0 - 1.0

    def noisy(self, x0: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, with t in 0..T-1 indexing steps 1..T."""
        return self.sqrt_abar[t][:, None, None, None] * x0 + self.sqrt_1m_abar[t][:, None, None, None] * eps

    def loss_terms(self, x: torch.Tensor, labels: torch.Tensor, net: nn.Module, generator=None) -> dict:
        x0 = self.scale(x)
        B = len(x0)
        t = torch.randint(0, self.config.timesteps, (B,), device=x.device, generator=generator)
        eps = torch.randn(x0.shape, device=x.device, generator=generator)
        drop = torch.rand(B, device=x.device, generator=generator) < self.config.class_dropout
        y = self.one_hot(torch.where(drop, torch.full_like(labels, self.null_class), labels))
        mse = (net(self.noisy(x0, t, eps), t.float(), y) - eps).square().mean()
        return {"loss": mse, "mse": mse}

    def optimizers(self, lr: float) -> dict[str, torch.optim.Optimizer]:
        return {"denoiser": torch.optim.Adam(self.denoiser.parameters(), lr=lr)}

    def train_step(self, x: torch.Tensor, labels: torch.Tensor, opt: dict, sync) -> dict[str, torch.Tensor]:
        terms = self.loss_terms(x, labels, self.denoiser)
        opt["denoiser"].zero_grad(set_to_none=True)
        terms["loss"].backward()
        sync(self.denoiser)
        nn.utils.clip_grad_norm_(self.denoiser.parameters(), self.config.grad_clip)
        opt["denoiser"].step()
        with torch.no_grad():
            decay = self.config.ema_decay
            for avg, p in zip(self.denoiser_ema.parameters(), self.denoiser.parameters(), strict=True):
                avg.lerp_(p, 1.0 - decay)
        return {k: v.detach() for k, v in terms.items()}

    @torch.no_grad()
    def validate(self, val) -> dict[str, float]:
        """The averaged denoiser's loss on the validation digits, at timesteps and noise drawn from a fixed seed
        (the same for every epoch, so epochs compare like with like)."""
        self.eval()
        g = torch.Generator(device=val.x_gray.device).manual_seed(0)
        total = 0.0
        for xb, yb in zip(val.x_gray.split(250), val.y.split(250), strict=True):
            total += self.loss_terms(xb, yb, self.denoiser_ema, g)["mse"].item() * len(xb)
        return {"loss": total / len(val.x_gray)}

    @torch.no_grad()
    def sample_ddim(self, labels: torch.Tensor, steps: int, guidance: float, generator=None) -> torch.Tensor:
        """DDIM (eta = 0) with classifier-free guidance, in torch, for choices made on validation: images in
        [0, 1]. The app samples through the exported denoiser with inference/diffusion.py, the same steps."""
        self.eval()
        c, net = self.config, self.denoiser_ema
        n = len(labels)
        abar = (self.sqrt_abar**2).double()
        ts = np.linspace(c.timesteps - 1, 0, steps).round().astype(int)  # as inference/diffusion.py
        x = torch.randn(n, 1, c.image_size, c.image_size, generator=generator)
        y = torch.cat([self.one_hot(labels), self.one_hot(torch.full_like(labels, self.null_class))])
        for i, t in enumerate(ts):
            both = net(torch.cat([x, x]), torch.full((2 * n,), float(t)), y)
            eps_c, eps_u = both[:n], both[n:]
            eps = eps_u + guidance * (eps_c - eps_u)
            a_t = abar[t].float()
            x0 = ((x - (1 - a_t).sqrt() * eps) / a_t.sqrt()).clamp(-1, 1)
            eps = (x - a_t.sqrt() * x0) / (1 - a_t).sqrt()
            a_prev = abar[ts[i + 1]].float() if i + 1 < len(ts) else torch.tensor(1.0)
            x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
        return ((x + 1) / 2).clamp(0, 1)

    @torch.no_grad()
    def choose_on_validation(
        self, val, scales=(1.0, 2.0, 3.0, 4.0), n: int = 500, steps: int = 25
    ) -> tuple[dict, list]:
        """The guidance scale, chosen on the validation split: the lowest FCD (the judge's features of n samples,
        classes 0-9 in turn, against the validation digits) among the scales whose samples the judge classifies
        as the class asked for at least 95% of the time; the most accurate scale if none is. Returns the config
        change and the table it was chosen from."""
        from inference.metrics import frechet_distance

        if val.judge is None:
            return {}, []
        labels = torch.arange(n) % self.config.num_classes
        _, real = val.judge(val.x_gray)
        table = []
        for s in scales:
            logits, features = val.judge(self.sample_ddim(labels, steps, s, torch.Generator().manual_seed(0)))
            accuracy = (logits.argmax(1) == labels).float().mean().item()
            table.append(
                {"guidance": s, "fcd": frechet_distance(features.numpy(), real.numpy()), "class_accuracy": accuracy}
            )
        accurate = [row for row in table if row["class_accuracy"] >= 0.95]
        best = min(accurate, key=lambda r: r["fcd"]) if accurate else max(table, key=lambda r: r["class_accuracy"])
        return {"guidance": best["guidance"]}, table

    def networks(self) -> dict[str, Network]:
        c = self.config
        x = torch.zeros(2, 1, c.image_size, c.image_size)
        return {
            "denoiser": Network(
                self.denoiser_ema, (x, torch.zeros(2), torch.zeros(2, c.num_classes + 1)), ["x", "t", "y"], ["eps"]
            )
        }
