"""PixelRNN with Diagonal BiLSTM layers (van den Oord et al. 2016, "Pixel Recurrent Neural Networks", 3.2).

A Row LSTM sees a triangle above each pixel; the Diagonal BiLSTM sees the whole context. Each
layer runs two diagonal LSTMs over the image:

* **The skew.** Row i is shifted right by i columns, so the image becomes H x (W + H - 1) and
  pixel (i, j) sits in column i + j. A diagonal of the image is now a column, and the LSTM
  sweeps the columns left to right, all rows of a column at once. The state-to-state part is
  a 2 x 1 convolution over the previous column: rows i - 1 and i of column i + j - 1 hold the
  pixels (i - 1, j) (above) and (i, j - 1) (left). The input-to-state part is a 1 x 1
  convolution. Unskewing puts every state back at its pixel. So the left-to-right state at
  (i, j) sees every input at (i', j') with i' <= i and j' <= j.
* **Two directions.** The second LSTM runs on the mirrored image (right to left): its state
  at (i, j) sees inputs with i' <= i and j' >= j, which includes pixels to the right on the
  current row, not yet generated.
* **The causal shift.** So its output is shifted down one row before the two are added: at
  (i, j) it contributes its state at (i - 1, j), which sees rows up to i - 1 at columns j and
  right of it. Together with the left-to-right state, the output at (i, j) sees every row
  above whole and the current row to the left: no blind spot.
* **The last pixel of the row above.** One pixel would still be missed: (i - 1, W - 1). A
  layer input at (i', j') sees only pixels before (i', j') (mask A), so no input on row i - 1
  sees that row's last pixel, and the inputs on row i that do (within the 7 x 7 window) lie
  right of (i, j) once j < W - 4. The right-to-left sweep's output is used only a row
  later, so its input may see the pixel itself: the first layer's mirrored sweep also gets
  a mask-B 7 x 7 window of the image (``row_conv``), and the gap closes (a test checks every
  output sees every earlier pixel).

Cells off the image in the skewed grid are held at zero, so a state at the image's edge
starts from zeros, as the fast sampler's does. The first layer is a 7 x 7 mask-A
convolution (a layer input at (i, j) depends only on pixels before (i, j)); each LSTM layer
has a residual connection; two 1 x 1 layers give the Bernoulli logits.

Fast sampling carries the recurrent state (networks ``step`` and ``row_step``):

* ``step`` computes pixel (i, j) in raster order: every layer's left-to-right state from its
  states at (i, j - 1) and (i - 1, j), plus the right-to-left state of the row above.
* ``row_step`` runs once a row is finished: every layer's right-to-left LSTM over that row,
  right to left, from the layer inputs ``step`` recorded and the row above's states. Its
  output is what the next row's steps add.

Both directions are computed once per pixel: 784 steps and 28 row steps per image.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from training.layers import MaskedConv2d
from training.models.base import Method, Network, bernoulli_log_prob
from training.models.pixelrnn import PixelRNNConfig, lstm_cell


def skew(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, H, W + H - 1): row i shifted right by i, zeros elsewhere."""
    B, C, H, W = x.shape
    flat = F.pad(x, (0, H)).reshape(B, C, H * (W + H))  # rows of W + H ...
    return flat[:, :, : H * (W + H - 1)].reshape(B, C, H, W + H - 1)  # ... read as rows of W + H - 1


def unskew(s: torch.Tensor, width: int) -> torch.Tensor:
    """The inverse of :func:`skew`: (B, C, H, W + H - 1) -> (B, C, H, W)."""
    B, C, H, _ = s.shape
    flat = F.pad(s.reshape(B, C, H * (width + H - 1)), (0, H))
    return flat.reshape(B, C, H, width + H)[..., :width]


class DiagonalBiLSTM(nn.Module):
    """One layer: (B, C, H, W) -> (B, C, H, W), the left-to-right state plus the right-to-left one of the row above.

    The two directions run in one sweep: their weights are the two groups of grouped
    convolutions (group 0 left to right, group 1 on the mirrored image)."""

    def __init__(self, channels: int):
        super().__init__()
        self.channels = C = channels
        self.input_to_state = nn.Conv2d(2 * C, 8 * C, 1, groups=2)
        self.state_to_state = nn.Conv1d(2 * C, 8 * C, 2, groups=2, bias=False)  # rows i - 1, i of the last column

    def weights(self, direction: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """One direction's (W_is (4C, C), b_is (4C,), W_above (4C, C), W_before (4C, C)): W_before multiplies the
        state of the previous pixel in the sweep's own direction (the left one, or the right one when mirrored)."""
        C4 = 4 * self.channels
        rows = slice(direction * C4, (direction + 1) * C4)
        w_ss = self.state_to_state.weight[rows]
        return self.input_to_state.weight[rows, :, 0, 0], self.input_to_state.bias[rows], w_ss[:, :, 0], w_ss[:, :, 1]

    def forward(self, x: torch.Tensor, right_to_left_extra: torch.Tensor | None = None) -> torch.Tensor:
        """``right_to_left_extra`` (B, C, H, W), if given, is added to the mirrored sweep's input only (see
        :class:`PixelRNNDiagonal`)."""
        B, C, H, W = x.shape
        mirrored = x if right_to_left_extra is None else x + right_to_left_extra
        both = torch.cat([x, mirrored.flip(-1)], dim=1)  # (B, 2C, H, W): the image and its mirror
        # W + H - 1 columns of (2, B * H, 4C): each direction's input-to-state part, skewed, channels last
        gates_in = skew(self.input_to_state(both)).reshape(B, 2, 4 * C, H, W + H - 1).permute(4, 1, 0, 3, 2)
        gates_in = gates_in.reshape(W + H - 1, 2, B * H, 4 * C).unbind(0)
        valid = (
            skew(x.new_ones(1, 1, H, W))[0, 0].T[:, :, None].unbind(0)
        )  # W + H - 1 columns of (H, 1): 1 on the image
        # the 2 x 1 state-to-state kernel as one matrix per direction: [h(i - 1), h(i)] (2C) -> gates (4C)
        w = self.state_to_state.weight.reshape(2, 4 * C, C, 2).permute(0, 3, 2, 1).reshape(2, 2 * C, 4 * C)
        h = x.new_zeros(2, B, H, C)
        c = x.new_zeros(2, B, H, C)
        columns = []
        for k in range(W + H - 1):
            previous = torch.cat([F.pad(h, (0, 0, 1, 0))[:, :, :H], h], dim=-1)  # row i: h[i - 1], h[i]
            gates = torch.baddbmm(gates_in[k], previous.reshape(2, B * H, 2 * C), w)
            h, c = lstm_cell(gates.reshape(2, B, H, 4 * C), c, dim=-1)
            h, c = h * valid[k], c * valid[k]
            columns.append(h)
        states = torch.stack(columns, dim=-1)  # (2, B, H, C, W + H - 1)
        states = unskew(states.permute(1, 0, 3, 2, 4).reshape(B, 2 * C, H, W + H - 1), W)  # (B, 2C, H, W)
        left_to_right, right_to_left = states[:, :C], states[:, C:].flip(-1)
        return left_to_right + F.pad(right_to_left, (0, 0, 1, 0))[:, :, :H]  # the causal shift: one row down


class PixelRNNDiagonal(nn.Module):
    Config = PixelRNNConfig  # the Row LSTM's: channels, layers, the first kernel, the head

    def __init__(self, config: PixelRNNConfig):
        super().__init__()
        self.config = c = config
        self.input_conv = MaskedConv2d(1, c.channels, c.first_kernel, "A")
        # the first right-to-left sweep's own input: a mask-B window, which sees the pixel itself (see the module doc)
        self.row_conv = MaskedConv2d(1, c.channels, c.first_kernel, "B")
        self.lstms = nn.ModuleList(DiagonalBiLSTM(c.channels) for _ in range(c.layers))
        self.head = nn.Sequential(
            nn.ReLU(), nn.Conv2d(c.channels, c.head_channels, 1), nn.ReLU(), nn.Conv2d(c.head_channels, 1, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) binary image -> (B, 1, H, W) logits of p(x_i = 1 | x_<i)."""
        a = self.input_conv(x)
        extra = self.row_conv(x)
        for lstm in self.lstms:
            a = a + lstm(a, extra)  # residual connection
            extra = None
        return self.head(a)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return bernoulli_log_prob(self(x), x)

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        nll = -self.log_prob(x).mean()
        return {"loss": nll, "nll": nll}

    # ---- the fast sampler's two networks ---------------------------------------------------
    def step(
        self,
        pixel_window: torch.Tensor,
        left_h: torch.Tensor,
        left_c: torch.Tensor,
        above_h: torch.Tensor,
        shifted: torch.Tensor,
    ) -> tuple[torch.Tensor, ...]:
        """Pixel (i, j) from the carried state; layers side by side on the last axis, (B, L*C) each.

        pixel_window: (B, K, K) pixels around (i, j), zeros at (i, j) and after.
        left_h, left_c: each layer's left-to-right h and c at (i, j - 1) (zeros at j = 0).
        above_h: each layer's left-to-right h at (i - 1, j) (zeros on row 0).
        shifted: each layer's right-to-left h at (i - 1, j), from ``row_step`` (zeros on row 0).
        Returns the logit (B,), then each layer's input, h and c at (i, j).
        """
        L = len(self.lstms)
        left_h, left_c, above_h, shifted = (t.chunk(L, dim=1) for t in (left_h, left_c, above_h, shifted))
        a = self.input_conv.at_center(pixel_window[:, None])  # (B, C)
        inputs, hs, cs = [], [], []
        for layer, lstm in enumerate(self.lstms):
            inputs.append(a)
            w_is, b_is, w_above, w_left = lstm.weights(0)
            gates = F.linear(a, w_is, b_is) + F.linear(above_h[layer], w_above) + F.linear(left_h[layer], w_left)
            h, c = lstm_cell(gates, left_c[layer])
            hs.append(h)
            cs.append(c)
            a = a + h + shifted[layer]
        logit = self.head(a[:, :, None, None]).flatten()
        return logit, torch.cat(inputs, 1), torch.cat(hs, 1), torch.cat(cs, 1)

    def row_step(self, pixel_rows: torch.Tensor, inputs: torch.Tensor, above: torch.Tensor) -> torch.Tensor:
        """Every layer's right-to-left LSTM over one finished row.

        pixel_rows: (B, K // 2 + 1, W + K - 1) the finished row and the K // 2 rows above it, zero-padded by K // 2
            columns on either side (zeros above the image): the first sweep's mask-B window.
        inputs: (B, W, L*C) each layer's input at the row's pixels (what ``step`` returned).
        above: (B, W, L*C) each layer's right-to-left h on the row above (zeros for row 0).
        Returns (B, W, L*C): the right-to-left h on this row, which the next row's steps add.
        """
        L, W = len(self.lstms), inputs.shape[1]
        inputs, above = list(inputs.chunk(L, dim=2)), above.chunk(L, dim=2)
        visible = self.row_conv.weight * self.row_conv.mask
        half = pixel_rows.shape[1]
        window = F.conv2d(pixel_rows[:, None], visible[:, :, :half], self.row_conv.bias)  # (B, C, 1, W)
        inputs[0] = inputs[0] + window[:, :, 0].transpose(1, 2)
        rows = []
        for layer, lstm in enumerate(self.lstms):
            w_is, b_is, w_above, w_right = lstm.weights(1)
            gates_in = F.linear(inputs[layer], w_is, b_is) + F.linear(above[layer], w_above)  # (B, W, 4C)
            h = c = inputs[layer].new_zeros(inputs[layer].shape[0], self.config.channels)
            row = [None] * W
            for j in reversed(range(W)):
                h, c = lstm_cell(gates_in[:, j] + F.linear(h, w_right), c)
                row[j] = h
            rows.append(torch.stack(row, dim=1))
        return torch.cat(rows, dim=2)

    def networks(self) -> dict[str, Network]:
        c = self.config
        B, LC, W, K = 2, c.layers * c.channels, c.image_size, c.first_kernel
        x = torch.zeros(B, 1, c.image_size, c.image_size)
        state = (torch.zeros(B, c.first_kernel, c.first_kernel),) + tuple(torch.zeros(B, LC) for _ in range(4))
        return {
            "full": Network(self, (x,), ["x"], ["logits"]),
            "step": Network(
                Method(self, "step"),
                state,
                ["pixel_window", "left_h", "left_c", "above_h", "shifted"],
                ["logit", "input", "h", "c"],
            ),
            "row_step": Network(
                Method(self, "row_step"),
                (torch.zeros(B, K // 2 + 1, W + K - 1), torch.zeros(B, W, LC), torch.zeros(B, W, LC)),
                ["pixel_rows", "inputs", "above"],
                ["h"],
            ),
        }
