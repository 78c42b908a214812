"""RealNVP (Dinh, Sohl-Dickstein and Bengio 2017), with Glow's actnorm (Kingma and Dhariwal 2018), on 8-bit
grayscale digits: a normalizing flow, an invertible map f from an image to a code z of the same size with
an exact likelihood by the change of variables,

    log p(x) = log N(f(x); 0, I) + log |det df/dx|.

Each affine coupling layer leaves half of its input as it is and scales and shifts the other half by
amounts a small network computes from the first half, so its inverse is as cheap as the layer and its
log-determinant is the sum of the log-scales. Halves alternate in a checkerboard over pixels and, after a
squeeze (2x2 blocks of pixels to 4 channels), over channels. Multi-scale: after the first level half of
the channels leave the flow as part of z (factor-out), and the rest go on.

              x (1 x 28 x 28)
    4 checkerboard couplings, squeeze (4 x 14 x 14), 3 channel couplings
              |                       \\
    2 x 14 x 14 go on          2 x 14 x 14 are z_1
    3 checkerboard couplings, squeeze (8 x 7 x 7), 3 channel couplings  ->  z_2

Data: pixel values k in 0..255 are dequantized, y = (k + u) / 256 with u ~ U(0, 1), and mapped to the real
line by s = logit(a + (1 - 2a) y), a = 0.05 (RealNVP's logit transform). The density of y, less
D log 256, is a lower bound on the probability of the 8-bit image (Jensen over u): that is the bits/dim the
card reports, on the 8-bit test split.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from inference.numeric import LOG_2PI
from training.models.base import Method, Network

ALPHA = 0.05  # the logit transform keeps a margin from 0 and 1


@dataclass
class RealNVPConfig:
    image_size: int = 28
    hidden: int = 32  # channels of each coupling's network (64: 3x the time per step on a CPU)
    blocks: int = 2  # residual blocks in each coupling's network
    checkerboard: int = 4  # couplings at the first level before the squeeze
    channelwise: int = 3  # couplings after each squeeze
    level2_checkerboard: int = 3


def checkerboard(size: int, parity: int) -> torch.Tensor:
    """(1, 1, S, S) with 1 where (row + column) % 2 == parity."""
    r = torch.arange(size)
    return ((r[:, None] + r[None, :]) % 2 == parity).float()[None, None]


def squeeze(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, 4C, H/2, W/2): each 2x2 block of pixels becomes 4 channels."""
    B, C, H, W = x.shape  # batch, channels, height, width
    x = x.reshape(B, C, H // 2, 2, W // 2, 2)
    return x.permute(0, 1, 3, 5, 2, 4).reshape(B, C * 4, H // 2, W // 2)


def unsqueeze(x: torch.Tensor) -> torch.Tensor:
    B, C, H, W = x.shape
    x = x.reshape(B, C // 4, 2, 2, H, W)
    return x.permute(0, 1, 4, 2, 5, 3).reshape(B, C // 4, H * 2, W * 2)


class ActNorm(nn.Module):
    """A learned per-channel affine map (Glow), starting at the identity."""

    def __init__(self, channels: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.log_scale = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        H, W = x.shape[-2:]
        logdet = self.log_scale.sum() * H * W
        return (x + self.bias) * self.log_scale.exp(), logdet.expand(x.shape[0])

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        return z * (-self.log_scale).exp() - self.bias


class CouplingNet(nn.Module):
    """in channels -> (log-scale, shift) for out channels: 3x3 conv, residual blocks, a zero-initialized 3x3 conv
    (so every coupling starts as the identity)."""

    def __init__(self, c_in: int, c_out: int, hidden: int, blocks: int):
        super().__init__()
        self.conv_in = nn.Conv2d(c_in, hidden, 3, padding=1)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.ReLU(), nn.Conv2d(hidden, hidden, 3, padding=1), nn.ReLU(), nn.Conv2d(hidden, hidden, 1))
            for _ in range(blocks)
        )
        self.conv_out = nn.Conv2d(hidden, 2 * c_out, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)
        self.scale = nn.Parameter(torch.ones(1, c_out, 1, 1))  # bounds the log-scale: scale * tanh(.)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.conv_in(x)
        for block in self.blocks:
            h = h + block(h)
        raw_s, t = self.conv_out(F.relu(h)).chunk(2, dim=1)
        return self.scale * torch.tanh(raw_s), t


class Coupling(nn.Module):
    """An affine coupling: with mask m (1: kept), y = m x + (1 - m) (x exp(s(m x)) + t(m x)).

    Checkerboard: m over pixels, the network sees the kept pixels (and the mask, so it knows which they are).
    Channel-wise: m over channels, the first or second half kept."""

    def __init__(self, channels: int, size: int, kind: str, parity: int, hidden: int, blocks: int):
        super().__init__()
        self.kind, self.parity = kind, parity
        self.actnorm = ActNorm(channels)
        if kind == "checkerboard":
            self.register_buffer("mask", checkerboard(size, parity), persistent=False)
            self.net = CouplingNet(channels + 1, channels, hidden, blocks)
        else:
            self.half = channels // 2
            self.net = CouplingNet(self.half, channels - self.half, hidden, blocks)

    def _split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = x[:, : self.half], x[:, self.half :]
        return (a, b) if self.parity == 0 else (b, a)

    def _join(self, kept: torch.Tensor, changed: torch.Tensor) -> torch.Tensor:
        return torch.cat([kept, changed] if self.parity == 0 else [changed, kept], dim=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x, logdet = self.actnorm(x)
        if self.kind == "checkerboard":
            m = self.mask
            s, t = self.net(torch.cat([x * m, m.expand(x.shape[0], 1, -1, -1)], dim=1))
            s, t = s * (1 - m), t * (1 - m)
            return x * m + (1 - m) * (x * s.exp() + t), logdet + s.flatten(1).sum(1)
        kept, changed = self._split(x)
        s, t = self.net(kept)
        return self._join(kept, changed * s.exp() + t), logdet + s.flatten(1).sum(1)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        if self.kind == "checkerboard":
            m = self.mask
            s, t = self.net(torch.cat([y * m, m.expand(y.shape[0], 1, -1, -1)], dim=1))
            s, t = s * (1 - m), t * (1 - m)
            x = y * m + (1 - m) * ((y - t) * (-s).exp())
        else:
            kept, changed = self._split(y)
            s, t = self.net(kept)
            x = self._join(kept, (changed - t) * (-s).exp())
        return self.actnorm.inverse(x)


class RealNVP(nn.Module):
    Config = RealNVPConfig

    def __init__(self, config: RealNVPConfig):
        super().__init__()
        self.config = c = config
        S = c.image_size

        def couplings(channels, size, kind, count):
            return nn.ModuleList(Coupling(channels, size, kind, i % 2, c.hidden, c.blocks) for i in range(count))

        self.level1_pixels = couplings(1, S, "checkerboard", c.checkerboard)
        self.level1_channels = couplings(4, S // 2, "channel", c.channelwise)
        self.level2_pixels = couplings(2, S // 2, "checkerboard", c.level2_checkerboard)
        self.level2_channels = couplings(8, S // 4, "channel", c.channelwise)

    @property
    def dims(self) -> int:
        return self.config.image_size**2

    @staticmethod
    def to_logit(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Dequantized pixels y in (0, 1) -> s on the real line, and log |ds/dy| summed per image."""
        p = ALPHA + (1 - 2 * ALPHA) * y
        s = torch.log(p) - torch.log1p(-p)
        logdet = (math.log(1 - 2 * ALPHA) - torch.log(p) - torch.log1p(-p)).flatten(1).sum(1)
        return s, logdet

    @staticmethod
    def from_logit(s: torch.Tensor) -> torch.Tensor:
        return (torch.sigmoid(s) - ALPHA) / (1 - 2 * ALPHA)

    def encode(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Dequantized images y (B, 1, S, S) in (0, 1) -> z (B, S*S) and log |det dz/dy| (B,)."""
        h, logdet = self.to_logit(y)
        for layer in self.level1_pixels:
            h, ld = layer(h)
            logdet = logdet + ld
        h = squeeze(h)  # (B, 4, S/2, S/2)
        for layer in self.level1_channels:
            h, ld = layer(h)
            logdet = logdet + ld
        z1, h = h[:, :2], h[:, 2:]  # factor out half: (B, 2, S/2, S/2) each
        for layer in self.level2_pixels:
            h, ld = layer(h)
            logdet = logdet + ld
        h = squeeze(h)  # (B, 8, S/4, S/4)
        for layer in self.level2_channels:
            h, ld = layer(h)
            logdet = logdet + ld
        return torch.cat([z1.flatten(1), h.flatten(1)], dim=1), logdet

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, S*S) -> images (B, 1, S, S) in (0, 1): the inverse of encode."""
        S = self.config.image_size
        half = z.shape[1] // 2
        z1 = z[:, :half].unflatten(1, (2, S // 2, S // 2))
        h = z[:, half:].unflatten(1, (8, S // 4, S // 4))
        for layer in reversed(self.level2_channels):
            h = layer.inverse(h)
        h = unsqueeze(h)  # (B, 2, S/2, S/2)
        for layer in reversed(self.level2_pixels):
            h = layer.inverse(h)
        h = torch.cat([z1, h], dim=1)  # (B, 4, S/2, S/2)
        for layer in reversed(self.level1_channels):
            h = layer.inverse(h)
        h = unsqueeze(h)
        for layer in reversed(self.level1_pixels):
            h = layer.inverse(h)
        return self.from_logit(h)

    def log_prob(self, y: torch.Tensor) -> torch.Tensor:
        """log p(k) of the 8-bit image k, bounded below by the density of its dequantization y = (k + u) / 256,
        less D log 256: nats per image."""
        z, logdet = self.encode(y)
        return (-0.5 * (z.square() + LOG_2PI)).sum(1) + logdet - self.dims * math.log(256)

    @staticmethod
    def dequantize(x: torch.Tensor, generator=None) -> torch.Tensor:
        """Intensities x = k / 255 -> y = (k + u) / 256, u ~ U(0, 1) per pixel."""
        k = torch.round(x * 255)
        return (k + torch.rand(x.shape, device=x.device, generator=generator)) / 256

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        nll = -self.log_prob(self.dequantize(x)).mean()  # nats per image on the 8-bit track
        return {"loss": nll, "bits_per_dim": nll / (self.dims * math.log(2))}

    def networks(self) -> dict[str, Network]:
        S = self.config.image_size
        return {
            "encoder": Network(Method(self, "encode"), (torch.full((2, 1, S, S), 0.5),), ["x"], ["z", "logdet"]),
            "decoder": Network(Method(self, "decode"), (torch.zeros(2, S * S),), ["z"], ["x"]),
        }
