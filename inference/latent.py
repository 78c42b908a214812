"""Latent codes: random draws and paths between two codes."""

from __future__ import annotations

import numpy as np


def lerp(z0: np.ndarray, z1: np.ndarray, t: np.ndarray) -> np.ndarray:
    t = np.asarray(t, dtype=np.float64)[:, None]
    return ((1 - t) * z0 + t * z1).astype(np.float32)


def slerp(z0: np.ndarray, z1: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation (Shoemake 1985; White 2016 for generative models).

    Under a Gaussian prior most mass lies near a sphere of radius sqrt(D); the straight
    line between two codes cuts through the low-norm interior, which the decoder rarely
    saw. Slerp follows the great circle and interpolates the norm linearly.
    """
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    t = np.asarray(t, dtype=np.float64)[:, None]
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    if n0 < 1e-8 or n1 < 1e-8:
        return lerp(z0, z1, t[:, 0])
    cos = np.clip(np.dot(z0 / n0, z1 / n1), -1.0, 1.0)
    omega = np.arccos(cos)
    if omega < 1e-6:  # (anti)parallel directions: fall back to the straight line
        return lerp(z0, z1, t[:, 0])
    direction = (np.sin((1 - t) * omega) * z0 / n0 + np.sin(t * omega) * z1 / n1) / np.sin(omega)
    norm = (1 - t) * n0 + t * n1
    return (direction * norm).astype(np.float32)


def interpolate(z0: np.ndarray, z1: np.ndarray, steps: int, kind: str = "linear") -> np.ndarray:
    """``steps`` codes from z0 to z1 inclusive, shape (steps, D); kind is "linear" or "slerp"."""
    if steps < 2:
        raise ValueError(f"steps must be at least 2, got {steps}")
    t = np.linspace(0.0, 1.0, steps)
    if kind == "linear":
        return lerp(z0, z1, t)
    if kind == "slerp":
        return slerp(z0, z1, t)
    raise ValueError(f"kind must be 'linear' or 'slerp', got {kind!r}")
