"""PixelCNN++ (Salimans et al. 2017) on 8-bit grayscale digits, and its 256-way softmax twin.

The chain rule again, now over 256 levels per pixel instead of two:

    log p(x) = sum_i log p(x_i | x_<i),   x_i in {0, ..., 255}.

What PixelCNN++ changes (the lecture's "improving PixelCNN" list):

* **Discretized logistic mixture.** A softmax over 256 values has to learn that 127 is
  next to 128. PixelCNN++ instead puts a mixture of K logistics on the real line and gives
  value v the mass of its bin, [v - 0.5, v + 0.5] (scaled to [-1, 1]), with the two edge
  bins taking the tails. Nearby values share mass by construction, and the head has 3K
  outputs per pixel instead of 256. ``likelihood="softmax"`` is the same network with a
  256-way head, shipped beside it to show what the mixture buys.
* **Gated ResNet blocks**, with a concatenated ELU and dropout.
* **Down- and up-sampling** (28 -> 14 -> 7 -> 14 -> 28) with short-cuts between matching
  resolutions, so the context from above reaches far in few layers.

The two streams (shapes (B, C, 28, 28) throughout the full-resolution part):

    u (vertical):  sees rows strictly above a pixel. Built from "down" convolutions
                   (kernel 2 x 3: the row above and the row itself, after one initial
                   shift down), and it is the stream that is down- and up-sampled.
    h (row):       sees the same row strictly to the left, through 1 x 3 "right"
                   convolutions, and takes u at every block.

              row r-1:  u u u u u u u        u: any column, rows < r
              row r:    h h h .              h: columns < c of row r
                              ^ pixel (r, c)

One departure from the paper, made for sampling speed: the paper down-samples both
streams; here only u is multi-scale and h stays at full resolution. Then the output of
row r is u's row r (a function of the rows above) plus a pass of h along row r alone, so
the fast sampler runs the u network once per row (28 times) and the cheap h network once
per pixel on one row, caching u's row in between: 28 full passes plus 784 one-row passes
instead of 784 full passes. Ramachandran et al. 2017 cache every layer at every pixel; a
row cache is the same idea at the grain this network allows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from training.models.base import Method, Network

LEVELS = 256  # 8-bit pixels


@dataclass
class PixelCNNPPConfig:
    image_size: int = 28
    channels: int = 32  # C, both streams
    blocks: tuple[int, ...] = (1, 2, 2)  # gated blocks of u per resolution (28, 14, 7), on the way down and up
    row_blocks: int = 4  # gated blocks of h, full resolution: each reaches 4 more columns to the left
    first_width: int = 5  # the h stream's first convolution sees this many pixels to the left
    mixtures: int = 5  # K logistic components per pixel (PixelCNN++ used 10 for three colour channels)
    likelihood: str = "logistic_mixture"  # or "softmax": 256 logits per pixel
    dropout: float = 0.1

    @property
    def out_channels(self) -> int:
        return 3 * self.mixtures if self.likelihood == "logistic_mixture" else LEVELS


def concat_elu(x: torch.Tensor) -> torch.Tensor:
    """ELU of x and of -x side by side: 2C channels, keeping both signs' information (PixelCNN++)."""
    return F.elu(torch.cat([x, -x], dim=1))


class DownConv(nn.Module):
    """A 2 x 3 convolution over the row above and the row itself: output row r sees input rows r-1, r.

    With stride 2 the output row i sees input rows 2i-1 and 2i, so a stream that sees rows < r at full
    resolution still sees rows < 2i at half resolution, where row i stands for full rows 2i and 2i+1."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, (2, 3), stride=stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, (1, 1, 1, 0)))  # left, right, top, bottom


class RightConv(nn.Module):
    """A 1 x k convolution along the row: output column c sees input columns c-k+1 .. c."""

    def __init__(self, cin: int, cout: int, width: int = 3):
        super().__init__()
        self.width = width
        self.conv = nn.Conv2d(cin, cout, (1, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, (self.width - 1, 0, 0, 0)))


def shift_down(x: torch.Tensor) -> torch.Tensor:
    return F.pad(x, (0, 0, 1, 0))[:, :, :-1]


def shift_right(x: torch.Tensor) -> torch.Tensor:
    return F.pad(x, (1, 0, 0, 0))[:, :, :, :-1]


class GatedResBlock(nn.Module):
    """x + a * sigmoid(b), where [a, b] = conv(dropout(concat_elu(conv(concat_elu(x)) + nin(concat_elu(aux))))).

    ``aux`` is what the block also reads: the other stream, or the short-cut from the way down."""

    def __init__(self, channels: int, conv: type[nn.Module], aux_channels: int, dropout: float):
        super().__init__()
        self.conv1 = conv(2 * channels, channels)
        self.aux = nn.Conv2d(2 * aux_channels, channels, 1) if aux_channels else None
        self.dropout = nn.Dropout(dropout)
        self.conv2 = conv(2 * channels, 2 * channels)

    def forward(self, x: torch.Tensor, aux: torch.Tensor | None = None) -> torch.Tensor:
        c = self.conv1(concat_elu(x))
        if self.aux is not None:
            c = c + self.aux(concat_elu(aux))
        a, b = self.conv2(self.dropout(concat_elu(c))).chunk(2, dim=1)
        return x + a * torch.sigmoid(b)


def discretized_logistic_mixture_log_prob(params: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
    """log P(v) per pixel, nats, for pixel values v in {0..255}: (B, 3K, H, W), (B, 1, H, W) -> (B, H, W).

    Value v covers [x - 1/255, x + 1/255] with x = 2v/255 - 1; the edge values take the tails. The mass of a
    bin is sigmoid(a) - sigmoid(b) = sigmoid(a) sigmoid(-b) (1 - exp(b - a)), computed in logs, so it is exact
    (the 256 masses sum to one) and finite however narrow the logistic."""
    logit_pi, mean, log_scale = params.chunk(3, dim=1)  # (B, K, H, W) each
    log_scale = log_scale.clamp(min=-7.0)  # a scale of e^-7 already puts all mass in one bin
    # the bin's edges from the integer level, so level v's upper edge is level v+1's lower edge to the bit
    v = levels.to(mean.dtype)
    inv_s = torch.exp(-log_scale)
    upper = inv_s * ((2 * v + 1) / (LEVELS - 1) - 1 - mean)
    lower = inv_s * ((2 * v - 1) / (LEVELS - 1) - 1 - mean)
    width = 2 / (LEVELS - 1) * inv_s  # upper - lower > 0
    log_mid = F.logsigmoid(upper) + F.logsigmoid(-lower) + torch.log(-torch.expm1(-width))
    log_mass = torch.where(
        levels == 0, F.logsigmoid(upper), torch.where(levels == LEVELS - 1, F.logsigmoid(-lower), log_mid)
    )
    return torch.logsumexp(log_mass + F.log_softmax(logit_pi, dim=1), dim=1)


class PixelCNNPP(nn.Module):
    Config = PixelCNNPPConfig

    def __init__(self, config: PixelCNNPPConfig):
        super().__init__()
        self.config = c = config
        if c.likelihood not in ("logistic_mixture", "softmax"):
            raise ValueError(f"likelihood must be logistic_mixture or softmax, got {c.likelihood!r}")
        if c.image_size % 2 ** (len(c.blocks) - 1):
            raise ValueError(f"image_size {c.image_size} does not halve {len(c.blocks) - 1} times")
        C = c.channels
        # inputs: the scaled pixel and a channel of ones, so zero padding differs from a mid-gray pixel
        self.u_in = DownConv(2, C)
        self.down = nn.ModuleList(
            nn.ModuleList(GatedResBlock(C, DownConv, 0, c.dropout) for _ in range(n)) for n in c.blocks
        )
        self.downsample = nn.ModuleList(DownConv(C, C, stride=2) for _ in c.blocks[1:])
        # on the way up each block reads the short-cut from the matching block on the way down
        self.up = nn.ModuleList(
            nn.ModuleList(GatedResBlock(C, DownConv, C, c.dropout) for _ in range(n)) for n in c.blocks
        )
        self.h_in = RightConv(2, C, c.first_width)
        self.u_to_h = nn.Conv2d(C, C, 1)
        self.row = nn.ModuleList(GatedResBlock(C, RightConv, C, c.dropout) for _ in range(c.row_blocks))
        self.head = nn.Conv2d(C, c.out_channels, 1)

    @staticmethod
    def _inputs(x: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) intensities in [0, 1] -> (B, 2, H, W): the pixel scaled to [-1, 1], and ones."""
        return torch.cat([2 * x - 1, torch.ones_like(x)], dim=1)

    def context(self, x: torch.Tensor) -> torch.Tensor:
        """The u stream: (B, 1, H, W) intensities -> (B, C, H, W); row r depends on image rows < r only."""
        u = shift_down(self.u_in(self._inputs(x)))
        skips = []
        for level, blocks in enumerate(self.down):
            if level:
                u = self.downsample[level - 1](u)
            for block in blocks:
                u = block(u)
                skips.append(u)
        for level, blocks in reversed(list(enumerate(self.up))):
            for block in blocks:
                u = block(u, skips.pop())
            if level:
                # nearest up-sampling: full rows 2i and 2i+1 take half-resolution row i, which sees rows < 2i
                u = F.interpolate(u, scale_factor=2.0, mode="nearest")
        return u

    def row_params(self, x_row: torch.Tensor, context_row: torch.Tensor) -> torch.Tensor:
        """The h stream and the head along rows: (B, 1, R, W) intensities, (B, C, R, W) context -> (B, P, R, W).

        It convolves along rows only, so one row alone (R = 1) gives what the whole image gives for that row."""
        h = shift_right(self.h_in(self._inputs(x_row))) + self.u_to_h(context_row)
        for block in self.row:
            h = block(h, context_row)
        return self.head(F.elu(h))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) intensities in [0, 1] (multiples of 1/255) -> (B, P, H, W): every pixel's distribution
        given the pixels before it in raster order (3K mixture parameters, or 256 logits)."""
        return self.row_params(x, self.context(x))

    def log_prob_of(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """log p(x_i | x_<i) per pixel, nats: (B, P, H, W), (B, 1, H, W) intensities -> (B, H, W)."""
        levels = torch.round(x * (LEVELS - 1)).long()  # (B, 1, H, W)
        if self.config.likelihood == "softmax":
            return F.log_softmax(params, dim=1).gather(1, levels)[:, 0]
        return discretized_logistic_mixture_log_prob(params, levels)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log p(x) per image over 8-bit values, nats."""
        return self.log_prob_of(self(x), x).flatten(1).sum(1)

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        nll = -self.log_prob(x).mean()
        return {"loss": nll, "bits_per_dim": nll / (x[0].numel() * math.log(2))}

    @property
    def row_reach(self) -> int:
        """How many columns to the left of a pixel its row stream reads: the first 1 x w convolution after the shift
        right, then two 1 x 3 convolutions per row block. A window of the row_reach columns before a pixel and the
        pixel's own column gives what the whole row gives at that pixel."""
        return self.config.first_width + 4 * self.config.row_blocks

    def networks(self) -> dict[str, Network]:
        """The full network, and the fast sampler's two: the context (exported for any height that halves down to
        the coarsest level: rows 0..r give the context of rows 0..r, as the stream only looks up) and the row
        stream (any width: a window of the row_reach columns before a pixel is all it reads)."""
        c = self.config
        S = c.image_size
        x = torch.zeros(2, 1, S, S)
        step = 2 ** (len(c.blocks) - 1)
        height = step * torch.export.Dim("height_steps", min=1, max=S // step)
        width = torch.export.Dim("width", min=1, max=S)
        return {
            "full": Network(self, (x,), ["x"], ["params"]),
            "context": Network(Method(self, "context"), (x,), ["x"], ["context"], dims=({2: height},)),
            "pixel_step": Network(
                Method(self, "row_params"),
                (torch.zeros(2, 1, 1, S), torch.zeros(2, c.channels, 1, S)),
                ["x_row", "context_row"],
                ["params"],
                dims=({3: width}, {3: width}),
            ),
        }
