"""Gated PixelCNN (van den Oord et al. 2016, "Conditional Image Generation with PixelCNN Decoders").

Two changes to the PixelCNN, and a class label:

* No blind spot. Stacked masked 3x3 convolutions never see the pixels above and to the
  right of a growing triangle. Here a *vertical stack* sees whole rows above (a conv whose
  output at row r covers rows <= r, shifted down one row before it feeds the other stack)
  and a *horizontal stack* sees the current row to the left. Together they cover every
  earlier pixel in the receptive field.
* Gated activations, tanh(W_f * x + V_f h) * sigmoid(W_g * x + V_g h), as in an LSTM.
* Conditioning on a class h (one-hot), added to every gate: ask for a 7, get a 7.

Dilated convolutions (dilations 1, 2, 4, 8, 16 after the first layer) make the receptive
field reach every earlier pixel of a 28 x 28 image in six layers: the offsets a layer can
add are {-d, 0, d} sideways and {-d, 0} upward, and sums of those over d = 1..16 cover
every offset up to 31.

Fast sampling: the vertical stack of row r depends only on rows <= r, so it is computed
once per row (``row_step``) when row r is complete; the horizontal stack at each new
pixel (``pixel_step``) then needs only the cached rows and the current row to its left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from training.models.base import Method, Network, bernoulli_log_prob


@dataclass
class GatedPixelCNNConfig:
    image_size: int = 28
    channels: int = 32  # h: channels of both stacks
    first_kernel: int = 7
    kernel: int = 3
    dilations: tuple[int, ...] = (1, 2, 4, 8, 16)  # of the layers after the first
    num_classes: int = 10
    head_channels: int = 64


def gate(x: torch.Tensor) -> torch.Tensor:
    a, b = x.chunk(2, dim=1)
    return torch.tanh(a) * torch.sigmoid(b)


class GatedLayer(nn.Module):
    """One layer of both stacks. Shapes: v, h (B, C_in, H, W) -> (B, ch, H, W) each."""

    def __init__(self, in_channels: int, channels: int, kernel: int, dilation: int, first: bool, num_classes: int):
        super().__init__()
        self.k, self.d, self.first = kernel, dilation, first
        self.kh = kernel // 2 + 1  # rows of the vertical kernel: k//2 above and the row itself
        self.v_conv = nn.Conv2d(in_channels, 2 * channels, (self.kh, kernel), dilation=dilation)
        self.v_to_h = nn.Conv2d(2 * channels, 2 * channels, 1)
        self.h_conv = nn.Conv2d(in_channels, 2 * channels, (1, self.kh), dilation=dilation)
        self.h_out = nn.Conv2d(channels, channels, 1)
        self.cond = nn.Linear(num_classes, 4 * channels, bias=False)
        # The first layer's horizontal kernel must not see the pixel itself (mask A).
        mask = torch.ones(1, 1, 1, self.kh)
        if first:
            mask[..., -1] = 0
        self.register_buffer("h_mask", mask, persistent=False)

    def v_pre(self, v: torch.Tensor) -> torch.Tensor:
        """Vertical pre-activations; row r sees rows r - d*(kh-1) .. r, columns j +- d*(k//2)."""
        side, up = self.d * (self.k // 2), self.d * (self.kh - 1)
        return self.v_conv(F.pad(v, (side, side, up, 0)))

    def h_pre(self, h: torch.Tensor) -> torch.Tensor:
        """Horizontal pre-activations; column j sees columns j - d*(kh-1) .. j of its row."""
        return F.conv2d(
            F.pad(h, (self.d * (self.kh - 1), 0, 0, 0)),
            self.h_conv.weight * self.h_mask,
            self.h_conv.bias,
            dilation=self.d,
        )

    def forward(self, v: torch.Tensor, h: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cv, ch = self.cond(y)[:, :, None, None].chunk(2, dim=1)
        v_pre = self.v_pre(v)
        v_above = F.pad(v_pre, (0, 0, 1, 0))[:, :, :-1]  # row r gets row r-1: strictly above
        h_pre = self.h_pre(h) + self.v_to_h(v_above)
        h_new = self.h_out(gate(h_pre + ch))
        return gate(v_pre + cv), h_new if self.first else h + h_new


class GatedPixelCNN(nn.Module):
    Config = GatedPixelCNNConfig
    conditional = True
    uses_labels = True  # the trainer passes the class labels to loss()

    def __init__(self, config: GatedPixelCNNConfig):
        super().__init__()
        self.config = c = config
        layers = [GatedLayer(1, c.channels, c.first_kernel, 1, True, c.num_classes)]
        layers += [GatedLayer(c.channels, c.channels, c.kernel, d, False, c.num_classes) for d in c.dilations]
        self.layers = nn.ModuleList(layers)
        self.head = nn.Sequential(
            nn.ReLU(), nn.Conv2d(c.channels, c.head_channels, 1), nn.ReLU(), nn.Conv2d(c.head_channels, 1, 1)
        )

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) binary image, (B, num_classes) one-hot class -> (B, 1, H, W) logits."""
        v = h = x
        for layer in self.layers:
            v, h = layer(v, h, y)
        return self.head(h)

    def one_hot(self, labels: torch.Tensor) -> torch.Tensor:
        return F.one_hot(labels.long(), self.config.num_classes).float()

    def log_prob(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Exact log p(x | class) per image, in nats."""
        return bernoulli_log_prob(self(x, self.one_hot(labels)), x)

    def loss(self, x: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        nll = -self.log_prob(x, labels).mean()
        return {"loss": nll, "nll": nll}

    # ---- fast sampling -------------------------------------------------------------------
    # The sampler caches, for finished rows, every layer's vertical output v_out (to build
    # later rows' windows) and v_pre (what the row below sees), and for the current row
    # every layer's horizontal input at finished pixels.

    def row_step(self, image_rows: torch.Tensor, y: torch.Tensor, *v_rows: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The vertical stack of every layer for one finished row r.

        image_rows: (B, kh0, W + 2 * (first_kernel // 2)) image rows r-kh0+1 .. r, padded.
        v_rows[i-1] for each layer i >= 1: (B, C, kh-1, W + 2*d*(k//2)) its input rows
            r - d*(kh-1) .. r - d (the previous layer's v_out), padded; row r itself is
            computed here.
        Returns v_out of row r for each layer, (B, C, W) each, then v_pre of row r for all
        layers side by side, channels last: (B, W, L*2C).
        """
        outs, pres = [], []
        rows = image_rows[:, None]
        for i, layer in enumerate(self.layers):
            if i > 0:
                side = layer.d * (layer.k // 2)
                current = F.pad(outs[-1], (side, side))[:, :, None]  # (B, C, 1, W + 2 side)
                rows = torch.cat([v_rows[i - 1], current], dim=2)
            # the rows are already gathered d apart, so only the width keeps the dilation
            pre = F.conv2d(rows, layer.v_conv.weight, layer.v_conv.bias, dilation=(1, layer.d))[:, :, 0]
            cv, _ = layer.cond(y)[:, :, None].chunk(2, dim=1)
            outs.append(gate(pre + cv))
            pres.append(pre)
        return (*outs, torch.cat(pres, dim=1).transpose(1, 2))

    def pixel_step(
        self, pixel_row: torch.Tensor, y: torch.Tensor, v_above: torch.Tensor, h_windows: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The horizontal stack of every layer at one position (i, j).

        pixel_row: (B, kh0) pixels at columns j - kh0 + 1 .. j of row i (the last, the pixel
            itself, is masked out).
        v_above: (B, L*2C) every layer's v_pre at (i-1, j), zeros on row 0.
        h_windows: (B, (L-1)*(kh-1)*C) for each layer i >= 1, its horizontal input at
            columns j - d*(kh-1) .. j - d (layer, then column, then channel); the input at
            j itself is computed here.
        Returns the logit (B,) and the horizontal outputs of layers 0 .. L-2 at (i, j),
        side by side: (B, (L-1)*C), the inputs later columns will need.
        """
        L, C = len(self.layers), self.config.channels
        kh = self.layers[-1].kh
        v_above = v_above.chunk(L, dim=1)
        h_windows = h_windows.reshape(-1, L - 1, kh - 1, C)
        h_outs = []
        h = None
        for i, layer in enumerate(self.layers):
            if i == 0:
                window = pixel_row[:, None, None, :]  # (B, 1, 1, kh0)
            else:
                window = torch.cat([h_windows[:, i - 1], h[:, None, :]], dim=1).transpose(1, 2)[:, :, None]
            # the window's columns are already gathered d apart: no dilation here
            pre = F.conv2d(window, layer.h_conv.weight * layer.h_mask, layer.h_conv.bias).flatten(1)
            pre = pre + F.linear(v_above[i], layer.v_to_h.weight[:, :, 0, 0], layer.v_to_h.bias)
            _, ch = layer.cond(y).chunk(2, dim=1)
            new = F.linear(gate(pre + ch), layer.h_out.weight[:, :, 0, 0], layer.h_out.bias)
            h = new if layer.first else h + new
            if i < L - 1:
                h_outs.append(h)
        logit = self.head(h[:, :, None, None]).flatten()
        return logit, torch.cat(h_outs, dim=1)

    def networks(self) -> dict[str, Network]:
        c = self.config
        B, W = 2, c.image_size
        L = len(self.layers)
        first, rest = self.layers[0], self.layers[1:]
        kh = rest[0].kh
        x = torch.zeros(B, 1, W, W)
        y = torch.zeros(B, c.num_classes)
        row_inputs = (
            torch.zeros(B, first.kh, W + 2 * (first.k // 2)),
            y,
            *[torch.zeros(B, c.channels, layer.kh - 1, W + 2 * layer.d * (layer.k // 2)) for layer in rest],
        )
        pixel_inputs = (
            torch.zeros(B, first.kh),
            y,
            torch.zeros(B, L * 2 * c.channels),
            torch.zeros(B, (L - 1) * (kh - 1) * c.channels),
        )
        return {
            "full": Network(self, (x, y), ["x", "y"], ["logits"]),
            "row_step": Network(
                Method(self, "row_step"),
                row_inputs,
                ["image_rows", "y", *[f"v_rows_{layer}" for layer in range(1, L)]],
                [*[f"v_out_{layer}" for layer in range(L)], "v_pre"],
            ),
            "pixel_step": Network(
                Method(self, "pixel_step"), pixel_inputs, ["pixel_row", "y", "v_above", "h_windows"], ["logit", "h"]
            ),
        }

    def marginal_log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log p(x) = log (1/K) sum_y p(x | y) under a uniform class prior, nats per image.

        This, not log p(x | true y), is what compares with unconditional models: knowing
        the class is worth up to log 10 = 2.3 nats.
        """
        K = self.config.num_classes
        per_class = torch.stack([self.log_prob(x, torch.full((len(x),), y)) for y in range(K)])  # (K, B)
        return torch.logsumexp(per_class, dim=0) - math.log(K)
