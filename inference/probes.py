"""Out-of-distribution probes for the image likelihood models: inputs that are not digits, or
digits changed in ways the training data never were."""

from __future__ import annotations

import numpy as np


def probes(digit: np.ndarray, seed: int = 0, kind: str = "binary") -> dict[str, np.ndarray]:
    """(28, 28) probe images built from one test digit, of the digit's kind: binary, or 8-bit ("grayscale": 256
    levels / 255, where the noise is uniform over the levels)."""
    rng = np.random.default_rng(seed)
    digit = np.asarray(digit, np.float32)
    shifted = np.zeros_like(digit)
    shifted[:, 7:] = digit[:, :-7]  # 7 pixels to the right, cut at the edge
    if kind == "binary":
        noise = (rng.random(digit.shape) < 0.5).astype(np.float32)
        noise_name = "noise, p = 0.5"
    else:
        noise = (rng.integers(0, 256, digit.shape) / 255).astype(np.float32)
        noise_name = "noise, uniform levels"
    return {
        "blank (all black)": np.zeros_like(digit),
        noise_name: noise,
        "sparse noise, p = 0.05": (rng.random(digit.shape) < 0.05).astype(np.float32),
        "inverted digit": 1.0 - digit,
        "shifted digit (7 px)": shifted,
        "rotated digit (90°)": np.rot90(digit).copy(),
        "the digit itself": digit,
    }
