"""Autoregressive models on the app side: exact likelihood, naive and fast samplers, completion.

Every model here gives every pixel's conditional p(x_i | x_<i) in one pass of its ``full``
network (masked convolutions / row recurrences): a Bernoulli logit for the binary models
here, a distribution over 256 values for the 8-bit ones (:mod:`inference.pixelcnn_pp`).
Sampling must go pixel by pixel in raster order:

* the naive sampler runs the full network once per pixel: 784 passes for 28 x 28;
* the fast sampler runs the model's exported ``step`` network(s), which compute every
  layer at the new pixel only, from caches of earlier activations (PixelCNN family,
  Ramachandran et al. 2017) or from the carried recurrent state (PixelRNN).

Both draw the same uniforms from the seed, so for the same seed they give the same image.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from inference.base import OnnxModel, as_batch
from inference.numeric import logsumexp, sigmoid

# on_row(row_index, images_so_far) is called after each finished row, for progressive display
RowCallback = Callable[[int, np.ndarray], None]


HIDE_KINDS = {"bottom": "Bottom half", "right": "Right half", "rows": "Last rows"}


def hidden_mask(kind: str, size: int = 28, rows: int = 10) -> np.ndarray:
    """(size, size) bool, True where a completion must fill in: the bottom half, the right
    half, or the last ``rows`` rows."""
    mask = np.zeros((size, size), bool)
    if kind == "bottom":
        mask[size // 2 :] = True
    elif kind == "right":
        mask[:, size // 2 :] = True
    elif kind == "rows":
        mask[size - min(max(int(rows), 1), size) :] = True
    else:
        raise ValueError(f"kind must be one of {', '.join(HIDE_KINDS)}, got {kind!r}")
    return mask


def in_progress(images: np.ndarray, row: int, pending: float = 0.3) -> np.ndarray:
    """Images whose rows after ``row`` are not generated yet, shown as flat gray."""
    shown = np.array(images, dtype=np.float32, copy=True)
    shown[:, row + 1 :] = pending
    return shown


def bernoulli_nll_map(logits: np.ndarray, x: np.ndarray) -> np.ndarray:
    """-log p(x_i | x_<i) per pixel, nats: (B, H, W)."""
    return np.logaddexp(0.0, logits) - x * logits


class Autoregressive(OnnxModel):
    can_complete = True
    fast_sampler = "fast (cached activations)"  # what the cards and pages call the fast sampler
    image_kind = "binary"
    sample_kind = (
        "binary"  # samples are binary images, like the data it models (no latent: temperature scales the logits)
    )

    @property
    def num_pixels(self) -> int:
        return self.image_size**2

    # ---- likelihood ------------------------------------------------------------------
    def _feeds(self, x: np.ndarray, labels: np.ndarray | None) -> tuple[np.ndarray, ...]:
        labels = self.class_labels(labels, len(x))
        return (x,) if labels is None else (x, self.one_hot(labels, len(x)))

    def logits(self, x: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """(N, H, W) binary images -> (N, H, W) logits of p(x_i = 1 | x_<i), one pass."""
        x = as_batch(x, self.image_size)
        return self.networks["full"](*self._feeds(x, labels))["logits"][:, 0]

    def pixel_nll(self, x: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """Per-pixel -log p(x_i | x_<i) in nats, (N, H, W): which pixels surprise the model."""
        x = as_batch(x, self.image_size)
        return bernoulli_nll_map(self.logits(x, labels), x[:, 0])

    def log_prob(self, x: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """Exact log p(x) per image, nats (the chain rule: a sum of 784 conditionals)."""
        nll = self.pixel_nll(x, labels)
        return -nll.reshape(len(nll), -1).sum(1)

    # ---- sampling --------------------------------------------------------------------
    def sample(
        self,
        n: int,
        seed: int,
        *,
        temperature: float = 1.0,
        labels: np.ndarray | None = None,
        method: str = "fast",
        known: np.ndarray | None = None,
        known_mask: np.ndarray | None = None,
        on_row: RowCallback | None = None,
        record_logits: bool = False,
    ):
        """n images, (n, H, W) float32 (binary, or 8-bit levels / 255), pixel by pixel in raster order.

        temperature divides the logits (1: the model's own distribution; an 8-bit model's
        :meth:`draw` says what it does). ``known`` and
        ``known_mask`` (H, W) or (n, H, W) fix some pixels (completion): they are taken, not
        sampled, and later pixels condition on them. With ``record_logits`` also returns
        the logits (or distribution parameters) the sampler used. A conditional model draws classes 0, 1, 2, ... in turn
        unless given labels.
        """
        if method not in ("fast", "naive"):
            raise ValueError(f"method must be 'fast' or 'naive', got {method!r}")
        H = W = self.image_size
        uniforms, known, known_mask = self._draw_inputs(n, seed, temperature, known, known_mask)
        labels = self.class_labels(labels, n)
        out = np.zeros((n, H, W), np.float32)

        used: list[np.ndarray] = []
        # the pixels some image draws; a sampler that carries no state from pixel to pixel may skip the rest
        todo = np.ones((H, W), bool) if record_logits else ~known_mask.all(0)

        def choose(i: int, j: int, logit: np.ndarray | None) -> np.ndarray:
            """Pixel (i, j) of every image: drawn from its conditional, or the known value where kept (logit None:
            kept in every image, nothing to draw)."""
            if logit is None:
                value = known[:, i, j]
            else:
                used.append(logit)
                value = np.where(known_mask[:, i, j], known[:, i, j], self.draw(logit, uniforms[:, i, j], temperature))
            out[:, i, j] = value
            return value

        if method == "naive":
            for i in range(H):
                for j in range(W):
                    choose(i, j, self.outputs(out, labels)[:, i, j])
                if on_row:
                    on_row(i, out)
        else:
            self._sample_fast(n, labels, choose, on_row, out, todo)
        if not record_logits:
            return out
        return out, np.stack(used, 1).reshape(n, H, W, *used[0].shape[1:])  # (n, H, W) logits, or (n, H, W, P)

    def _draw_inputs(self, n, seed, temperature, known, known_mask) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What every sampler draws with, whatever its order: one uniform per pixel from the seed (so a seed gives the
        same images), and the pixels a completion keeps, (n, H, W) each (none kept when ``known_mask`` is None)."""
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        shape = (n, self.image_size, self.image_size)
        uniforms = np.random.default_rng(seed).random(shape)
        if known_mask is None:
            known_mask, known = np.zeros(shape, bool), np.zeros(shape, np.float32)
        known_mask = np.broadcast_to(np.asarray(known_mask, bool), shape)
        return uniforms, np.broadcast_to(np.asarray(known, np.float32), shape), known_mask

    def outputs(self, x: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """Every pixel's conditional from one pass, pixels on axes 1 and 2: (N, H, W) logits here."""
        return self.logits(x, labels)

    def draw(self, logit: np.ndarray, uniforms: np.ndarray, temperature: float) -> np.ndarray:
        """One pixel of each image from its conditional, by inverse CDF of the given uniforms (B,) -> (B,)."""
        return (uniforms < sigmoid(logit / temperature)).astype(np.float32)

    def _sample_fast(self, n, labels, choose, on_row, out, todo) -> None:
        """Fill ``out`` (n, H, W) in raster order, calling ``choose(i, j, logit)`` once per pixel with that pixel's
        conditional for every image. ``todo`` (H, W) marks the pixels some image draws; a sampler that carries no
        state from one pixel to the next may call ``choose(i, j, None)`` for the others (kept in every image)."""
        raise NotImplementedError

    def complete(
        self,
        images: np.ndarray,
        hidden: np.ndarray,
        n: int = 1,
        seed: int = 0,
        *,
        temperature: float = 1.0,
        labels=None,
    ) -> np.ndarray:
        """Fill in the ``hidden`` (H, W) pixels of binary images, in one batch: one (H, W) image completed n
        times, or (B, H, W) images completed once each (then ``n`` is B). Returns (n, H, W)."""
        images = np.asarray(images, np.float32)
        if images.ndim == 3:
            n = len(images)
        known_mask = ~np.asarray(hidden, bool)
        return self.sample(n, seed, temperature=temperature, labels=labels, known=images, known_mask=known_mask)


class PixelCNN(Autoregressive):
    def _sample_fast(self, n, labels, choose, on_row, out, todo) -> None:
        cfg = self.card.config
        H = W = self.image_size
        K = int(cfg["first_kernel"])
        P = K // 2
        RC = int(cfg["residual_blocks"]) * int(cfg["channels"])
        step = self.networks["step"]
        pixels = np.zeros((n, H + 2 * P, W + 2 * P), np.float32)
        # every block's 3x3 input, channels last so a window is 3 contiguous runs; padded by 1
        cache = np.zeros((n, H + 2, W + 2, RC), np.float32)
        for i in range(H):
            for j in range(W):
                res = step(pixels[:, i : i + K, j : j + K], cache[:, i : i + 3, j : j + 3])
                cache[:, i + 1, j + 1] = res["centers"]
                pixels[:, i + P, j + P] = choose(i, j, res["logit"])
            if on_row:
                on_row(i, out)


class PixelRNN(Autoregressive):
    def _sample_fast(self, n, labels, choose, on_row, out, todo) -> None:
        cfg = self.card.config
        H = W = self.image_size
        K = int(cfg["first_kernel"])
        P = K // 2
        LC = int(cfg["layers"]) * int(cfg["channels"])
        step = self.networks["step"]
        pixels = np.zeros((n, H + 2 * P, W + 2 * P), np.float32)
        h_above = np.zeros((n, W + 2, LC), np.float32)  # the previous row's hidden states, padded by 1
        c_above = np.zeros((n, W, LC), np.float32)
        for i in range(H):
            h_row = np.zeros_like(h_above)
            c_row = np.zeros_like(c_above)
            left = np.zeros((n, LC), np.float32)
            for j in range(W):
                res = step(pixels[:, i : i + K, j : j + K], left, h_above[:, j : j + 3], c_above[:, j])
                left = res["input"]
                h_row[:, j + 1] = res["h"]
                c_row[:, j] = res["c"]
                pixels[:, i + P, j + P] = choose(i, j, res["logit"])
            h_above, c_above = h_row, c_row  # the state carried to the next row
            if on_row:
                on_row(i, out)


class PixelRNNDiagonal(Autoregressive):
    """PixelRNN with Diagonal BiLSTM layers: the left-to-right LSTM steps pixel by pixel in raster order, the
    right-to-left one runs over each row once it is finished (``row_step``), and the next row's steps add its state
    from the row above (the causal shift)."""

    fast_sampler = "fast (carried state: left-to-right per pixel, right-to-left per finished row)"

    def _sample_fast(self, n, labels, choose, on_row, out, todo) -> None:
        cfg = self.card.config
        H = W = self.image_size
        K = int(cfg["first_kernel"])
        P = K // 2
        LC = int(cfg["layers"]) * int(cfg["channels"])
        step, row_step = self.networks["step"], self.networks["row_step"]
        pixels = np.zeros((n, H + 2 * P, W + 2 * P), np.float32)
        above_h = np.zeros((n, W, LC), np.float32)  # the left-to-right h of the row above
        shifted = np.zeros((n, W, LC), np.float32)  # the right-to-left h of the row above
        for i in range(H):
            inputs = np.zeros((n, W, LC), np.float32)
            row_h = np.zeros((n, W, LC), np.float32)
            left_h = np.zeros((n, LC), np.float32)
            left_c = np.zeros((n, LC), np.float32)
            for j in range(W):
                res = step(pixels[:, i : i + K, j : j + K], left_h, left_c, above_h[:, j], shifted[:, j])
                inputs[:, j], row_h[:, j] = res["input"], res["h"]
                left_h, left_c = res["h"], res["c"]
                pixels[:, i + P, j + P] = choose(i, j, res["logit"])
            shifted = row_step(pixels[:, i : i + P + 1], inputs, shifted)["h"]
            above_h = row_h
            if on_row:
                on_row(i, out)


class GatedPixelCNN(Autoregressive):
    """Class-conditional: p(x | y) given labels; without, log_prob is of p(x) with the class summed out."""

    def class_log_probs(self, x: np.ndarray) -> np.ndarray:
        """log p(x | y) for every class y: (N, num_classes), nats."""
        x = as_batch(x, self.image_size)
        per_class = [-self.pixel_nll(x, np.full(len(x), y)).reshape(len(x), -1).sum(1) for y in range(self.num_classes)]
        return np.stack(per_class, 1)

    def log_prob(self, x: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """log p(x | y) with labels; without, the exact marginal log (1/K) sum_y p(x | y)."""
        if labels is not None:
            return super().log_prob(x, labels)
        return logsumexp(self.class_log_probs(x), axis=1) - math.log(self.num_classes)

    def _sample_fast(self, n, labels, choose, on_row, out, todo) -> None:
        cfg = self.card.config
        H = W = self.image_size
        C = int(cfg["channels"])
        k0, k = int(cfg["first_kernel"]), int(cfg["kernel"])
        kh0, kh = k0 // 2 + 1, k // 2 + 1
        dilations = [1] + [int(d) for d in cfg["dilations"]]
        L = len(dilations)
        y = self.one_hot(labels, n)
        row_step, pixel_step = self.networks["row_step"], self.networks["pixel_step"]
        pad = max(dilations) * max(k, k0)  # padding of the image: room for any window
        image = np.zeros((n, H + pad, W + 2 * pad), np.float32)  # rows and columns offset pad
        # every layer's vertical output, unpadded (a read above the image is a zero): padded like the image, 6 layers
        # of it took 27 MB per image, 1.7 GB for Sample's 64
        v_out = [np.zeros((n, C, H, W), np.float32) for _ in range(L)]
        v_above = np.zeros((n, W, L * 2 * C), np.float32)  # every layer's v_pre of the row above
        h_in = [np.zeros((n, W + pad, C), np.float32) for _ in range(L)]  # this row, columns offset pad
        for i in range(H):
            for h in h_in:
                h[:] = 0
            for j in range(W):
                windows = [
                    h_in[layer][:, pad + j - dilations[layer] * (kh - 1) : pad + j : dilations[layer]]
                    for layer in range(1, L)
                ]
                res = pixel_step(
                    image[:, pad + i, pad + j - (kh0 - 1) : pad + j + 1],
                    y,
                    v_above[:, j],
                    np.concatenate(windows, axis=1).reshape(n, -1),
                )
                for layer, h in enumerate(np.split(res["h"], L - 1, axis=1), start=1):
                    h_in[layer][:, pad + j] = h
                image[:, pad + i, pad + j] = choose(i, j, res["logit"])
            # row i is finished: the vertical stack of every layer at row i, once
            side0 = k0 // 2
            v_rows = []
            for layer in range(1, L):
                d, side = dilations[layer], dilations[layer] * (k // 2)
                window = np.zeros((n, C, kh - 1, W + 2 * side), np.float32)  # the rows d * t above, padded by side
                for r, t in enumerate(range(kh - 1, 0, -1)):
                    if i - d * t >= 0:
                        window[:, :, r, side : side + W] = v_out[layer - 1][:, :, i - d * t]
                v_rows.append(window)
            res = row_step(image[:, pad + i - (kh0 - 1) : pad + i + 1, pad - side0 : pad + W + side0], y, *v_rows)
            for layer in range(L):
                v_out[layer][:, :, i] = res[f"v_out_{layer}"]
            v_above = res["v_pre"]
            if on_row:
                on_row(i, out)
