"""The multi-scale PixelCNN on the app side: coarse to fine, each level's new pixels in three groups.

The order of the chain rule here is not raster order: first the 7 x 7 image x[::4, ::4]
pixel by pixel (its own PixelCNN++), then for 14 x 14 and 28 x 28 the new pixels in three
groups, (even row, odd column), (odd, even), (odd, odd), each group drawn at once given
everything before it. So ``outputs`` still gives every pixel's distribution given the pixels
before it (in this order) from one pass of the networks (one call each), and likelihood,
the per-pixel map, the One pixel page and completion work as for any 8-bit chain-rule
model; only the sampler differs: 49 + 3 + 3 = 55 sequential steps.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from inference.base import as_batch
from inference.pixelcnn_pp import PixelCNNPP

LATTICES = ((0, 0), (0, 1), (1, 0), (1, 1))  # as in training: (0, 0) is the level below, then groups 1, 2, 3
GROUP_NAMES = {1: "even rows, odd columns", 2: "odd rows, even columns", 3: "odd rows, odd columns"}

# on_step(what, done, total, preview) after each base row and each group: ``preview`` (n, H, W) shows the pixels
# drawn so far, each one not drawn yet taking its nearest coarser pixel (the image at the current level's resolution)
StepCallback = Callable[[str, int, int, np.ndarray], None]


def coarse_preview(images: np.ndarray, drawn: np.ndarray, pending: float = 0.3) -> np.ndarray:
    """(n, H, W) images with (H, W) bool ``drawn``: every pixel not drawn yet takes the value of its parent on the
    next coarser lattice that is drawn (a nearest-neighbour upscaling of the level so far); flat gray if none."""
    shown = np.where(drawn, images, np.float32(pending)).astype(np.float32)
    H, W = drawn.shape
    rows, cols = np.arange(H)[:, None], np.arange(W)[None, :]
    for stride in (2, 4):
        parent_i, parent_j = (rows // stride) * stride, (cols // stride) * stride
        parent_i, parent_j = np.broadcast_arrays(parent_i, parent_j)
        take = ~drawn & drawn[parent_i, parent_j]
        shown[:, take] = images[:, parent_i[take], parent_j[take]]
        drawn = drawn | take
    return shown


class MultiscalePixelCNN(PixelCNNPP):
    pixel_order = "multiscale"

    @property
    def likelihood(self) -> str:
        return "logistic_mixture"

    @property
    def sizes(self) -> list[int]:
        """The levels' sides, coarse to fine: 7, 14, 28."""
        sizes = [int(self.card.config["base_size"]) or self.image_size // 4]
        while sizes[-1] < self.image_size:
            sizes.append(2 * sizes[-1])
        return sizes

    @property
    def sequential_steps(self) -> int:
        """Network calls one after another to draw an image: each base pixel, then one per group per level."""
        return self.sizes[0] ** 2 + 3 * (len(self.sizes) - 1)

    @property
    def fast_sampler(self) -> str:  # type: ignore[override]
        base = self.sizes[0]
        return (
            f"coarse to fine, {self.sequential_steps} sequential steps ({base} x {base} pixel by pixel, then 3 groups "
            "per level)"
        )

    def positions(self, level: int, group: int) -> tuple[slice, slice]:
        """Where a level's group lies in the full image: (rows, columns) slices. Level 0 is the base (group 0)."""
        stride = self.image_size // self.sizes[level]
        a, b = LATTICES[group]
        if level == 0:
            return slice(0, None, stride), slice(0, None, stride)
        return slice(a * stride, None, 2 * stride), slice(b * stride, None, 2 * stride)

    def order_rank(self) -> np.ndarray:
        """(H, W) int: each pixel's step in the sampling order (0..54); pixels of one group share a step."""
        H = self.image_size
        rank = np.full((H, H), -1, np.int64)
        base = self.sizes[0]
        rows, cols = self.positions(0, 0)
        rank[rows, cols] = np.arange(base * base).reshape(base, base)
        for level in range(1, len(self.sizes)):
            for group in (1, 2, 3):
                rows, cols = self.positions(level, group)
                rank[rows, cols] = base * base + 3 * (level - 1) + group - 1
        return rank

    def seen_before(self, i: int, j: int) -> np.ndarray:
        """(H, W) bool: the pixels pixel (i, j)'s distribution is conditioned on (those drawn at earlier steps)."""
        rank = self.order_rank()
        return rank < rank[i, j]

    def describe_position(self, i: int, j: int) -> str:
        """Where pixel (i, j) comes in the order, in words."""
        rank = int(self.order_rank()[i, j])
        base = self.sizes[0]
        if rank < base * base:
            return f"pixel {rank + 1} of the {base} x {base} base, drawn one at a time"
        level, group = divmod(rank - base * base, 3)
        size = self.sizes[level + 1]
        return f"group {group + 1} of 3 of the {size} x {size} level ({GROUP_NAMES[group + 1]}), drawn all at once"

    def _lattices(self, x: np.ndarray, level: int) -> np.ndarray:
        """(n, H, W) images -> the level's four interleaved lattices, (n, 4, s, s) with s half the level's side."""
        stride = self.image_size // self.sizes[level]
        fine = x[:, ::stride, ::stride]
        return np.stack([fine[:, a::2, b::2] for a, b in LATTICES], axis=1).astype(np.float32)

    def _group_params(self, x: np.ndarray, level: int, stages: list[int]) -> np.ndarray:
        """The upsampler of ``level`` on images x (n, H, W) for the given stages, batched: (len(stages), n, s, s, P)."""
        parts = self._lattices(x, level)
        n = len(x)
        stage = np.repeat(np.eye(3, dtype=np.float32)[[g - 1 for g in stages]], n, axis=0)
        params = self.networks[f"upsample_{self.sizes[level]}"](np.concatenate([parts] * len(stages)), stage)["params"]
        return params.reshape(len(stages), n, *params.shape[1:]).transpose(0, 1, 3, 4, 2)

    # ---- one pass: every pixel's distribution given the pixels before it in this order -----------------------
    def outputs(self, x: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """(N, H, W) intensities -> (N, H, W, P): every pixel's mixture parameters given the pixels before it in the
        coarse-to-fine order; one call of each network."""
        self.class_labels(labels, 1)
        x = as_batch(x, self.image_size)[:, 0]
        n, H = len(x), self.image_size
        base = self.networks["base"](x[:, None, ::4, ::4].copy())["params"].transpose(0, 2, 3, 1)  # (n, 7, 7, P)
        out = np.zeros((n, H, H, base.shape[-1]), np.float32)
        rows, cols = self.positions(0, 0)
        out[:, rows, cols] = base
        for level in range(1, len(self.sizes)):
            params = self._group_params(x, level, [1, 2, 3])
            for group in (1, 2, 3):
                rows, cols = self.positions(level, group)
                out[:, rows, cols] = params[group - 1]
        return out

    # ---- sampling ----------------------------------------------------------------------------------------------
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
        on_step: StepCallback | None = None,
        record_logits: bool = False,
    ):
        """n images (n, H, W), intensities in [0, 1], coarse to fine: the base pixel by pixel, then each group at once.

        The uniforms come from the seed, one per pixel, so a seed gives the same images. ``known`` and ``known_mask``
        fix pixels (completion): they are taken, not drawn, and later steps condition on them. There is one sampler
        (``method`` "fast"); ``on_step`` is called as each base row and each group is done."""
        if method != "fast":
            raise ValueError(f"the multi-scale model has one sampler, 'fast' ({self.sequential_steps} steps)")
        self.class_labels(labels, n)
        H = self.image_size
        uniforms, known, known_mask = self._draw_inputs(n, seed, temperature, known, known_mask)
        out = np.zeros((n, H, H), np.float32)
        drawn = np.zeros((H, H), bool)
        used = np.zeros((n, H, H, 3 * self.mixtures), np.float32)
        total = self.sizes[0] + 3 * (len(self.sizes) - 1)  # progress steps: base rows, then groups
        done = 0

        def kept(rows, cols) -> bool:
            """Every image keeps these pixels: the stateless networks need not run for them (unless recording)."""
            if record_logits or not known_mask[:, rows, cols].all():
                return False
            out[:, rows, cols] = known[:, rows, cols]
            drawn[rows, cols] = True
            return True

        def take(rows, cols, params: np.ndarray) -> None:
            """Draw the pixels at (rows, cols) of every image from params (n, r, c, P), keeping known ones."""
            shape = out[:, rows, cols].shape
            flat = params.reshape(-1, params.shape[-1])
            value = self.draw(flat, uniforms[:, rows, cols].reshape(-1), temperature).reshape(shape)
            out[:, rows, cols] = np.where(known_mask[:, rows, cols], known[:, rows, cols], value)
            used[:, rows, cols] = params
            drawn[rows, cols] = True

        base = self.sizes[0]
        stride = H // base
        for a in range(base):
            for b in range(base):
                if not kept(a * stride, b * stride):
                    params = self.networks["base"](out[:, None, ::stride, ::stride].copy())["params"][:, :, a, b]
                    take(a * stride, b * stride, params)
            done += 1
            if on_step:
                on_step(f"{base} x {base} base, row {a + 1} of {base}", done, total, coarse_preview(out, drawn))
        for level in range(1, len(self.sizes)):
            size = self.sizes[level]
            for group in (1, 2, 3):
                rows, cols = self.positions(level, group)
                if not kept(rows, cols):
                    take(rows, cols, self._group_params(out, level, [group])[0])
                done += 1
                if on_step:
                    what = f"{size} x {size}, group {group} of 3 ({GROUP_NAMES[group]})"
                    on_step(what, done, total, coarse_preview(out, drawn))
        return (out, used) if record_logits else out
