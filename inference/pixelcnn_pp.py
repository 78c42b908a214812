"""Autoregressive models of 8-bit pixels on the app side: PixelCNN++ and its 256-way softmax twin.

Each pixel's conditional is a distribution over the 256 values 0..255: a discretized mixture
of logistics (PixelCNN++: 3K numbers per pixel) or a softmax (256 logits). Images go in and
come out as intensities in [0, 1], multiples of 1/255, like the 8-bit test split.

The fast sampler caches by row: the network's context stream (everything above a row) runs
once per row, the cheap row stream once per pixel, on that row alone (28 + 784 calls of a
fraction of the network, where the naive sampler makes 784 full passes), and each call on
no more of the image than the pixel depends on.
"""

from __future__ import annotations

import numpy as np

from inference.autoregressive import Autoregressive
from inference.base import as_batch
from inference.numeric import logsumexp

LEVELS = 256


def _log_sigmoid(z: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -z)


def _log_softmax(a: np.ndarray, axis: int = -1) -> np.ndarray:
    return a - np.expand_dims(logsumexp(a, axis=axis), axis)


def _mixture_parts(params: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(M, 3K) -> mixture logits, means and inverse scales, (M, K, 1) each (the scale floored at e^-7, as in
    training)."""
    params = np.asarray(params, np.float64)
    K = params.shape[-1] // 3
    log_scale = np.maximum(params[:, 2 * K :, None], -7.0)
    return params[:, :K, None], params[:, K : 2 * K, None], np.exp(-log_scale)


def logistic_mixture_log_mass(params: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """log P(v) under a discretized mixture of K logistics, nats: params (M, 3K), levels (M, L) or (L,) -> (M, L).

    Value v is the bin [x - 1/255, x + 1/255] around x = 2v/255 - 1 (the edge values take the tails); a bin's
    mass sigmoid(a) - sigmoid(b) is taken as sigmoid(a) sigmoid(-b) (1 - exp(b - a)) in logs, as in training."""
    logit_pi, mean, inv_s = _mixture_parts(params)
    levels = np.broadcast_to(np.asarray(levels), (len(params), np.shape(levels)[-1]))[:, None, :]  # (M, 1, L)
    upper = inv_s * ((2 * levels + 1) / (LEVELS - 1) - 1 - mean)  # level v's upper edge is v+1's lower edge
    lower = inv_s * ((2 * levels - 1) / (LEVELS - 1) - 1 - mean)
    with np.errstate(divide="ignore"):
        log_mid = _log_sigmoid(upper) + _log_sigmoid(-lower) + np.log(-np.expm1(-2 / (LEVELS - 1) * inv_s))
    log_mass = np.where(levels == 0, _log_sigmoid(upper), np.where(levels == LEVELS - 1, _log_sigmoid(-lower), log_mid))
    return logsumexp(log_mass + _log_softmax(logit_pi, axis=1), axis=1)


class PixelCNNPP(Autoregressive):
    """An 8-bit autoregressive model; its card's config says the output: "logistic_mixture" or "softmax"."""

    image_kind = "grayscale"
    sample_kind = "grayscale"
    fast_sampler = "fast (row cache: the context once per row, the row stream once per pixel)"
    windows = True  # each fast-sampler call on what its pixel depends on (False: whole images and rows, to compare)

    @property
    def likelihood(self) -> str:
        return str(self.card.config["likelihood"])

    @property
    def mixtures(self) -> int:
        return int(self.card.config["mixtures"]) if self.likelihood == "logistic_mixture" else 0

    # ---- one pass: every pixel's distribution -------------------------------------------
    def outputs(self, x: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """(N, H, W) intensities -> (N, H, W, P): every pixel's distribution parameters given the pixels before it."""
        self.class_labels(labels, 1)
        return self.networks["full"](as_batch(x, self.image_size))["params"].transpose(0, 2, 3, 1)

    def log_mass(self, params: np.ndarray, levels: np.ndarray) -> np.ndarray:
        """log P(v), nats: params (M, P), levels (M, L) or (L,) -> (M, L)."""
        if self.likelihood == "softmax":
            log_p = _log_softmax(np.asarray(params, np.float64), axis=-1)
            return np.take_along_axis(
                log_p, np.broadcast_to(np.asarray(levels), (len(params), np.shape(levels)[-1])), 1
            )
        return logistic_mixture_log_mass(params, levels)

    def distribution(self, params: np.ndarray) -> np.ndarray:
        """(M, P) parameters -> (M, 256) probabilities of the values 0..255."""
        return np.exp(self.log_mass(params, np.arange(LEVELS)))

    @staticmethod
    def levels_of(x: np.ndarray) -> np.ndarray:
        return np.rint(np.clip(np.asarray(x, np.float64), 0, 1) * (LEVELS - 1)).astype(np.int64)

    def pixel_nll(self, x: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """Per-pixel -log p(x_i | x_<i) in nats, (N, H, W), on 8-bit intensities in [0, 1]."""
        x = as_batch(x, self.image_size)[:, 0]
        params = self.outputs(x, labels)
        N, H, W, P = params.shape
        nll = -self.log_mass(params.reshape(-1, P), self.levels_of(x).reshape(-1, 1))
        return nll.reshape(N, H, W).astype(np.float32)

    def pixel_prediction(self, x: np.ndarray, i: int, j: int) -> dict:
        """What the model predicts for pixel (i, j) of an image (H, W) given the pixels before it in raster order:
        ``probs`` (256,), and for a mixture each component's ``weights`` (K,), ``means`` and ``scales`` on the
        0..255 scale and ``components`` (K, 256), each component's weighted mass per value."""
        params = self.outputs(np.asarray(x, np.float32)[None])[0, i, j][None]  # (1, P)
        out = {"probs": self.distribution(params)[0]}
        if self.likelihood == "logistic_mixture":
            K = self.mixtures
            weights = np.exp(_log_softmax(params[:, :K].astype(np.float64)))[0]
            half = (LEVELS - 1) / 2  # [-1, 1] -> [0, 255]
            alone = np.stack([np.zeros(K), params[0, K : 2 * K], params[0, 2 * K :]], 1)  # (K, 3): one logistic each
            components = np.exp(logistic_mixture_log_mass(alone, np.arange(LEVELS)))  # (K, 256)
            out |= {
                "weights": weights,
                "means": (params[0, K : 2 * K] + 1) * half,
                "scales": np.exp(np.maximum(params[0, 2 * K :], -7.0)) * half,
                "components": weights[:, None] * components,
            }
        return out

    def most_uncertain_pixel(self, x: np.ndarray) -> tuple[int, int]:
        """(row, column) of the pixel whose predicted distribution, given the pixels before it, has the most
        entropy, for one image (H, W)."""
        params = self.outputs(np.asarray(x, np.float32)[None])[0]  # (H, W, P)
        p = self.distribution(params.reshape(-1, params.shape[-1]))
        entropy = -(p * np.log(np.maximum(p, 1e-300))).sum(1)
        i, j = divmod(int(np.argmax(entropy)), self.image_size)
        return i, j

    # ---- sampling ---------------------------------------------------------------------
    def draw(self, params: np.ndarray, uniforms: np.ndarray, temperature: float) -> np.ndarray:
        """One value per image by inverse CDF of the 256-way distribution, sharpened to p^(1/T) (renormalized)
        at temperature T: (B, P), (B,) -> (B,) intensities in [0, 1]."""
        if temperature == 1.0 and self.likelihood == "logistic_mixture":
            cdf = self._mixture_cdf(params)  # at temperature 1 the mixture's CDF is direct: sigmoids, no logs
        else:
            log_p = self.log_mass(params, np.arange(LEVELS)) / temperature
            cdf = np.cumsum(np.exp(_log_softmax(log_p)), axis=-1)[:, :-1]
        value = (cdf < uniforms[:, None]).sum(-1)  # the level whose bin holds u
        return (value / (LEVELS - 1)).astype(np.float32)

    @staticmethod
    def _mixture_cdf(params: np.ndarray) -> np.ndarray:
        """P(v <= level) for the levels 0..254 under the mixture, (M, 3K) -> (M, 255): the logistics' CDFs at each
        bin's upper edge, weighted; the same bins as :func:`logistic_mixture_log_mass`."""
        logit_pi, mean, inv_s = _mixture_parts(params)
        weights = np.exp(_log_softmax(logit_pi, axis=1))
        upper = (2 * np.arange(LEVELS - 1) + 1) / (LEVELS - 1) - 1
        return (weights * 0.5 * (1 + np.tanh(0.5 * inv_s * (upper - mean)))).sum(1)

    def _windowed(self, role: str, axis: int) -> bool:
        """Whether the sampler reads a part of this axis: if asked to, and the network's first input was exported with
        the axis dynamic (older exports fixed it at 28)."""
        return self.windows and isinstance(self.card.networks[role].inputs[0].shape[axis], str)

    def _sample_fast(self, n, labels, choose, on_row, out, todo) -> None:
        # No state is carried from pixel to pixel (both streams read the image so far), so a completion skips the
        # pixels every image keeps: a row with nothing to draw costs no call, a kept pixel no row-stream call.
        # Each call also reads only what the pixel depends on: the context of row i from the rows down to i (padded
        # to a height that halves down to the coarsest level), the row stream from the window of columns it reaches
        # (training/models/pixelcnn_pp.py: row_reach), about half the work of whole images and whole rows.
        context, pixel_step = self.networks["context"], self.networks["pixel_step"]
        S, cfg = self.image_size, self.card.config
        step = 2 ** (len(cfg["blocks"]) - 1) if self._windowed("context", 2) else S
        reach = int(cfg["first_width"]) + 4 * int(cfg["row_blocks"]) if self._windowed("pixel_step", 3) else None
        for i in range(S):
            if todo[i].any():
                rows = min(S, -(-(i + 1) // step) * step)
                row_context = context(out[:, None, :rows])["context"][:, :, i : i + 1]  # (n, C, 1, W)
            for j in range(S):
                if todo[i, j]:
                    lo, hi = (max(0, j - reach), j + 1) if reach is not None else (0, S)
                    params = pixel_step(out[:, None, i : i + 1, lo:hi], row_context[..., lo:hi])["params"]
                    choose(i, j, params[:, :, 0, j - lo])
                else:
                    choose(i, j, None)
            if on_row:
                on_row(i, out)
